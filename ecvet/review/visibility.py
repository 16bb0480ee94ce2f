"""Who reads which evaluation sheets of a review: a policy per MoU the partners set (issue 16).

By default each party reads its own sheet and the action plan (``own``); the partners may choose that
the partner organisations read each other's sheets (``partners``). A learner reads only their own sheet,
whatever the policy, and nobody but the learner (and administrators) reads the learner's. A member of
a signing partner of the MoU (its sending organisation or a signing organisation of the current text)
sets the policy; every change is audited. :mod:`ecvet.review.service` applies it wherever a sheet is read.
"""
from __future__ import annotations

from typing import Annotated, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.partnership.approvers import signing_ids
from ecvet.partnership.models import Mou
from ecvet.partnership.mou import current_version
from ecvet.partnership.mou import get as get_mou
from ecvet.review.models import EvaluationVisibility, EvaluationVisibilityPolicy, ReviewParty
from engine import audit
from engine.errors import Forbidden, Invalid
from engine.models import utcnow
from engine.parties import Actor

_ORGANISATIONS = frozenset({ReviewParty.SENDING, ReviewParty.HOSTING})


class VisibilityView(TypedDict):
    """Who reads the evaluation sheets of the reviews under one MoU."""

    mou_id: int
    visibility: Annotated[str, "own: each party its own sheet and the action plan (default); partners: the "
                               "partner organisations each other's too. A learner only ever reads their own."]
    set_by: int | None
    set_at: Annotated[str | None, "ISO 8601; null while the default applies"]


def _row(session: Session, mou_id: int) -> EvaluationVisibilityPolicy | None:
    return session.scalar(select(EvaluationVisibilityPolicy).where(EvaluationVisibilityPolicy.mou_id == mou_id))


def policy(session: Session, mou_id: int | None) -> str:
    """The policy of the MoU (``own`` when none was set, or for a review without a MoU)."""
    row = _row(session, mou_id) if mou_id is not None else None
    return row.visibility if row is not None else EvaluationVisibility.OWN


def readable_parties(session: Session, mou_id: int | None, *, speaks_for: set[str], is_admin: bool) -> set[str]:
    """Whose sheets (of :class:`ReviewParty`) a reader who speaks for ``speaks_for`` may read."""
    if is_admin:
        return set(ReviewParty.ALL)
    readable = set(speaks_for)
    if speaks_for & _ORGANISATIONS and policy(session, mou_id) == EvaluationVisibility.PARTNERS:
        readable |= _ORGANISATIONS
    return readable


def view(session: Session, *, actor: Actor, mou_id: int) -> VisibilityView:
    """The MoU's policy, for its parties and admins (404 for anyone else)."""
    get_mou(session, actor=actor, mou_id=mou_id)
    row = _row(session, mou_id)
    return {"mou_id": mou_id, "visibility": row.visibility if row else EvaluationVisibility.OWN,
            "set_by": row.set_by if row else None, "set_at": row.set_at.isoformat() if row else None}


def set_policy(session: Session, *, actor: Actor, mou_id: int, visibility: str) -> VisibilityView:
    """A member of a signing partner sets the MoU's policy (404 for non-parties, 403 for other parties and
    administrators, 422 for an unknown policy); audited as ``review.evaluation_visibility_set``."""
    mou: Mou = get_mou(session, actor=actor, mou_id=mou_id)
    partners = {mou.sending_organisation_id, *signing_ids(current_version(mou).content)}
    if not partners & actor.organisation_ids:
        raise Forbidden("Only a member of a signing partner of the MoU sets who reads the evaluation sheets")
    if visibility not in EvaluationVisibility.ALL:
        raise Invalid("Unknown policy", errors={"visibility": [f"One of {', '.join(EvaluationVisibility.ALL)}"]})
    row = _row(session, mou_id)
    old = row.visibility if row is not None else EvaluationVisibility.OWN
    if row is None:
        row = EvaluationVisibilityPolicy(mou_id=mou_id)
        session.add(row)
    row.visibility, row.set_by, row.set_at = visibility, actor.user_id, utcnow()
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="review.evaluation_visibility_set", mou_id=mou_id,
                 old=old, new=visibility)
    return view(session, actor=actor, mou_id=mou_id)
