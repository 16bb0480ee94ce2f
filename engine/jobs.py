"""The jobs table: enqueue due work, claim it safely across workers, run it once, retry with backoff."""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .db import Database
from .errors import Conflict
from .models import Job, JobStatus, utcnow

log = logging.getLogger("ecvet.jobs")

Handler = Callable[[Session, Job], None]
HANDLERS: dict[str, Handler] = {}


class RetryLater(Exception):
    """Raised by a handler whose attempt failed but may succeed later; its effects are rolled back."""

    def __init__(self, message: str, *, delay: timedelta | None = None) -> None:
        super().__init__(message)
        self.delay = delay


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(
    session: Session,
    *,
    kind: str,
    due_at: datetime | None = None,
    instance_id: str | None = None,
    task_id: str | None = None,
    payload: dict[str, Any] | None = None,
    max_attempts: int = 1,
) -> Job:
    job = Job(kind=kind, due_at=due_at or utcnow(), instance_id=instance_id, task_id=task_id,
              payload=payload or {}, max_attempts=max(1, max_attempts))
    session.add(job)
    return job


def cancel_pending(session: Session, *, instance_id: str, kinds: tuple[str, ...] | None = None) -> int:
    """Cancel an instance's pending jobs (suspend, terminate, a timer replaced by a new deadline)."""
    stmt = (
        update(Job)
        .where(Job.instance_id == instance_id, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), row_version=Job.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    if kinds:
        stmt = stmt.where(Job.kind.in_(kinds))
    return session.execute(stmt).rowcount or 0


def backoff(attempt: int, base_seconds: float = 2.0, cap_seconds: float = 3600.0) -> timedelta:
    """Exponential backoff: 2 s, 4 s, 8 s ... capped at an hour."""
    return timedelta(seconds=min(cap_seconds, base_seconds * (2 ** max(0, attempt - 1))))


@dataclass(frozen=True)
class Claim:
    job_id: int
    kind: str
    attempt: int


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim(db: Database, *, worker_id: str, limit: int = 10, lease: timedelta = timedelta(seconds=60)) -> list[Claim]:
    """Take up to `limit` due jobs (or jobs whose worker's lease ran out) for this worker.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets workers claim disjoint jobs without waiting. SQLite:
    the write transaction is taken up front (BEGIN IMMEDIATE), which serialises claims.
    """
    now = utcnow()
    due = or_(
        and_(Job.status == JobStatus.PENDING, Job.due_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_until < now),
    )
    claims: list[Claim] = []
    with db.transaction() as session:
        stmt = select(Job).where(due).order_by(Job.due_at, Job.id).limit(limit).with_for_update(skip_locked=True)
        for job in session.scalars(stmt):
            job.status = JobStatus.RUNNING
            job.locked_by = worker_id
            job.lease_until = now + lease
            job.attempts += 1
            claims.append(Claim(job.id, job.kind, job.attempts))
    return claims


def run_claimed(db: Database, item: Claim, *, worker_id: str) -> str:
    """Run one claimed job; its effect and its 'done' mark commit together or not at all."""
    fn = HANDLERS.get(item.kind)
    try:
        with db.transaction() as session:
            job = session.get(Job, item.job_id)
            if job is None or job.status != JobStatus.RUNNING or job.attempts != item.attempt \
                    or job.locked_by != worker_id:
                return "lost"  # another worker re-claimed it after our lease ran out
            if fn is None:
                raise LookupError(f"no handler for job kind '{item.kind}'")
            fn(session, job)
            job.status = JobStatus.DONE
            job.finished_at = utcnow()
            job.lease_until = None
        return "done"
    except Conflict:
        # Fenced: someone else changed the instance or the job meanwhile; try again soon.
        _reschedule(db, item, worker_id, "conflict with a concurrent change", timedelta(seconds=1), count=False)
        return "conflict"
    except RetryLater as exc:
        if item.attempt < _max_attempts(db, item.job_id):
            _reschedule(db, item, worker_id, str(exc), exc.delay or backoff(item.attempt))
            return "retry"
        _fail(db, item, worker_id, str(exc))
        return "failed"
    except BaseException as exc:  # noqa: BLE001 - a broken job must never stop the worker
        if isinstance(exc, KeyboardInterrupt):
            raise
        log.exception("job %s (%s) failed", item.job_id, item.kind)
        _fail(db, item, worker_id, f"{type(exc).__name__}: {exc}")
        return "failed"


def _max_attempts(db: Database, job_id: int) -> int:
    with db.transaction(write=False) as session:
        job = session.get(Job, job_id)
        return job.max_attempts if job else 1


def _reschedule(db: Database, item: Claim, worker_id: str, error: str, delay: timedelta, *, count: bool = True) -> None:
    with db.transaction() as session:
        job = session.get(Job, item.job_id)
        if job is None or job.attempts != item.attempt or job.locked_by != worker_id:
            return
        job.status = JobStatus.PENDING
        job.due_at = utcnow() + delay
        job.lease_until = None
        job.last_error = error[:2000]
        if not count:
            job.attempts -= 1


def _fail(db: Database, item: Claim, worker_id: str, error: str) -> None:
    with db.transaction() as session:
        job = session.get(Job, item.job_id)
        if job is None or job.attempts != item.attempt or job.locked_by != worker_id:
            return
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
        job.last_error = error[:2000]
        job.lease_until = None


def run_due(db: Database, *, worker_id: str | None = None, limit: int = 100, max_rounds: int = 50) -> int:
    """Run due jobs until none is due (jobs may enqueue more due work); returns how many ran."""
    worker_id = worker_id or default_worker_id()
    total = 0
    for _ in range(max_rounds):
        claims = claim(db, worker_id=worker_id, limit=limit)
        if not claims:
            break
        for item in claims:
            run_claimed(db, item, worker_id=worker_id)
        total += len(claims)
    return total
