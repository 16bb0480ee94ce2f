"""Erasure requests (GDPR Art. 17): recorded for the learner, by the learner, by their guardian while a
minor, or by the sending organisation on their behalf; carried out or refused by a member of a sending
organisation of the learner's mobilities within one month (Art. 12(3)); answered by e-mail to the
address held before the erasure, in the learner's language. Audited: ``erasure.requested``,
``erasure.carried_out``, ``erasure.refused``."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility import service as mobilities
from ecvet.mobility.models import Learner, Mobility, MobilityStatus
from ecvet.privacy import answer, erasure
from ecvet.privacy.models import ErasureRequest, ErasureStatus
from engine import audit
from engine.clock import now
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.mailer import Mailer, configured_mailer
from engine.mailtexts import language_of
from engine.models import User
from engine.parties import Actor

#: GDPR Art. 12(3): the answer is due within one month of the request.
ANSWER_WITHIN = timedelta(days=30)
NOTE_MAX = 2000


class RefusalReason:
    RUNNING_MOBILITY = "running_mobility"  # cancel or finish the mobility first
    BY_COORDINATOR = "by_coordinator"  # the coordinator's own words in refusal_note


def due_at(row: ErasureRequest) -> datetime:
    return row.requested_at + ANSWER_WITHIN


def _sending_organisations(session: Session, learner_id: int) -> set[int]:
    return set(session.scalars(select(Mobility.sending_organisation_id).where(Mobility.learner_id == learner_id)))


def _is_coordinator(session: Session, actor: Actor, learner_id: int) -> bool:
    return bool(actor.organisation_ids & _sending_organisations(session, learner_id))


def _acts_for(actor: Actor, learner: Learner) -> bool:
    """The learner, or the guardian while the learner is a minor."""
    if actor.user_id == learner.user_id:
        return True
    return actor.user_id == learner.guardian_user_id and learner.is_minor(now().date())


def _visible(session: Session, actor: Actor, row: ErasureRequest) -> bool:
    learner = session.get_one(Learner, row.learner_id)
    return actor.is_admin or _acts_for(actor, learner) or actor.user_id == row.requested_by \
        or _is_coordinator(session, actor, learner.id)


def request(session: Session, *, actor: Actor, learner_id: int) -> ErasureRequest:
    """Record a request to erase the learner's data: by the learner, the guardian of a minor, or a member
    of a sending organisation on the learner's behalf (403 for the other parties, 404 for anyone who
    does not see the learner, 409 while another request waits)."""
    learner = mobilities.get_learner(session, actor=actor, learner_id=learner_id)
    own = _acts_for(actor, learner)
    if not own and not _is_coordinator(session, actor, learner.id):
        raise Forbidden("Only the learner, their guardian while a minor, or the sending organisation asks for this")
    if session.scalar(select(ErasureRequest.id).where(ErasureRequest.learner_id == learner.id,
                                                      ErasureRequest.status == ErasureStatus.RECEIVED)):
        raise Conflict("An erasure request of this learner waits for its answer already")
    account = session.get(User, learner.user_id) if learner.user_id else None
    row = ErasureRequest(learner_id=learner.id, requested_by=actor.user_id, on_behalf=actor.user_id != learner.user_id,
                         status=ErasureStatus.RECEIVED, kept=[], erased=[],
                         language=language_of(account.language if account else None), requested_at=now())
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="erasure.requested", learner_id=learner.id,
                 erasure_request_id=row.id, on_behalf=row.on_behalf)
    return row


def get(session: Session, *, actor: Actor, request_id: int) -> ErasureRequest:
    row = session.get(ErasureRequest, request_id)
    if row is None or not _visible(session, actor, row):
        raise NotFound(f"No erasure request {request_id}")
    return row


def of_learner(session: Session, *, actor: Actor, learner_id: int) -> list[ErasureRequest]:
    learner = mobilities.get_learner(session, actor=actor, learner_id=learner_id)
    rows = session.scalars(select(ErasureRequest).where(ErasureRequest.learner_id == learner.id)
                           .order_by(ErasureRequest.id))
    return [r for r in rows if _visible(session, actor, r)]


def open_for(session: Session, *, actor: Actor) -> list[ErasureRequest]:
    """The requests waiting for an answer from the caller's organisations, oldest (most urgent) first."""
    if not actor.organisation_ids:
        return []
    learners = select(Mobility.learner_id).where(Mobility.sending_organisation_id.in_(actor.organisation_ids))
    return list(session.scalars(select(ErasureRequest).where(ErasureRequest.status == ErasureStatus.RECEIVED,
                                                             ErasureRequest.learner_id.in_(learners))
                                .order_by(ErasureRequest.requested_at, ErasureRequest.id)))


def may_answer(session: Session, actor: Actor, row: ErasureRequest) -> bool:
    """A member of a sending organisation of the learner's mobilities answers the request."""
    return _is_coordinator(session, actor, row.learner_id)


def _handled(session: Session, actor: Actor, request_id: int) -> tuple[ErasureRequest, Learner]:
    row = get(session, actor=actor, request_id=request_id)
    if not _is_coordinator(session, actor, row.learner_id):
        raise Forbidden("Only a member of the learner's sending organisation answers an erasure request")
    if row.status != ErasureStatus.RECEIVED:
        raise Conflict(f"This erasure request is {row.status} already")
    return row, session.get_one(Learner, row.learner_id)


def _close(session: Session, actor: Actor, row: ErasureRequest, status: str) -> None:
    row.status, row.handled_by, row.handled_at = status, actor.user_id, now()
    session.flush()


def _answer_to(learner: Learner) -> list[str]:
    """Where the answer goes: the learner's address, and the guardian's while the learner is a minor."""
    addresses = [learner.email]
    if learner.guardian_email and learner.is_minor(now().date()):
        addresses.append(learner.guardian_email)
    return addresses


def refuse(session: Session, *, actor: Actor, request_id: int, note: Any,
           mailer: Mailer | None = None) -> ErasureRequest:
    """Refuse the request, saying why (422 without a reason)."""
    if not isinstance(note, str) or not note.strip() or len(note) > NOTE_MAX:
        raise Invalid("Say why the request is refused", errors={"reason": [f"A text of 1 to {NOTE_MAX} characters"]})
    row, learner = _handled(session, actor, request_id)
    row.refusal_reason, row.refusal_note = RefusalReason.BY_COORDINATOR, note.strip()
    _close(session, actor, row, ErasureStatus.REFUSED)
    audit.record(session, actor_id=actor.user_id, action="erasure.refused", learner_id=learner.id,
                 erasure_request_id=row.id, reason=row.refusal_reason)
    answer.send(session, row, _answer_to(learner), mailer or configured_mailer())
    return row


def carry_out(session: Session, *, actor: Actor, request_id: int, mailer: Mailer | None = None) -> ErasureRequest:
    """Erase the learner's data except the evidence that must be kept; refused instead while one of the
    learner's mobilities still runs (cancel or finish it first)."""
    row, learner = _handled(session, actor, request_id)
    mailer = mailer or configured_mailer()
    addresses = _answer_to(learner)  # held before the erasure
    running = session.scalar(select(Mobility.id).where(Mobility.learner_id == learner.id, Mobility.status.in_(
        (MobilityStatus.NOMINATION, MobilityStatus.LIVE))))
    if running is not None:
        row.refusal_reason = RefusalReason.RUNNING_MOBILITY
        _close(session, actor, row, ErasureStatus.REFUSED)
        audit.record(session, actor_id=actor.user_id, action="erasure.refused", learner_id=learner.id,
                     erasure_request_id=row.id, reason=row.refusal_reason, mobility_id=running)
        answer.send(session, row, addresses, mailer)
        return row
    kept = erasure.kept_evidence(session, learner.id, today=now().date())
    result = erasure.erase_learner(session, learner_id=learner.id, actor_id=actor.user_id, keep=kept.keep)
    row = session.get_one(ErasureRequest, row.id)  # the erasure expired the session's objects
    row.kept = [{**k, "until": kept.until.get(k["what"])} for k in result.kept]
    row.erased = result.erased
    _close(session, actor, row, ErasureStatus.CARRIED_OUT)
    audit.record(session, actor_id=actor.user_id, action="erasure.carried_out", learner_id=learner.id,
                 erasure_request_id=row.id)
    answer.send(session, row, addresses, mailer)
    return row
