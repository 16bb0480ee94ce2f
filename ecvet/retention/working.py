"""Engine working data past its short fixed period: sign-in throttle rows, ended API tokens, sent mails,
finished jobs, old pending messages. Plain deletes: none of it is evidence."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from ecvet.retention.policy import engine_period
from engine.models import ApiToken, Job, JobStatus, OutboxMessage, PendingMessage, SignInThrottle


@dataclass(frozen=True)
class Sweep:
    kind: str
    model: Any
    key: Any  # the primary key column reported
    expired: Callable[[datetime], ColumnElement[bool]]


def _throttle(cutoff: datetime) -> ColumnElement[bool]:
    return and_(SignInThrottle.window_started_at < cutoff,
                or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < cutoff))


def _tokens(cutoff: datetime) -> ColumnElement[bool]:
    return or_(ApiToken.expires_at < cutoff, ApiToken.revoked_at < cutoff)


def _outbox(cutoff: datetime) -> ColumnElement[bool]:
    return func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff


def _jobs(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Job.status.in_((JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)), Job.finished_at < cutoff)


def _messages(cutoff: datetime) -> ColumnElement[bool]:
    return func.coalesce(PendingMessage.delivered_at, PendingMessage.expires_at) < cutoff


SWEEPS = (
    Sweep("sign_in_throttle", SignInThrottle, SignInThrottle.email, _throttle),
    Sweep("api_tokens", ApiToken, ApiToken.id, _tokens),
    Sweep("outbox", OutboxMessage, OutboxMessage.id, _outbox),
    Sweep("finished_jobs", Job, Job.id, _jobs),
    Sweep("pending_messages", PendingMessage, PendingMessage.id, _messages),
)


def expired(session: Session, sweep: Sweep, now: datetime) -> list[Any]:
    """Keys of the rows of ``sweep`` past their period at ``now``."""
    cutoff = now - engine_period(sweep.kind)
    return list(session.scalars(select(sweep.key).where(sweep.expired(cutoff)).order_by(sweep.key)))


def remove(session: Session, sweep: Sweep, keys: list[Any]) -> None:
    if keys:
        session.execute(delete(sweep.model).where(sweep.key.in_(keys)),
                        execution_options={"synchronize_session": False})
