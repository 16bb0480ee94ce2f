"""Which evidence and personal working data of a finished mobility the policy lets go, and when.

A mobility's records are governed by its sending organisation's policy (the home institution keeps
the recognition and answers for it). A kind is kept at least as long as the kinds that quote it: a
Learning Agreement text as long as the sheets and transcript that refer to it, a transcript as long as
the decisions taken on it (their foreign keys would otherwise dangle).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, select

from ecvet.europass.models import EuropassMobility
from ecvet.mobility.models import AssessmentRecord, LearningAgreement, Mobility
from ecvet.mobility.vocabulary import MobilityStatus
from ecvet.retention.ledger import table
from ecvet.retention.policy import Months, add_months
from ecvet.review.models import ActionPlan, Review

#: Finished mobilities: only these have records that may expire.
FINISHED = (MobilityStatus.RECOGNIZED, MobilityStatus.CANCELLED)

Where = Callable[[Table, list[int]], ColumnElement[bool]]


def _by_mobility(t: Table, ids: list[int]) -> ColumnElement[bool]:
    return t.c.mobility_id.in_(ids)


def _by_la(t: Table, ids: list[int]) -> ColumnElement[bool]:
    return t.c.la_id.in_(select(LearningAgreement.id).where(LearningAgreement.mobility_id.in_(ids)))


def _by_assessment(t: Table, ids: list[int]) -> ColumnElement[bool]:
    return t.c.assessment_id.in_(select(AssessmentRecord.id).where(AssessmentRecord.mobility_id.in_(ids)))


def _by_europass(t: Table, ids: list[int]) -> ColumnElement[bool]:
    return t.c.europass_id.in_(select(EuropassMobility.id).where(EuropassMobility.mobility_id.in_(ids)))


def _by_review(t: Table, ids: list[int]) -> ColumnElement[bool]:
    return t.c.review_id.in_(select(Review.id).where(Review.mobility_id.in_(ids)))


def _by_action_plan(t: Table, ids: list[int]) -> ColumnElement[bool]:
    return t.c.action_plan_id.in_(select(ActionPlan.id).join(Review, Review.id == ActionPlan.review_id)
                                  .where(Review.mobility_id.in_(ids)))


#: Per kind, its tables in the order they are deleted (rows that point at others first).
MOBILITY_TABLES: dict[str, tuple[tuple[str, Where], ...]] = {
    "recognition": (("credit_awards", _by_mobility), ("practical_implications", _by_mobility),
                    ("recognition_decisions", _by_mobility), ("validation_decisions", _by_mobility)),
    "europass": (("europass_signatures", _by_europass), ("europass_mobilities", _by_mobility)),
    "transcript": (("personal_transcripts", _by_mobility),),
    "assessment": (("assessment_signatures", _by_assessment), ("assessment_acknowledgements", _by_mobility),
                   ("evidence_files", _by_mobility), ("assessment_records", _by_mobility)),
    "learning_agreement": (("la_signatures", _by_la), ("la_versions", _by_la)),
    "mobility_free_text": (("mobility_status_changes", _by_mobility),),
    "review": (("action_plan_items", _by_action_plan), ("action_plans", _by_review), ("evaluations", _by_review)),
}
#: Tables whose rows are evidence (append-only): they go through the ledger; the others are plainly deleted.
APPEND_ONLY = frozenset({
    "credit_awards", "practical_implications", "recognition_decisions", "validation_decisions", "europass_signatures",
    "europass_mobilities", "personal_transcripts", "assessment_signatures", "assessment_acknowledgements",
    "evidence_files", "assessment_records", "la_signatures", "la_versions", "mobility_status_changes", "evaluations",
})
#: The order kinds are purged in: those that quote others first.
ORDER = ("recognition", "europass", "transcript", "assessment", "learning_agreement", "mobility_free_text", "review")
#: A kind is kept as long as these (which refer to it) are.
_QUOTED_BY = {"transcript": ("recognition",), "learning_agreement": ("assessment", "transcript")}


def expiries(mobility: Mobility, months: Months) -> dict[str, date]:
    """The day each kind of the mobility's records may go, quoted kinds kept as long as what quotes them."""
    own = {kind: add_months(mobility.end_date, months.of(mobility.sending_organisation_id, kind)) for kind in ORDER}
    result = dict(own)
    result["transcript"] = max(own["transcript"], result["recognition"])
    result["learning_agreement"] = max(own["learning_agreement"], result["assessment"], result["transcript"])
    return result


def rows(session: Any, table_name: str, where: Where, mobility_ids: list[int]) -> list[dict[str, Any]]:
    t = table(table_name)
    columns = [c for c in t.c]
    query = select(*columns).where(where(t, mobility_ids)).order_by(t.c.id.desc())
    return [dict(r._mapping) for r in session.execute(query)]


def kept_until(session: Any, mobility: Mobility) -> date:
    """The last day any evidence of the mobility is kept under its sending organisation's policy: what an
    erasure request is told about the evidence it must leave (Art. 17(3)(b))."""
    from_policy = expiries(mobility, Months(session))
    return max(day for kind, day in from_policy.items() if kind in EVIDENCE_KINDS)


#: The kinds of a mobility's records that are evidence (the others are personal working data).
EVIDENCE_KINDS = ("recognition", "europass", "transcript", "assessment", "learning_agreement")
