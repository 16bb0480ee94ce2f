"""The learner records the API and the pages show, each read written down (:func:`reads.record_read`): the
learner's personal data, achievements, credentials, qualification awards and a mobility with its records.

The records' own services stay read-only and are reused inside other reads (a certificate builds on the
achievements): only what is shown to a person is written down, here, once.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecvet.mobility import minimisation, qualification_award, seal, views
from engine.parties import Actor

from .reads import record_read


def learner(session: Session, *, actor: Actor, learner_id: int) -> views.LearnerView:
    """The learner's personal data, minimised for the reader (:func:`ecvet.mobility.minimisation.learner_record`
    decides who: 404 otherwise)."""
    found = minimisation.learner_record(session, actor=actor, learner_id=learner_id)
    record_read(session, actor=actor, learner_id=learner_id, what="learner", record_id=learner_id)
    return found


def achievements(session: Session, *, actor: Actor, learner_id: int) -> views.Achievements:
    """The learner's units, ECVET points and practical implications from the mobilities the caller sees."""
    found = views.achievements(session, actor=actor, learner_id=learner_id)
    record_read(session, actor=actor, learner_id=learner_id, what="achievements", record_id=learner_id)
    return found


def credentials(session: Session, *, actor: Actor, learner_id: int, secret: str) -> list[dict[str, Any]]:
    """The learner's signed European Learning Model credentials."""
    found = seal.for_learner(session, actor=actor, learner_id=learner_id, secret=secret)
    record_read(session, actor=actor, learner_id=learner_id, what="credentials", record_id=learner_id)
    return found


def qualification_awards(session: Session, *, actor: Actor,
                         learner_id: int) -> list[qualification_award.QualificationAwardView]:
    """The qualifications awarded to the learner, resting on mobilities the caller takes part in."""
    found = qualification_award.for_learner(session, actor=actor, learner_id=learner_id)
    record_read(session, actor=actor, learner_id=learner_id, what="qualification-awards", record_id=learner_id)
    return found


def mobility(session: Session, *, actor: Actor, mobility_id: int) -> views.MobilityRecords:
    """A mobility with its learner and records, as its party may read them now (404 for anyone else)."""
    found = views.mobility_with_records(session, actor=actor, mobility_id=mobility_id)
    record_read(session, actor=actor, learner_id=found["learner_id"], what="mobility", record_id=mobility_id)
    return found
