"""What a party of a review reads: the review, its evaluation sheets and its action plan, each described
once here (the API's schemas only declare the types; the documents reuse these dicts as their data)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecvet.review import service
from ecvet.review.models import ActionPlan, ActionPlanItem, Evaluation, Review, ReviewParty
from engine.parties import Actor


def evaluation(row: Evaluation) -> dict[str, Any]:
    """One party's evaluation sheet."""
    return {
        "id": row.id, "review_id": row.review_id, "party": row.party,
        "organisation_id": row.organisation_id, "author_id": row.author_id,
        "outcomes_appropriate": row.outcomes_appropriate, "outcomes_comment": row.outcomes_comment,
        "evidence_sufficient": row.evidence_sufficient, "evidence_comment": row.evidence_comment,
        "strengths": row.strengths, "changes_proposed": row.changes_proposed,
        "unit_remarks": row.unit_remarks, "created_at": row.created_at,
    }


def _owner(item: ActionPlanItem, of: Review) -> str:
    if item.owner_user_id is not None:
        return ReviewParty.LEARNER
    return ReviewParty.SENDING if item.owner_organisation_id == of.sending_organisation_id else ReviewParty.HOSTING


def action_plan(session: Session, row: ActionPlan) -> dict[str, Any]:
    """The action plan with its items, each with its owner as a party of the review."""
    of = session.get(Review, row.review_id)
    assert of is not None
    return {
        "id": row.id, "review_id": row.review_id, "summary": row.summary,
        "revise_mou": row.revise_mou, "mou_changes": row.mou_changes,
        "created_by": row.created_by, "created_at": row.created_at,
        "items": [
            {"id": i.id, "position": i.position, "action": i.action, "owner": _owner(i, of),
             "owner_organisation_id": i.owner_organisation_id, "owner_user_id": i.owner_user_id,
             "owner_name": i.owner_name, "due_date": i.due_date, "status": i.status, "status_note": i.status_note,
             "updated_at": i.updated_at, "updated_by": i.updated_by}
            for i in row.items
        ],
    }


def review(session: Session, *, actor: Actor, review_id: int) -> dict[str, Any]:
    """The review with its evaluation sheets and action plan (parties and admins)."""
    found = service.get(session, actor=actor, review_id=review_id)
    plan = service.action_plan_of(session, found)
    return {
        "id": found.id, "instance_id": found.instance_id, "mobility_id": found.mobility_id,
        "mou_id": found.mou_id, "sending_organisation_id": found.sending_organisation_id,
        "hosting_organisation_id": found.hosting_organisation_id, "learner_user_id": found.learner_user_id,
        "status": found.status, "mou_version_reviewed": found.mou_version_reviewed,
        "mou_version_revised": found.mou_version_revised, "created_at": found.created_at,
        "updated_at": found.updated_at, "completed_at": found.completed_at,
        "evaluations": [evaluation(e) for e in service.evaluations_of(session, found)],
        "action_plan": action_plan(session, plan) if plan is not None else None,
    }
