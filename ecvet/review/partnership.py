"""The partnership review: the evaluations and action plans of every mobility under one MoU, on one page.

The review of one mobility (:mod:`ecvet.review.service`) asks whether its learning outcomes were right
and its evidence enough; the partners of a MoU also need the view across all of them (checklist:
"reviewing the partnership"), to decide whether the MoU itself should change. :func:`summary` counts
the answers of every evaluation sheet (per question, per party), lists what the parties proposed and
remarked per unit, and the progress of every action plan (computed from its items).

Who reads it: the MoU's partners (its sending and signing organisations) and administrators; to anyone
else, competent institutions included, the MoU's review does not exist (404). Learners are named by
their mobility only: a partner of the MoU need not be a party of every mobility under it.

:func:`conclude` records the partners' conclusions with the summary as they read it
(:class:`~ecvet.review.models.PartnershipReview`) and, when they ask for it, starts the MoU revision:
the Partnership process, which waits for ``mou_revision_requested`` while the MoU is in force, gets
the conclusions as the changes asked for (``source: "partnership_review"``), so the sending
organisation's "Draft the MoU" task shows them, and the stored review id leads back to the summary.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility.models import Mobility
from ecvet.partnership import mou as mous
from ecvet.partnership.approvers import signing_ids
from ecvet.partnership.models import Mou, MouStatus
from ecvet.review import service, views, visibility
from ecvet.review.models import Answer, Evaluation, PartnershipReview, Review, ReviewParty
from engine import audit, messages
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.parties import Actor

REVISION_MESSAGE = "mou_revision_requested"
SOURCE = "partnership_review"
_CONCLUSIONS_MAX = 10_000


class AnswerCounts(TypedDict):
    yes: int
    partly: int
    no: int


class QuestionSummary(TypedDict):
    question: Annotated[str, "outcomes_appropriate | evidence_sufficient"]
    overall: AnswerCounts
    by_party: Annotated[dict[str, AnswerCounts], "sending, hosting, learner"]


class Proposal(TypedDict):
    mobility_id: int
    review_id: int
    party: str
    kind: Annotated[str, "changes_proposed | outcomes_comment | evidence_comment | strengths | unit_remark"]
    unit: str | None
    text: str


class PlanSummary(TypedDict):
    review_id: int
    mobility_id: int
    status: Annotated[str, "open | in_progress | done, computed from the items"]
    actions_done: int
    actions_total: int
    summary: str | None
    revise_mou: bool
    mou_changes: str | None


class OpenAction(TypedDict):
    review_id: int
    mobility_id: int
    action: str
    owner_name: str | None
    due_date: date
    status: str


class ConclusionView(TypedDict):
    id: int
    mou_id: int
    mou_version_reviewed: int | None
    conclusions: str
    revision_requested: bool
    organisation_id: int
    created_by: int
    created_at: datetime


class PartnershipReviewSummary(TypedDict):
    mou_id: int
    mou_status: str
    mou_version_in_force: int | None
    mobilities: Annotated[int, "mobilities under the MoU"]
    mobilities_by_status: dict[str, int]
    reviews: Annotated[int, "reviews of those mobilities"]
    reviews_by_status: dict[str, int]
    evaluations: Annotated[int, "evaluation sheets handed in"]
    questions: list[QuestionSummary]
    proposals: Annotated[list[Proposal], "what the parties proposed or remarked, per mobility"]
    action_plans: list[PlanSummary]
    actions_done: int
    actions_total: Annotated[int, "dropped actions do not count"]
    open_actions: list[OpenAction]
    conclusions: Annotated[list[ConclusionView], "earlier partnership reviews of this MoU"]


def partner_ids(mou: Mou) -> set[int]:
    """The MoU's partners: its sending organisation and every signing organisation of the current text."""
    return {mou.sending_organisation_id, *signing_ids(mous.current_version(mou).content)}


def _partner_mou(session: Session, actor: Actor, mou_id: int) -> Mou:
    mou = session.get(Mou, mou_id)
    if mou is None or not (actor.is_admin or partner_ids(mou) & actor.organisation_ids):
        raise NotFound(f"No MoU {mou_id}")
    return mou


def _counts(answers: list[str]) -> AnswerCounts:
    found = Counter(answers)
    return {"yes": found[Answer.YES], "partly": found[Answer.PARTLY], "no": found[Answer.NO]}


def _question(name: str, sheets: list[Evaluation]) -> QuestionSummary:
    return {"question": name, "overall": _counts([getattr(e, name) for e in sheets]),
            "by_party": {p: _counts([getattr(e, name) for e in sheets if e.party == p]) for p in ReviewParty.ALL
                         if any(e.party == p for e in sheets)}}


def _proposals(review: Review, sheets: list[Evaluation]) -> list[Proposal]:
    out: list[Proposal] = []
    for e in sheets:
        for kind in ("changes_proposed", "outcomes_comment", "evidence_comment", "strengths"):
            value = getattr(e, kind)
            if value:
                out.append({"mobility_id": review.mobility_id, "review_id": review.id, "party": e.party,
                            "kind": kind, "unit": None, "text": value})
        out += [{"mobility_id": review.mobility_id, "review_id": review.id, "party": e.party, "kind": "unit_remark",
                 "unit": r.get("unit"), "text": str(r.get("remark"))} for r in e.unit_remarks or []]
    return out


def get_conclusion(session: Session, *, actor: Actor, partnership_review_id: int) -> PartnershipReview:
    """One recorded partnership review (conclusions and the summary as read), for the MoU's partners."""
    row = session.get(PartnershipReview, partnership_review_id)
    if row is None:
        raise NotFound(f"No partnership review {partnership_review_id}")
    try:
        _partner_mou(session, actor, row.mou_id)
    except NotFound:
        raise NotFound(f"No partnership review {partnership_review_id}") from None
    return row


def conclusion_view(row: PartnershipReview) -> ConclusionView:
    return {"id": row.id, "mou_id": row.mou_id, "mou_version_reviewed": row.mou_version_reviewed,
            "conclusions": row.conclusions, "revision_requested": row.revision_requested,
            "organisation_id": row.organisation_id, "created_by": row.created_by, "created_at": row.created_at}


def _summary_of(session: Session, mou: Mou, actor: Actor | None = None) -> PartnershipReviewSummary:
    """The answers counted and the proposals quoted only from the sheets the reader may read (issue 16: the
    MoU's evaluation visibility; with one review, a count per party is that party's sheet), or, for the
    summary kept with a conclusion (no ``actor``), from the sheets every partner may read."""
    shared = visibility.readable_parties(session, mou.id, speaks_for={ReviewParty.SENDING}, is_admin=False) \
        & visibility.readable_parties(session, mou.id, speaks_for={ReviewParty.HOSTING}, is_admin=False)
    mobilities = list(session.scalars(select(Mobility).where(Mobility.mou_id == mou.id).order_by(Mobility.id)))
    reviews = list(session.scalars(select(Review).where(Review.mou_id == mou.id).order_by(Review.id)))
    sheets: list[Evaluation] = []
    counted: list[Evaluation] = []
    proposals: list[Proposal] = []
    plans: list[PlanSummary] = []
    open_actions: list[OpenAction] = []
    done_total = [0, 0]
    for review in reviews:
        of_review = service.evaluations_of(session, review)
        sheets += of_review
        readable = service.readable_parties(session, actor, review) if actor is not None else shared
        counted += [e for e in of_review if e.party in readable]
        proposals += _proposals(review, [e for e in of_review if e.party in readable])
        plan = service.action_plan_of(session, review)
        if plan is None:
            continue
        status, done, total = views.plan_progress([i.status for i in plan.items])
        done_total = [done_total[0] + done, done_total[1] + total]
        plans.append({"review_id": review.id, "mobility_id": review.mobility_id, "status": status,
                      "actions_done": done, "actions_total": total, "summary": plan.summary,
                      "revise_mou": plan.revise_mou, "mou_changes": plan.mou_changes})
        open_actions += [{"review_id": review.id, "mobility_id": review.mobility_id, "action": i.action,
                          "owner_name": i.owner_name, "due_date": i.due_date, "status": i.status}
                         for i in plan.items if i.status in ("open", "in_progress")]
    in_force = mous.in_force_version(mou)
    earlier = session.scalars(select(PartnershipReview).where(PartnershipReview.mou_id == mou.id)
                              .order_by(PartnershipReview.id))
    return {
        "mou_id": mou.id, "mou_status": mou.status, "mou_version_in_force": in_force.number if in_force else None,
        "mobilities": len(mobilities), "mobilities_by_status": dict(Counter(m.status for m in mobilities)),
        "reviews": len(reviews), "reviews_by_status": dict(Counter(r.status for r in reviews)),
        "evaluations": len(sheets),
        "questions": [_question("outcomes_appropriate", counted), _question("evidence_sufficient", counted)],
        "proposals": proposals, "action_plans": plans, "actions_done": done_total[0], "actions_total": done_total[1],
        "open_actions": sorted(open_actions, key=lambda a: (a["due_date"], a["review_id"])),
        "conclusions": [conclusion_view(r) for r in earlier],
    }


def summary(session: Session, *, actor: Actor, mou_id: int) -> PartnershipReviewSummary:
    """The review across every mobility of the MoU, for its partners and admins (404 for anyone else)."""
    return _summary_of(session, _partner_mou(session, actor, mou_id), actor)


def conclude(
    session: Session, *, actor: Actor, mou_id: int, conclusions: Any, request_revision: Any = False,
) -> PartnershipReview:
    """A partner records the conclusions of the review across the MoU and, with `request_revision`, starts
    the MoU revision with them. 404 for anyone but the partners, 403 for an administrator (the partners
    conclude), 422 without conclusions, 409 for a revision of a MoU not in force or that no Partnership
    process waits to revise (nothing is stored then)."""
    mou = _partner_mou(session, actor, mou_id)
    mine = sorted(partner_ids(mou) & actor.organisation_ids)
    if not mine:
        raise Forbidden("The partners of the MoU conclude its review")
    if not isinstance(conclusions, str) or not conclusions.strip() or len(conclusions) > _CONCLUSIONS_MAX:
        raise Invalid("Write the conclusions of the review",
                      errors={"conclusions": [f"A text of 1 to {_CONCLUSIONS_MAX} characters"]})
    if not isinstance(request_revision, bool):
        raise Invalid("Say whether the MoU is to be revised", errors={"request_revision": ["True or false"]})
    if request_revision and mou.status != MouStatus.ACTIVE:
        raise Conflict(f"The MoU is {mou.status}: only a MoU in force is revised")
    in_force = mous.in_force_version(mou)
    row = PartnershipReview(mou_id=mou.id, mou_version_reviewed=in_force.number if in_force else None,
                            summary=_jsonable(_summary_of(session, mou)), conclusions=conclusions.strip(),
                            revision_requested=request_revision, organisation_id=mine[0], created_by=actor.user_id)
    session.add(row)
    session.flush()
    delivered_to = None
    if request_revision:
        payload = {"mou_id": mou.id, "review_id": None, "source": SOURCE, "changes": row.conclusions,
                   "comment": None, "partnership_review_id": row.id}
        try:
            delivered = messages.deliver(session, actor=actor, name=REVISION_MESSAGE,
                                         correlation_keys={"mou": {"mou_id": mou.id}}, payload=payload,
                                         keep=False)
            delivered_to = delivered.instance_id
        except NotFound as exc:
            raise Conflict("No Partnership process waits to revise this MoU (a revision may be under way "
                           "already): nothing was recorded") from exc
    audit.record(session, actor_id=actor.user_id, action="partnership_review.concluded", mou_id=mou.id,
                 partnership_review_id=row.id, revision_requested=request_revision, instance_id=delivered_to)
    return row


def _jsonable(value: Any) -> Any:
    """Dates as ISO text: the summary is kept as JSON, as the partners read it."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, date | datetime) else value
