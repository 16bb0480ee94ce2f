"""ecvet.mobility.minimisation (with ecvet.mobility.service.personal_fields and the document builders): every
document shows only the personal fields its template asks for, so the date of birth is on the Learning
Agreement and on no other document or credential; a learner's record shows the date of birth and the
guardian's contact only to the readers whose part needs them."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from ecvet.documents import service as documents
from ecvet.mobility import credentials, minimisation
from ecvet.mobility.models import (
    AssessmentRecord,
    CreditAward,
    LearningAgreement,
    Mobility,
    PersonalTranscript,
    RecognitionDecision,
)
from ecvet.qualification.models import QualificationAward
from ecvet.review.models import ActionPlan, Evaluation, Review
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.support import mobility_driver
from tests.support.privacy_world import LEARNER_BORN, PrivacyWorld, make_privacy_world

T0 = mobility_driver.T0
BORN = LEARNER_BORN.isoformat()


@pytest.fixture
def world(db: Database, frozen: FrozenClock) -> PrivacyWorld:
    return make_privacy_world(db, frozen)


def record_ids(world: PrivacyWorld) -> dict[str, int]:
    mobility_id = world.run.mobility_id
    with world.sc.db.transaction(write=False) as s:
        review_id = s.scalar(select(Review.id).where(Review.mobility_id == mobility_id))
        mou_id = s.get_one(Mobility, mobility_id).mou_id
        found = {
            "mou": mou_id,
            "learning-agreement": s.scalar(select(LearningAgreement.id).where(
                LearningAgreement.mobility_id == mobility_id)),
            "assessment-sheet": s.scalar(select(AssessmentRecord.id).where(AssessmentRecord.mobility_id == mobility_id)
                                         .order_by(AssessmentRecord.id)),
            "transcript": s.scalar(select(PersonalTranscript.id).where(PersonalTranscript.mobility_id == mobility_id)),
            "recognition-record": s.scalar(select(RecognitionDecision.id).where(
                RecognitionDecision.mobility_id == mobility_id)),
            "evaluation": s.scalar(select(Evaluation.id).where(Evaluation.review_id == review_id,
                                                                Evaluation.party == "sending")),
            "action-plan": s.scalar(select(ActionPlan.id).where(ActionPlan.review_id == review_id)),
            "certificate": world.learner_id,
            "europass-mobility": world.europass_id,
        }
    ids = {kind: value for kind, value in found.items() if isinstance(value, int)}
    assert ids == found, found
    return ids


def rendered(world: PrivacyWorld, kind: str, record_id: int) -> str:
    with world.sc.db.transaction(write=False) as s:
        document = documents.build(s, actor=world.sc.sending.actor, kind=kind, record_id=record_id)
    return json.dumps(document.as_json(), default=str)


def test_the_date_of_birth_is_on_the_learning_agreement_and_on_no_other_document(world: PrivacyWorld) -> None:
    ids = record_ids(world)
    assert set(ids) == set(documents.KINDS) - {"partnership-review"}  # the partners' review names no learner
    for kind, record_id in ids.items():
        text = rendered(world, kind, record_id)
        if kind == "learning-agreement":
            assert BORN in text
            assert "Date of birth" in text
        else:
            assert BORN not in text, kind
            assert "Date of birth" not in text, kind


def test_no_credential_carries_the_date_of_birth(world: PrivacyWorld) -> None:
    with world.sc.db.transaction(write=False) as s:
        awards = s.scalars(select(CreditAward).where(CreditAward.learner_id == world.learner_id)).all()
        qualifications = s.scalars(select(QualificationAward).where(
            QualificationAward.learner_id == world.learner_id)).all()
        assert awards
        assert qualifications
        made: list[dict[str, Any]] = [credentials.build(s, a) for a in awards]
        made += [credentials.build_qualification(s, q) for q in qualifications]
        made += credentials.for_learner(s, actor=world.run.learner, learner_id=world.learner_id)
    for credential in made:
        assert "dateOfBirth" not in credential["credentialSubject"]
        assert BORN not in json.dumps(credential)


def record(world: PrivacyWorld, actor: Actor) -> dict[str, Any]:
    with world.sc.db.transaction(write=False) as s:
        return dict(minimisation.learner_record(s, actor=actor, learner_id=world.learner_id))


def test_the_learners_record_shows_birth_date_and_guardian_to_whose_part_needs_them(world: PrivacyWorld) -> None:
    sc, run = world.sc, world.run
    assert run.guardian is not None
    for reader in (sc.sending.actor, run.learner, run.guardian):
        seen = record(world, reader)
        assert (str(seen["date_of_birth"]), seen["guardian_email"]) == (BORN, f"{run.guardian.email}")
    host = record(world, sc.hosting.actor)
    assert host["date_of_birth"] is None
    assert host["guardian_email"] == run.guardian.email  # a minor abroad: the host's duty of care
    assert host["name"] == run.name
