"""The role map (ecvet/partnership/roles.py) confirmed by every party and used to route the MoU draft."""
from __future__ import annotations

from typing import Any

import pytest

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.documents import mou as mou_document
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import mou, roles
from ecvet.partnership.models import Mou, RoleMapFunction
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.parties import Actor
from tests.support.ecvet_factories import make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import start


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def test_the_draft_takes_who_does_what_from_the_role_map_where_left_open(db: Database, admin: Actor) -> None:
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    other = make_party(db, "DE", "Another chamber")
    register(db, other.org_id, "DE")  # two registered: the role map says which one approves
    p.build()
    holders = {f: {"home": {"organisation_id": p.sender.org_id}, "host": {"organisation_id": p.host.org_id}}
               for f in CompetenceFunction.ALL}
    holders[CompetenceFunction.MOU_APPROVAL]["home"] = {"organisation_id": p.ci_home.org_id}
    holders[CompetenceFunction.RECOGNITION]["home"] = {"organisation_id": p.ci_home.org_id}
    with db.transaction() as s:
        roles.save(s, actor=p.sender.actor, partnership=p.partnership(), functions=holders)
    content = p.content()
    content["arrangements"]["recognition"] = {"how": "Units awarded at home"}  # who: left open
    content["arrangements"]["assessment"]["organisation_ids"] = [p.host.org_id]
    p.complete("sending", "draft_mou", content)
    with db.transaction(write=False) as s:
        text = mou.current_version(s.get_one(Mou, p.partnership().mou_id)).content
    assert text["arrangements"]["recognition"]["organisation_ids"] == [p.ci_home.org_id], "from the role map"
    assert text["arrangements"]["assessment"]["organisation_ids"] == [p.host.org_id], "as the sender wrote it"
    assert text["competent_institutions"] == [{"organisation_id": p.ci_home.org_id}], "the map's, registered"


def test_every_party_confirms_the_current_map_once_signed_by_its_member(db: Database, admin: Actor) -> None:
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    outsider = make_party(db, "DE", "Outsider")
    pid = p.partnership().id
    with db.transaction(write=False) as s:
        role_map = roles.current(s, pid)
        assert role_map is not None
        parties = roles.confirming_parties(s, p.partnership())
    assert set(parties) == {p.sender.org_id, p.host.org_id, p.ci_home.org_id, p.ci_host.org_id}
    with db.transaction() as s, pytest.raises(Invalid) as missing:
        roles.confirm(s, actor=p.host.actor, partnership_id=pid, role_map_id=role_map.id, jurisdiction=" ")
    assert "jurisdiction" in missing.value.errors
    with db.transaction() as s, pytest.raises(Conflict):
        roles.confirm(s, actor=p.host.actor, partnership_id=pid, role_map_id=role_map.id + 1, jurisdiction="x")
    with db.transaction() as s, pytest.raises(Forbidden):
        roles.confirm(s, actor=admin, partnership_id=pid, role_map_id=role_map.id, jurisdiction="x")
    with db.transaction() as s:
        row = roles.confirm(s, actor=p.host.actor, partnership_id=pid, role_map_id=role_map.id,
                            jurisdiction="Assessment in its kitchen", beyond="Recognition at home")
        assert (row.organisation_id, row.signer_user_id, row.beyond) == (p.host.org_id, p.host.user_id,
                                                                         "Recognition at home")
    with db.transaction() as s, pytest.raises(Conflict):
        roles.confirm(s, actor=p.host.actor, partnership_id=pid, role_map_id=role_map.id, jurisdiction="again")
    with db.transaction(write=False) as s:
        assert [c.organisation_id for c in roles.confirmations(s, role_map)] == [p.host.org_id]
    with db.transaction() as s, pytest.raises(NotFound):
        roles.confirm(s, actor=outsider.actor, partnership_id=pid, role_map_id=role_map.id, jurisdiction="x")
    # A new mapping needs new confirmations.
    with db.transaction() as s:
        renewed = roles.save(s, actor=p.sender.actor, partnership=p.partnership(), functions={
            f: {"home": {"organisation_name": "Sending school"}, "host": {"organisation_id": p.host.org_id}}
            for f in CompetenceFunction.ALL})
        assert roles.confirmations(s, renewed) == []


def test_the_map_may_say_who_defines_outcomes_and_designs_units_and_the_mou_prints_it(
        db: Database, admin: Actor) -> None:
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    holders: dict[str, Any] = {f: {"home": {"organisation_id": p.sender.org_id},
                                   "host": {"organisation_id": p.host.org_id}} for f in CompetenceFunction.ALL}
    holders[RoleMapFunction.LEARNING_OUTCOMES] = {"home": {"organisation_id": p.ci_home.org_id},
                                                  "host": {"organisation_name": "Ministry of Education (NL)"}}
    with db.transaction() as s:
        saved = roles.save(s, actor=p.sender.actor, partnership=p.partnership(), functions=holders)
        assert {e.function for e in saved.entries} == {*CompetenceFunction.ALL, RoleMapFunction.LEARNING_OUTCOMES}
    with db.transaction() as s, pytest.raises(Invalid) as refused:
        roles.save(s, actor=p.sender.actor, partnership=p.partnership(), functions={**holders, "catering": {}})
    assert "ecvet_roles.catering" in refused.value.errors
    p.draft_and_submit()
    with db.transaction(write=False) as s:
        document = mou_document.build(s, p.sender.actor, p.partnership().mou_id or 0)
    (section,) = [x for x in document.sections if x.heading == "ECVET role map"]
    assert section.table is not None
    rows = {r[0]: r[1:] for r in section.table.rows}
    assert rows["Defining the learning outcomes"][1] == "Ministry of Education (NL)"
    assert "Designing the units" not in rows, "not mapped: not printed"
