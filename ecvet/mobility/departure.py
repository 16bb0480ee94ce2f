"""The start date: the mobility goes live with its Learning Agreement in force, or the start is missed and
the sending organisation postpones it to new dates (or cancels it, :func:`ecvet.mobility.service.cancel`).

Both :func:`go_live` and :func:`start_missed` are run by the Mobility process's timers through the worker.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.mobility import learning_agreement, service
from ecvet.mobility.models import Mobility, MobilityStatus, MobilityStatusChange
from ecvet.mobility.nomination import check_dates, parse_date
from ecvet.partnership.models import Mou
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import utcnow
from engine.parties import Actor

#: How often a mobility may be postponed: each postponement re-enters the "before" phase of the
#: process, and the engine's task tree must stay far below its depth limit (hazard 7).
MAX_POSTPONEMENTS = 10
POSTPONED = "postponed"
START_MISSED = "start date reached without a Learning Agreement in force"


def go_live(session: Session, *, mobility_id: int, actor: Actor | None = None) -> Mobility:
    """The start date has come and the Learning Agreement is in force: the mobility is live.

    Run by the process (worker) at the start date; refused (409) before the start date or when the
    Learning Agreement lacks a signature or approval."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("The mobility goes live by the process, at its start date")
    mobility = service.locked(session, mobility_id)
    if utcnow().date() < mobility.start_date:
        raise Conflict(f"The mobility starts on {mobility.start_date.isoformat()}")
    la = service.current_agreement(session, mobility)
    if la is None or not learning_agreement.in_force(session, la):
        raise Conflict("The Learning Agreement is not signed (and approved where required): the mobility cannot "
                       "start")
    service.transition(session, mobility, MobilityStatus.LIVE, actor_id=actor.user_id if actor else None,
               reason=f"started on {mobility.start_date.isoformat()} with Learning Agreement version "
                      f"{learning_agreement.current_version(session, la).number} in force")
    return mobility


def start_missed(session: Session, *, mobility_id: int) -> dict[str, Any]:
    """Record that the start date came without the Learning Agreement in force (run by the process's
    timer through the worker), and say where the signing stood."""
    mobility = service.locked(session, mobility_id)
    if mobility.status != MobilityStatus.NOMINATION:
        raise Conflict(f"The mobility is {mobility.status}")
    la = service.current_agreement(session, mobility)
    state: dict[str, Any] = {"la_id": None, "la_status": None, "la_version": None, "la_next_party": None}
    if la is not None:
        state = {"la_id": la.id, "la_status": la.status,
                 "la_version": learning_agreement.current_version(session, la).number,
                 "la_next_party": learning_agreement.next_party(session, la)}
    if la is not None and learning_agreement.in_force(session, la):
        raise Conflict("The Learning Agreement is in force: the mobility can start")
    reason = f"{START_MISSED}: the Learning Agreement was " + (
        "not prepared" if la is None else f"{la.status} (version {state['la_version']}, "
                                          f"{state['la_next_party']} to sign next)")
    session.add(MobilityStatusChange(mobility_id=mobility.id, old_status=mobility.status, new_status=mobility.status,
                                     reason=reason, changed_at=utcnow(), changed_by=None))
    session.flush()
    audit.record(session, actor_id=None, action="mobility.start_missed", mobility_id=mobility.id,
                 start_date=mobility.start_date.isoformat(), **state)
    return state


def postpone(
    session: Session, *, actor: Actor, mobility_id: int, start_date: date | str | None, end_date: date | str | None,
    reason: str
) -> Mobility:
    """Move a mobility that could not start (its Learning Agreement was not in force) to new dates.

    The sending organisation decides; only a nominated mobility moves, within the MoU's limits, at
    most :data:`MAX_POSTPONEMENTS` times. Signatures already given keep counting."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    mobility = service.locked(session, mobility.id)
    if not (actor.is_admin or service.is_sender(actor, mobility)):
        raise Forbidden("Only the sending organisation postpones a mobility")
    if mobility.status != MobilityStatus.NOMINATION:
        raise Conflict(f"The mobility is {mobility.status}; only a mobility that has not started is postponed")
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Say why the mobility is postponed"]
    start = parse_date(start_date, "start_date", errors)
    end = parse_date(end_date, "end_date", errors)
    mou = session.get(Mou, mobility.mou_id)
    assert mou is not None
    check_dates(session, mou, start, end, errors)
    if start is not None and start <= mobility.start_date:
        errors.setdefault("start_date", []).append("A postponement moves the start later")
    postponed = _postponements(session, mobility)
    if postponed >= MAX_POSTPONEMENTS:
        raise Conflict(f"The mobility was postponed {postponed} times already: cancel it and nominate again")
    if errors:
        raise Invalid("The postponement is not valid", errors=errors)
    assert start is not None
    assert end is not None
    learner = mobility.learner
    if learner.is_minor(start) and not (learner.guardian_name and learner.guardian_email):
        raise Invalid("On the new start date the learner is a minor: record a parent or guardian first",
                      errors={"start_date": ["The learner would be a minor without a guardian on record"]})
    old = (mobility.start_date, mobility.end_date)
    now = utcnow()
    mobility.start_date, mobility.end_date = start, end
    mobility.updated_at = now
    # Kept in the status history too (the status stays "nomination"): the dates moved, and why.
    session.add(MobilityStatusChange(
        mobility_id=mobility.id, old_status=mobility.status, new_status=mobility.status, changed_at=now,
        changed_by=actor.user_id, reason=f"{POSTPONED} from {old[0].isoformat()} to {start.isoformat()}: "
                                         f"{reason.strip()}"))
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mobility.postponed", mobility_id=mobility.id,
                 old_start=old[0].isoformat(), old_end=old[1].isoformat(), start=start.isoformat(),
                 end=end.isoformat(), reason=reason.strip(), postponement=postponed + 1)
    return mobility


def _postponements(session: Session, mobility: Mobility) -> int:
    return session.scalar(select(func.count(MobilityStatusChange.id)).where(
        MobilityStatusChange.mobility_id == mobility.id, MobilityStatusChange.reason.like(f"{POSTPONED} %"))) or 0


