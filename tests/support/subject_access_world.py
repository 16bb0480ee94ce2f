"""A learner with a record behind every document kind: the lifecycle world (recognised, with implications),
its review (evaluation sheets, action plan), a signed-off Europass Mobility and the partners' conclusions on
the MoU; for the tests of who read what and of the export (ecvet/subject_access)."""
from __future__ import annotations

from dataclasses import dataclass

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
import ecvet.review.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.europass import service as europass
from ecvet.mobility.models import Mobility
from ecvet.review import partnership as partnership_review
from engine.clock import FrozenClock
from engine.db import Database
from tests.support.ecvet_worlds import LifecycleWorld, ReviewRecords, make_lifecycle_world, make_review

SKILLS = {"language": "Kitchen Danish (A2)"}


@dataclass
class AllDocuments:
    """The world, the learner's id, and one record id per document kind (each readable by the sender)."""

    life: LifecycleWorld
    review: ReviewRecords
    learner_id: int
    mou_id: int
    records: dict[str, int]


def make_all_documents(db: Database, frozen: FrozenClock) -> AllDocuments:
    life = make_lifecycle_world(db, frozen, "implications")
    review = make_review(db, life)
    with db.transaction() as s:
        row = europass.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id,
                             objective="Garde-manger practice abroad", skills=SKILLS)
        europass_id, digest = row.id, row.content_hash
    with db.transaction() as s:
        europass.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash=digest)
    with db.transaction() as s:
        europass.sign(s, actor=life.sending.actor, europass_id=europass_id, party="sending", content_hash=digest)
    with db.transaction() as s:
        mobility = s.get_one(Mobility, life.mobility_id)
        learner_id, mou_id = mobility.learner_id, mobility.mou_id
        concluded = partnership_review.conclude(s, actor=life.sending.actor, mou_id=mou_id,
                                                conclusions="Keep the hygiene log template")
        partnership_review_id = concluded.id
    assert life.transcript_id is not None
    assert life.recognition_id is not None
    records = {
        "mou": mou_id, "learning-agreement": life.la_id, "assessment-sheet": life.sheet_ids[0],
        "transcript": life.transcript_id, "recognition-record": life.recognition_id,
        "evaluation": review.evaluation_ids["sending"], "action-plan": review.action_plan_id,
        "certificate": learner_id, "europass-mobility": europass_id, "partnership-review": partnership_review_id,
    }
    return AllDocuments(life, review, learner_id, mou_id, records)
