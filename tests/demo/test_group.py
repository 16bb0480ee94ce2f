"""The demo's group mobility (demo/group.py): two learners under the Köln–València MoU with an intermediary
and an accompanying teacher; one text, each learner's own signature on their copy, the school's on both,
and the intermediary's two signatures waiting; a second run adds nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from demo import group, seed
from ecvet.mobility import groups, learning_agreement, service
from ecvet.mobility.models import LaSignature, Mobility, MobilityGroup
from engine.db import Database
from engine.models import Organisation, User
from engine.parties import Actor


def _actor(db: Database, email: str) -> Actor:
    with db.transaction(write=False) as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None, email
        return Actor.of(user)


def test_the_group_waits_for_its_intermediary_and_a_second_run_adds_nothing(db: Database) -> None:
    seed.seed(db)
    agency = _actor(db, "placement@europraktikum.example")
    with db.transaction(write=False) as s:
        found = s.scalar(select(MobilityGroup).where(MobilityGroup.name == group.GROUP_NAME))
        assert found is not None
        shown = groups.view(s, actor=agency, group_id=found.id)
        assert [m["learner_name"] for m in shown["mobilities"]] == ["Mia Schulz", "Ben Wagner"]
        assert [(t["bpmn_id"], len(t["task_ids"])) for t in shown["my_tasks"]] == [("sign_intermediary", 2)]
        assert shown["accompanying_persons"] == group.ACCOMPANYING
        mobilities = list(s.scalars(select(Mobility).where(Mobility.group_id == found.id)))
        agreements = [service.current_agreement(s, m) for m in mobilities]
        hashes = {learning_agreement.current_version(s, la).content_hash for la in agreements if la is not None}
        assert len(hashes) == 1, "one text for the group"
        signed = sorted(s.execute(select(LaSignature.party, LaSignature.la_id)).all())
        mine = [(party, la_id) for party, la_id in signed if la_id in {la.id for la in agreements if la}]
        assert sorted(p for p, _ in mine) == ["learner", "learner", "sending", "sending"]
        agency_id = s.scalar(select(Organisation.id).where(Organisation.name == "EuroPraktikum Rheinland gGmbH"))
        assert {m.intermediary_organisation_id for m in mobilities} == {agency_id}
        # The intermediary sees its mobilities only, not Lea's or Jonas's.
        assert {m.id for m in service.list_for(s, actor=agency).items} == {m.id for m in mobilities}
        before = s.scalar(select(func.count(Mobility.id)))
    seed.seed(db)
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Mobility.id))) == before
        assert s.scalar(select(func.count(MobilityGroup.id))) == 1
