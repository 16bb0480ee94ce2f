"""The award of a whole qualification once all its units are recognised: by the recognising institution
only, signed, printed on the recognition, exported as an ELM credential (with ESCO skills) beside the
unit credentials; refused while a unit is missing and for anyone else."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ecvet.documents import recognition as recognition_document
from ecvet.mobility import credentials, qualification_award, seal
from ecvet.mobility.models import Mobility
from ecvet.qualification import service as qualifications
from ecvet.qualification.models import QualificationAward
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import make_party
from tests.support.ecvet_worlds import CZECH_SCHOOL, LifecycleWorld, make_lifecycle_world
from tests.support.engine import actor_for
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
ESCO = "http://data.europa.eu/esco/skill/6e0c2f3b-7f1b-4d2a-9c55-3a1d5a0f9b21"


def register(db: Database, units: tuple[str, ...] = ("U1", "U2"), **extra: Any) -> int:
    with db.transaction() as s:
        return qualifications.register(s, actor=None, title="Cook", country="CZ", eqf_level=4, nqf_level="4",
                                       ecvet_points=30, units=[
            {"code": code, "title": f"Unit {code}", "learning_outcomes": [
                {"kind": "skills", "text": f"Outcome of {code}", **({"esco_skill": ESCO} if code == "U1" else {})}]}
            for code in units], **extra).id


def learner_of(db: Database, life: LifecycleWorld) -> int:
    with db.transaction(write=False) as s:
        return s.get_one(Mobility, life.mobility_id).learner_id


def award(db: Database, actor: Any, learner_id: int, qualification_id: Any, **extra: Any) -> QualificationAward:
    with db.transaction() as s:
        row = qualification_award.award(s, actor=actor, learner_id=learner_id, qualification_id=qualification_id,
                                        **extra)
        s.expunge(row)
        return row


def count(db: Database) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(QualificationAward.id))) or 0


def test_the_recognising_school_awards_the_qualification_once_every_unit_is_recognised(
    db: Database, frozen: FrozenClock
) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    learner_id = learner_of(db, life)
    qualification_id = register(db)
    row = award(db, life.sending.actor, learner_id, qualification_id, comment="Final exam passed at home",
                signer={"place": "Brno"})
    assert (row.qualification_title, row.eqf_level, row.ecvet_points, row.mobility_ids) == (
        "Cook", 4, 30.0, [life.mobility_id])
    assert (row.organisation_id, row.signer_user_id, row.signer_place) == (
        life.sending.org_id, life.sending.user_id, "Brno")
    assert len(row.credit_award_ids) == 2
    with pytest.raises(Conflict):  # once
        award(db, life.sending.actor, learner_id, qualification_id)
    with db.transaction() as s:
        assert [a["id"] for a in qualification_award.for_learner(s, actor=life.learner, learner_id=learner_id)] == [
            row.id]
        document = recognition_document.build(s, life.sending.actor, life.recognition_id or 0)
        issued = credentials.for_learner(s, actor=life.learner, learner_id=learner_id)
        signed = seal.for_learner(s, actor=life.learner, learner_id=learner_id, secret="test secret")
    section = next(x for x in document.sections if x.heading == "Qualification awarded")
    assert dict(section.fields)["Qualification"] == "Cook"
    assert any(sig.party == f"Qualification awarded: {CZECH_SCHOOL} (CZ)" and sig.place == "Brno"
               for sig in document.signatures)
    # Beside the two unit credentials, the qualification's, naming its units and the ESCO skill.
    assert len(issued) == 3
    whole = issued[2]
    assert credentials.problems(whole) == []
    claim = whole["credentialSubject"]["hasClaim"][0]
    assert claim["specifiedBy"]["type"] == "Qualification"
    assert claim["specifiedBy"]["creditPoint"][0]["point"] == "30"
    assert [p["id"] for p in claim["hasPart"]] == [c["credentialSubject"]["hasClaim"][0]["id"] for c in issued[:2]]
    assert claim["specifiedBy"]["learningOutcome"][0]["relatedESCOSkill"][0]["id"] == ESCO
    assert claim["wasInfluencedBy"][0]["id"].endswith(f"mobility:{life.mobility_id}")
    assert seal.verify(signed[2]).valid


def test_no_award_while_a_unit_is_missing_or_for_anyone_else(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    learner_id = learner_of(db, life)
    bigger = register(db, ("U1", "U2", "U3"))
    with pytest.raises(Conflict) as missing:
        award(db, life.sending.actor, learner_id, bigger)
    assert "U3" in str(missing.value)
    with db.transaction() as s:  # the same title elsewhere: the registry knows it once per country
        other = qualifications.register(s, actor=None, title="Cook", country="AT", eqf_level=4,
                                        units=[{"code": "U1", "title": "Unit U1"}]).id
    refusals: list[tuple[Any, Any, type[Exception]]] = [
        (life.hosting.actor, other, Forbidden),   # the host recognised nothing
        (life.learner, other, Forbidden),
        (life.outsider.actor, other, NotFound),   # does not see the learner
        (life.sending.actor, 999_999, Invalid),
    ]
    for actor, qualification_id, error in refusals:
        with pytest.raises(error):
            award(db, actor, learner_id, qualification_id)
    assert count(db) == 0


def test_the_registrys_awarding_body_awards_when_it_names_one(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    learner_id = learner_of(db, life)
    ministry = make_party(db, "CZ", "Ministry")
    with db.transaction() as s:
        qualification_id = qualifications.register(
            s, actor=None, title="Cook", country="CZ", eqf_level=4, awarding_organisation_id=ministry.org_id,
            units=[{"code": "U1", "title": "Unit U1"}, {"code": "U2", "title": "Unit U2"}]).id
    with pytest.raises(Forbidden):  # the school recognised the units, but the registry names the ministry
        award(db, life.sending.actor, learner_id, qualification_id)
    with pytest.raises(NotFound):  # and the ministry takes no part in the learner's mobilities
        award(db, ministry.actor, learner_id, qualification_id)
    colleague = actor_for(db, make_user(db, organisation_ids=[ministry.org_id, life.sending.org_id],
                                        position="Officer").id)
    assert award(db, colleague, learner_id, qualification_id).organisation_id == ministry.org_id


def test_an_esco_skill_must_be_an_esco_uri(db: Database) -> None:
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        qualifications.register(s, actor=None, title="Baker", country="CZ", eqf_level=4, units=[
            {"code": "B1", "title": "Bread", "learning_outcomes": [
                {"kind": "skills", "text": "Bakes bread", "esco_skill": "https://example.org/skill/1"}]}])
    assert "units.0.learning_outcomes.0.esco_skill" in refused.value.errors
