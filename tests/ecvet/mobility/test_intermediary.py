"""An intermediary organisation is a party of the mobilities it is named on: it signs their Learning
Agreement after the sending organisation (its own lane), is named in the signed text, and sees those
mobilities and nothing of the others."""
from __future__ import annotations

from datetime import date

import pytest

from ecvet.documents import service as documents
from ecvet.mobility import service, signatures
from ecvet.mobility.models import LaParty
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Forbidden, NotFound
from tests.support.ecvet_factories import make_party
from tests.support.mobility_driver import SIGNER, T0, start

__all__ = ["T0"]  # the frozen clock starts there


def test_the_intermediary_signs_after_the_school_and_sees_only_its_mobilities(db: Database,
                                                                               frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    agency = make_party(db, "NL", "Mobility agency Noord", member="Ines Agent")
    other_agency = make_party(db, "NL", "Another agency")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1), intermediary=agency)
    alone = sc.nominate("Sanne Bakker", date(2004, 6, 15))
    run.prepare()
    alone.prepare()
    named = run.la()["content"]["intermediary_organisation"]
    assert named["name"] == "Mobility agency Noord"
    assert "intermediary_organisation" not in alone.la()["content"]
    assert run.la()["required_signatures"] == ["learner", "sending", "intermediary", "hosting"]
    assert alone.la()["required_signatures"] == ["learner", "sending", "hosting"]

    run.sign("sign_learner", "learner")
    run.sign("sign_sending", "sending", SIGNER)
    la_id, digest = run.la()["id"], run.la()["content_hash"]
    # Nobody but the intermediary signs in its place: not another agency, not the hosting organisation.
    with pytest.raises(NotFound), db.transaction() as s:
        signatures.sign(s, actor=other_agency.actor, la_id=la_id, party=LaParty.INTERMEDIARY, content_hash=digest)
    with pytest.raises(Forbidden), db.transaction() as s:
        signatures.sign(s, actor=sc.hosting.actor, la_id=la_id, party=LaParty.INTERMEDIARY, content_hash=digest)
    run.sign("sign_intermediary", "intermediary", SIGNER)  # only in the intermediary's inbox (only_for)
    run.sign("sign_hosting", "hosting", {"position": "Company mentor"})
    assert run.la()["in_force"]
    signed = {s["party"]: s for s in run.la()["signatures"]}
    assert signed["intermediary"]["organisation_id"] == agency.org_id
    alone.parties_sign()
    assert "intermediary" not in alone.roles_with_tasks()

    with db.transaction(write=False) as s:
        assert service.get(s, actor=agency.actor, mobility_id=run.mobility_id).id == run.mobility_id
        assert [m.id for m in service.list_for(s, actor=agency.actor).items] == [run.mobility_id]
        document = documents.build(s, actor=agency.actor, kind="learning-agreement", record_id=la_id)
        rows = [tuple(row) for section in document.sections for row in section.fields]
        assert ("Intermediary organisation", "Mobility agency Noord") in rows
        for outsider, mobility_id in ((other_agency.actor, run.mobility_id), (agency.actor, alone.mobility_id)):
            with pytest.raises(NotFound):
                service.get(s, actor=outsider, mobility_id=mobility_id)
        assert service.list_for(s, actor=other_agency.actor).items == []
        with pytest.raises(NotFound):
            documents.build(s, actor=other_agency.actor, kind="learning-agreement", record_id=la_id)
        with pytest.raises(NotFound):
            documents.build(s, actor=agency.actor, kind="learning-agreement", record_id=alone.la()["id"])
