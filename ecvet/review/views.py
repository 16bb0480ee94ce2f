"""What a party of a review reads: the review, its evaluation sheets and its action plan, each described
once here as a view (TypedDict: keys, types, descriptions) that the API's schemas are made from
(api/schemas.py ``schema_for``) and whose dicts the documents reuse as their data."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypedDict

from sqlalchemy.orm import Session

from ecvet.review import service
from ecvet.review.models import ActionItemStatus, ActionPlan, ActionPlanItem, Evaluation, Review, ReviewParty
from engine.parties import Actor

ANSWER = "yes | partly | no"


class UnitRemark(TypedDict):
    unit: str
    remark: str


class EvaluationView(TypedDict):
    """One party's evaluation sheet."""

    id: int
    review_id: int
    party: Annotated[str, "sending | hosting | learner"]
    organisation_id: int | None
    author_id: int | None
    outcomes_appropriate: Annotated[str, f"were the learning outcomes agreed for the mobility appropriate? {ANSWER}"]
    outcomes_comment: str | None
    evidence_sufficient: Annotated[
        str, f"did the assessment documentation give sufficient evidence for recognition? {ANSWER}"]
    evidence_comment: str | None
    strengths: str | None
    changes_proposed: str | None
    unit_remarks: list[UnitRemark]
    created_at: datetime


class ActionItemView(TypedDict):
    id: int
    position: int
    action: str
    owner: Annotated[str, "sending | hosting | learner"]
    owner_organisation_id: int | None
    owner_user_id: Annotated[int | None, "set when the learner owns it"]
    owner_name: Annotated[str | None, "the person responsible, if named"]
    due_date: date
    status: Annotated[str, "open | in_progress | done | dropped"]
    status_note: str | None
    updated_at: datetime
    updated_by: int | None


class ActionPlanView(TypedDict):
    id: int
    review_id: int
    status: Annotated[str, "open | in_progress | done, computed from the items (dropped ones do not count)"]
    actions_done: Annotated[int, "items done"]
    actions_total: Annotated[int, "items that count: all but the dropped ones"]
    summary: str | None
    revise_mou: bool
    mou_changes: str | None
    created_by: int | None
    created_at: datetime
    items: list[ActionItemView]


class ReviewView(TypedDict):
    """A review as listed (the list reads these keys from the rows themselves)."""

    id: int
    instance_id: Annotated[str | None, "the Review process instance"]
    mobility_id: int
    mou_id: int | None
    sending_organisation_id: int
    hosting_organisation_id: int
    learner_user_id: int | None
    status: Annotated[str, "evaluating | planned | revision_requested | completed"]
    mou_version_reviewed: Annotated[int | None, "the MoU version in force when the review asked for a revision"]
    mou_version_revised: Annotated[int | None, "the version that came of it"]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class ReviewWithRecords(ReviewView):
    evaluations: list[EvaluationView]
    action_plan: ActionPlanView | None


def evaluation(row: Evaluation) -> EvaluationView:
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


class PlanStatus:
    """The status of an action plan, computed from its items: never done while an item is open."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ALL = (OPEN, IN_PROGRESS, DONE)


def plan_progress(statuses: list[str]) -> tuple[str, int, int]:
    """(status, done, total) of a plan whose items have these statuses. Dropped items do not count; a plan
    with nothing left to do is done, one with nothing started is open, anything between is in progress."""
    counted = [s for s in statuses if s != ActionItemStatus.DROPPED]
    done = sum(1 for s in counted if s == ActionItemStatus.DONE)
    if done == len(counted):
        return PlanStatus.DONE, done, len(counted)
    if all(s == ActionItemStatus.OPEN for s in counted):
        return PlanStatus.OPEN, done, len(counted)
    return PlanStatus.IN_PROGRESS, done, len(counted)


def action_plan(session: Session, row: ActionPlan) -> ActionPlanView:
    """The action plan with its items, each with its owner as a party of the review."""
    of = session.get(Review, row.review_id)
    assert of is not None
    status, done, total = plan_progress([i.status for i in row.items])
    return {
        "id": row.id, "review_id": row.review_id, "status": status, "actions_done": done,
        "actions_total": total, "summary": row.summary,
        "revise_mou": row.revise_mou, "mou_changes": row.mou_changes,
        "created_by": row.created_by, "created_at": row.created_at,
        "items": [
            ActionItemView(id=i.id, position=i.position, action=i.action, owner=_owner(i, of),
                           owner_organisation_id=i.owner_organisation_id, owner_user_id=i.owner_user_id,
                           owner_name=i.owner_name, due_date=i.due_date, status=i.status, status_note=i.status_note,
                           updated_at=i.updated_at, updated_by=i.updated_by)
            for i in row.items
        ],
    }


def review(session: Session, *, actor: Actor, review_id: int) -> ReviewWithRecords:
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
        "evaluations": [evaluation(e) for e in service.visible_evaluations(session, actor, found)],
        "action_plan": action_plan(session, plan) if plan is not None else None,
    }
