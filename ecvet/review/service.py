"""Reviews of individual mobilities: evaluation sheets, an action plan, and optionally a MoU revision.

The seeds' checklist puts the review after the mobility: "reviewing the process and results of
individual mobility", done by the sending and hosting organisations and the mobile learner, documented
in evaluation sheets and an action plan for implementing changes. So a review belongs to one mobility
(and through it to the MoU it ran under), and is run by one Review process instance
(``processes/review.bpmn``), which opens it with its first record action (:func:`for_instance`).

* **Evaluation sheets**, one per party (sending, hosting, learner), written in parallel: were the
  agreed learning outcomes appropriate? was the assessment evidence sufficient for recognition? what
  worked, what should change (per unit, if useful)? An answer other than "yes" needs its comment.
  Sheets are evidence: append-only at database level.
* **Action plan** by the sending organisation once every sheet is in: items with an owner (the
  sending or hosting organisation, optionally a named person, or the learner) and a due date. Only an
  item's status changes later (audited), by the sending organisation or the item's owner.
* **MoU revision** (optional): the plan may ask for a new version of the MoU. The Review process then
  sends ``mou_revision_requested`` to the Partnership process, which runs the revision through the
  same approval round as the first version and answers ``mou_revised``; :func:`record_revision` notes
  the version that came of it.

Parties (read access): members of the sending and hosting organisations, the learner, and admins;
to anyone else a review does not exist (404).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ecvet.mobility.models import Mobility, MobilityStatus
from ecvet.partnership.models import Mou, MouStatus
from ecvet.partnership.mou import in_force_version
from ecvet.review import visibility
from ecvet.review.models import (
    ActionItemStatus,
    ActionPlan,
    ActionPlanItem,
    Answer,
    Evaluation,
    Review,
    ReviewParty,
    ReviewStatus,
)
from engine import audit, instances
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ProcessInstance, utcnow
from engine.pagination import Page, paginate
from engine.parties import Actor

#: A mobility is reviewed once it is over: recognised, or cancelled (a cancelled one teaches too).
REVIEWABLE = (MobilityStatus.RECOGNIZED, MobilityStatus.CANCELLED)
_COMMENT = 4000


# --------------------------------------------------------------------------------------------------
# Opening and access
# --------------------------------------------------------------------------------------------------


def for_instance(session: Session, *, actor: Actor | None, instance: ProcessInstance, mobility_id: Any) -> Review:
    """The review run by this process instance, opened on first use from the mobility it reviews.

    The instance's parties must be the mobility's: its sending and hosting organisations and the
    learner's own account. Otherwise anyone could start a review process naming another school's
    mobility and attach sheets to it.
    """
    review = session.scalar(select(Review).where(Review.instance_id == instance.id))
    if review is not None:
        return review
    if isinstance(mobility_id, bool) or not isinstance(mobility_id, int):
        raise Invalid("The review needs the mobility it is about: no mobility_id in the process data",
                      errors={"mobility_id": ["Required"]})
    mobility = session.get(Mobility, mobility_id)
    if mobility is None:
        raise Invalid(f"No mobility {mobility_id}", errors={"mobility_id": [f"No mobility {mobility_id}"]})
    if mobility.status not in REVIEWABLE:
        raise Conflict(f"The mobility is {mobility.status}; it is reviewed once recognised or cancelled")
    errors = _party_errors(mobility, {p.role: p for p in instance.parties})
    if errors:
        raise Invalid("The parties of this review are not the parties of the mobility", errors=errors)
    review = Review(instance_id=instance.id, mobility_id=mobility.id, mou_id=mobility.mou_id,
                    sending_organisation_id=mobility.sending_organisation_id,
                    hosting_organisation_id=mobility.hosting_organisation_id,
                    learner_user_id=mobility.learner.user_id, status=ReviewStatus.EVALUATING)
    session.add(review)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="review.opened",
                 instance_id=instance.id, review_id=review.id, mobility_id=mobility.id, mou_id=mobility.mou_id)
    return review


def _party_errors(mobility: Mobility, bound: dict[str, Any]) -> dict[str, list[str]]:
    """Why the parties bound (role -> an object with organisation_id and user_id) are not the
    mobility's sending and hosting organisations and the learner's own account."""
    expected = {
        ReviewParty.SENDING: ("organisation_id", mobility.sending_organisation_id),
        ReviewParty.HOSTING: ("organisation_id", mobility.hosting_organisation_id),
        ReviewParty.LEARNER: ("user_id", mobility.learner.user_id),
    }
    errors: dict[str, list[str]] = {}
    for role, (column, value) in expected.items():
        party = bound.get(role)
        if value is None:
            errors[f"parties.{role}"] = ["The learner of this mobility has no account to evaluate with"]
        elif party is None or getattr(party, column) != value:
            errors[f"parties.{role}"] = [f"Must be the mobility's {role} ({column.replace('_id', '')} {value})"]
    return errors


#: What a review starts with: the message mobility_recognized carries the mobility's id, nothing else.
START_VARIABLES = frozenset({"mobility_id"})


@instances.start_check("review.of_mobility")
def _of_mobility(session: Session, request: instances.StartRequest) -> None:
    """Every start of the Review process by a person (``startCheck`` in processes/review.bpmn; its
    ``startableBy`` already requires a member of the organisation bound as sending): it names a
    mobility that is over (recognised or cancelled) and binds exactly that mobility's sending and
    hosting organisations and its learner. So nobody starts a review of someone else's mobility, nor
    one that draws in organisations the mobility never had; and an instance started so waits only for
    that mobility's message (its start event correlates on the mobility id)."""
    extra = sorted(set(request.variables) - START_VARIABLES)
    if extra:
        raise Invalid("A review starts with the id of the mobility it reviews, nothing else",
                      errors={f"variables.{name}": ["Not a start variable of the review"] for name in extra})
    mobility_id = request.variables.get("mobility_id")
    mobility = session.get(Mobility, mobility_id) \
        if isinstance(mobility_id, int) and not isinstance(mobility_id, bool) else None
    if mobility is None or mobility.sending_organisation_id not in request.actor.organisation_ids:
        # Someone else's mobility looks like none at all (as everywhere else: 404 semantics, 422 here).
        raise Invalid("A review names a mobility of your organisation",
                      errors={"variables.mobility_id": [f"No mobility {mobility_id!r} of yours"]})
    if mobility.status not in REVIEWABLE:
        raise Conflict(f"The mobility is {mobility.status}; it is reviewed once recognised or cancelled")
    errors = _party_errors(mobility, dict(request.parties))
    if errors:
        raise Invalid("The parties of this review are not the parties of the mobility", errors=errors)


def parties_of(actor: Actor, review: Review) -> set[str]:
    """Which parties of the review the caller speaks for."""
    found = set()
    if review.sending_organisation_id in actor.organisation_ids:
        found.add(ReviewParty.SENDING)
    if review.hosting_organisation_id in actor.organisation_ids:
        found.add(ReviewParty.HOSTING)
    if review.learner_user_id is not None and review.learner_user_id == actor.user_id:
        found.add(ReviewParty.LEARNER)
    return found


def can_see(actor: Actor, review: Review) -> bool:
    return actor.is_admin or bool(parties_of(actor, review))


def get(session: Session, *, actor: Actor, review_id: int) -> Review:
    """The review, for its parties and administrators; 404 for anyone else."""
    review = session.get(Review, review_id)
    if review is None or not can_see(actor, review):
        raise NotFound(f"No review {review_id}")
    return review


def list_for(
    session: Session, *, actor: Actor, mobility_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> Page[Review]:
    """Reviews the caller is a party of (administrators: all), oldest first."""
    stmt = select(Review)
    if not actor.is_admin:
        orgs = actor.organisation_ids or frozenset({-1})
        stmt = stmt.where(or_(Review.sending_organisation_id.in_(orgs), Review.hosting_organisation_id.in_(orgs),
                              Review.learner_user_id == actor.user_id))
    if mobility_id is not None:
        stmt = stmt.where(Review.mobility_id == mobility_id)
    return paginate(session, stmt, [Review.id], cursor=cursor, limit=limit)


# --------------------------------------------------------------------------------------------------
# Evaluation sheets
# --------------------------------------------------------------------------------------------------


def _text(value: Any, path: str, errors: dict[str, list[str]], *, limit: int = _COMMENT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[path] = ["Text expected"]
        return None
    value = value.strip()
    if len(value) > limit:
        errors[path] = [f"At most {limit} characters"]
    return value or None


def _unit_remarks(value: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors["unit_remarks"] = ["A list of {unit, remark}"]
        return []
    remarks = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            errors[f"unit_remarks.{i}"] = ["An object with unit and remark"]
            continue
        unit = _text(item.get("unit"), f"unit_remarks.{i}.unit", errors, limit=50)
        remark = _text(item.get("remark"), f"unit_remarks.{i}.remark", errors, limit=2000)
        if not unit or not remark:
            errors.setdefault(f"unit_remarks.{i}", []).append("Name the unit and say what you noticed")
            continue
        remarks.append({"unit": unit, "remark": remark})
    return remarks


def evaluate(session: Session, *, actor: Actor, review: Review, party: str, answers: dict[str, Any]) -> Evaluation:
    """Store one party's evaluation sheet (once per party; sheets are never changed afterwards)."""
    if party not in ReviewParty.ALL:
        raise Invalid("Unknown party of a review", errors={"party": [f"One of {', '.join(ReviewParty.ALL)}"]})
    if not (actor.is_admin or party in parties_of(actor, review)):
        raise Forbidden(f"Only the {party} party writes its evaluation sheet")
    if review.status != ReviewStatus.EVALUATING:
        raise Conflict(f"The review is {review.status}; evaluation sheets are closed")
    if session.scalar(select(Evaluation.id).where(Evaluation.review_id == review.id, Evaluation.party == party)):
        raise Conflict(f"The {party} party has already handed in its evaluation sheet")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for question in ("outcomes_appropriate", "evidence_sufficient"):
        answer = answers.get(question)
        if answer not in Answer.ALL:
            errors[question] = [f"One of {', '.join(Answer.ALL)}"]
        values[question] = answer
    for name in ("outcomes_comment", "evidence_comment", "strengths", "changes_proposed"):
        values[name] = _text(answers.get(name), name, errors)
    for question, comment in (("outcomes_appropriate", "outcomes_comment"),
                              ("evidence_sufficient", "evidence_comment")):
        if values[question] in (Answer.PARTLY, Answer.NO) and not values[comment]:
            errors.setdefault(comment, []).append("Say why, when the answer is not 'yes'")
    remarks = _unit_remarks(answers.get("unit_remarks"), errors)
    if errors:
        raise Invalid("The evaluation sheet is not complete", errors=errors)
    organisation_id = {ReviewParty.SENDING: review.sending_organisation_id,
                       ReviewParty.HOSTING: review.hosting_organisation_id}.get(party)
    evaluation = Evaluation(review_id=review.id, party=party, organisation_id=organisation_id,
                            author_id=actor.user_id, unit_remarks=remarks, **values)
    session.add(evaluation)
    review.updated_at = utcnow()
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="review.evaluated", instance_id=review.instance_id,
                 review_id=review.id, evaluation_id=evaluation.id, party=party,
                 outcomes_appropriate=values["outcomes_appropriate"],
                 evidence_sufficient=values["evidence_sufficient"])
    return evaluation


def evaluations_of(session: Session, review: Review) -> list[Evaluation]:
    order = {p: i for i, p in enumerate(ReviewParty.ALL)}
    rows = session.scalars(select(Evaluation).where(Evaluation.review_id == review.id))
    return sorted(rows, key=lambda e: order[e.party])


def readable_parties(session: Session, actor: Actor, review: Review) -> set[str]:
    """Whose evaluation sheets of the review the caller reads, by the MoU's policy (:mod:`.visibility`)."""
    return visibility.readable_parties(session, review.mou_id, speaks_for=parties_of(actor, review),
                                       is_admin=actor.is_admin)


def visible_evaluations(session: Session, actor: Actor, review: Review) -> list[Evaluation]:
    """The review's evaluation sheets the caller may read (each party its own by default)."""
    readable = readable_parties(session, actor, review)
    return [e for e in evaluations_of(session, review) if e.party in readable]


def get_evaluation(session: Session, *, actor: Actor, evaluation_id: int) -> Evaluation:
    """One evaluation sheet, for the parties of its review the MoU's policy lets read it, and administrators."""
    evaluation = session.get(Evaluation, evaluation_id)
    review = session.get(Review, evaluation.review_id) if evaluation is not None else None
    if evaluation is None or review is None or not can_see(actor, review) \
            or evaluation.party not in readable_parties(session, actor, review):
        raise NotFound(f"No evaluation sheet {evaluation_id}")
    return evaluation


# --------------------------------------------------------------------------------------------------
# Action plan
# --------------------------------------------------------------------------------------------------


def _items(review: Review, value: Any, errors: dict[str, list[str]]) -> list[ActionPlanItem]:
    if not isinstance(value, list) or not value:
        errors["items"] = ["At least one action, with its owner and due date"]
        return []
    today = utcnow().date()
    items = []
    for i, item in enumerate(value):
        path = f"items.{i}"
        if not isinstance(item, dict):
            errors[path] = ["An object with action, owner and due_date"]
            continue
        action = _text(item.get("action"), f"{path}.action", errors, limit=2000)
        if not action:
            errors.setdefault(f"{path}.action", []).append("Say what will be done")
        given_owner = item.get("owner")
        owner = given_owner if isinstance(given_owner, str) else ""
        owner_org = {ReviewParty.SENDING: review.sending_organisation_id,
                     ReviewParty.HOSTING: review.hosting_organisation_id}.get(owner)
        owner_user = review.learner_user_id if owner == ReviewParty.LEARNER else None
        if owner not in ReviewParty.ALL:
            errors[f"{path}.owner"] = [f"One of {', '.join(ReviewParty.ALL)}"]
        owner_name = _text(item.get("owner_name"), f"{path}.owner_name", errors, limit=200)
        due: date | None = None
        try:
            due = date.fromisoformat(item.get("due_date") or "")
        except (TypeError, ValueError):
            errors[f"{path}.due_date"] = ["A date (YYYY-MM-DD)"]
        if due is not None and due < today:
            errors[f"{path}.due_date"] = ["The due date has passed"]
        if action and owner in ReviewParty.ALL and due is not None and due >= today:
            items.append(ActionPlanItem(position=i + 1, action=action, owner_organisation_id=owner_org,
                                        owner_user_id=owner_user, owner_name=owner_name, due_date=due,
                                        status=ActionItemStatus.OPEN))
    return items


def plan(
    session: Session,
    *,
    actor: Actor,
    review: Review,
    items: Any,
    summary: str | None = None,
    revise_mou: bool = False,
    mou_changes: str | None = None,
) -> ActionPlan:
    """The sending organisation's action plan, once every evaluation sheet is in. Asking for a MoU
    revision needs the changes in words and a MoU in force that is not being revised already."""
    if not (actor.is_admin or ReviewParty.SENDING in parties_of(actor, review)):
        raise Forbidden("The sending organisation writes the action plan")
    if review.status != ReviewStatus.EVALUATING:
        raise Conflict(f"The review is {review.status}; it already has its action plan")
    missing = [p for p in ReviewParty.ALL if p not in {e.party for e in evaluations_of(session, review)}]
    if missing:
        raise Conflict(f"Waiting for the evaluation sheets of: {', '.join(missing)}")
    errors: dict[str, list[str]] = {}
    rows = _items(review, items, errors)
    summary = _text(summary, "summary", errors)
    mou_changes = _text(mou_changes, "mou_changes", errors)
    if not isinstance(revise_mou, bool):
        errors["revise_mou"] = ["True or false"]
    elif revise_mou and not mou_changes:
        errors["mou_changes"] = ["Say what the new version of the MoU should change"]
    if errors:
        raise Invalid("The action plan is not complete", errors=errors)
    reviewed_version = None
    if revise_mou:
        mou = session.get(Mou, review.mou_id) if review.mou_id is not None else None
        if mou is None or mou.status != MouStatus.ACTIVE:
            status = mou.status if mou is not None else "missing"
            raise Conflict(f"The MoU is {status}; only a MoU in force, not already being revised, can be revised")
        version = in_force_version(mou)
        reviewed_version = version.number if version is not None else None
    action_plan = ActionPlan(review_id=review.id, summary=summary, revise_mou=revise_mou, mou_changes=mou_changes,
                             created_by=actor.user_id, items=rows)
    session.add(action_plan)
    now = utcnow()
    review.updated_at = now
    if revise_mou:
        review.status = ReviewStatus.REVISION_REQUESTED
        review.mou_version_reviewed = reviewed_version
    else:
        review.status = ReviewStatus.COMPLETED
        review.completed_at = now
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="review.planned", instance_id=review.instance_id,
                 review_id=review.id, action_plan_id=action_plan.id, items=len(rows), revise_mou=revise_mou,
                 status=review.status)
    return action_plan


def record_revision(session: Session, *, review_id: int, mou_version: int, actor: Actor | None = None) -> Review:
    """Note the MoU version the requested revision produced; the review is complete."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"No review {review_id}")
    if actor is not None and not actor.is_admin:
        raise Forbidden("The revision is recorded by the platform when the partnership answers")
    if review.status != ReviewStatus.REVISION_REQUESTED:
        raise Conflict(f"The review is {review.status}; it did not ask for a MoU revision")
    now = utcnow()
    review.status = ReviewStatus.COMPLETED
    review.mou_version_revised = mou_version
    review.completed_at = now
    review.updated_at = now
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="review.mou_revised",
                 instance_id=review.instance_id, review_id=review.id, mou_id=review.mou_id,
                 mou_version_reviewed=review.mou_version_reviewed, mou_version_revised=mou_version)
    return review


def action_plan_of(session: Session, review: Review) -> ActionPlan | None:
    return session.scalar(select(ActionPlan).where(ActionPlan.review_id == review.id))


def get_action_plan(session: Session, *, actor: Actor, action_plan_id: int) -> ActionPlan:
    """One action plan, for the parties of its review and administrators."""
    action_plan = session.get(ActionPlan, action_plan_id)
    if action_plan is None or not can_see(actor, session.get(Review, action_plan.review_id)):  # type: ignore[arg-type]
        raise NotFound(f"No action plan {action_plan_id}")
    return action_plan


def action_item(session: Session, *, actor: Actor, action_plan_id: int, item_id: int) -> ActionPlanItem:
    """One item of an action plan, for the parties of its review and administrators."""
    action_plan = get_action_plan(session, actor=actor, action_plan_id=action_plan_id)
    item = next((i for i in action_plan.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"Action plan {action_plan_id} has no item {item_id}")
    return item


def may_update_item(actor: Actor, review: Review, item: ActionPlanItem) -> bool:
    """The item's owner (its organisation or person), the sending organisation and administrators."""
    owner = (item.owner_organisation_id in actor.organisation_ids) or (item.owner_user_id == actor.user_id)
    return actor.is_admin or owner or ReviewParty.SENDING in parties_of(actor, review)


def update_item(
    session: Session, *, actor: Actor, action_plan_id: int, item_id: int, status: str, note: str | None = None
) -> ActionPlanItem:
    """Move an action on (open, in progress, done, dropped): the sending organisation or the owner."""
    action_plan = get_action_plan(session, actor=actor, action_plan_id=action_plan_id)
    review = session.get(Review, action_plan.review_id)
    assert review is not None
    item = action_item(session, actor=actor, action_plan_id=action_plan_id, item_id=item_id)
    if not may_update_item(actor, review, item):
        raise Forbidden("Only the sending organisation or the item's owner updates it")
    if status not in ActionItemStatus.ALL:
        raise Invalid("Unknown status", errors={"status": [f"One of {', '.join(ActionItemStatus.ALL)}"]})
    errors: dict[str, list[str]] = {}
    note = _text(note, "note", errors)
    if errors:
        raise Invalid("The note is not valid", errors=errors)
    old = item.status
    item.status = status
    item.status_note = note
    item.updated_by = actor.user_id
    item.updated_at = utcnow()
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="action_item.updated", instance_id=review.instance_id,
                 review_id=review.id, action_plan_id=action_plan.id, item_id=item.id, old=old, new=status,
                 note=note)
    return item
