"""Running the jobs table: claim due jobs safely across workers, run each once, retry with backoff.

Each kind of job has its handler in :mod:`engine.handlers` (timers, service tasks, messages, e-mail);
enqueueing is :mod:`engine.jobqueue`, which everything below the worker uses. The queue's names
(``enqueue``, ``cancel_pending``, ``backoff``, ``RetryLater``) are importable from here too.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from . import handlers
from .db import Database
from .errors import Conflict
from .jobqueue import RetryLater, backoff, cancel_pending, enqueue
from .models import Job, JobStatus, utcnow

__all__ = [
    "HANDLERS",
    "Claim",
    "Handler",
    "RetryLater",
    "backoff",
    "cancel_pending",
    "claim",
    "default_worker_id",
    "enqueue",
    "handler",
    "run_claimed",
    "run_claimed_together",
    "run_together",
    "run_due",
]

log = logging.getLogger("ecvet.jobs")

Handler = Callable[[Session, Job], None]
#: Handler per job kind: the engine's own, plus any registered with :func:`handler`.
HANDLERS: dict[str, Handler] = dict(handlers.BY_KIND)
#: Kinds whose claimed jobs can run many in one unit of work (True: done; False: declined, nothing done).
TogetherHandler = Callable[[Session, list[Job]], bool]
TOGETHER: dict[str, TogetherHandler] = dict(handlers.TOGETHER_BY_KIND)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of jobs of ``kind`` (a kind of the engine's own is replaced)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


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


def run_claimed_together(db: Database, items: list[Claim], *, worker_id: str) -> list[Claim]:
    """Run claimed jobs of one kind in one unit of work when their kind allows it (e-mail notices
    recorded in the outbox): one transaction and a handful of statements for the batch instead of
    several per job. Returns the claims still to run one by one with :func:`run_claimed`: all of them
    when the kind cannot, the handler declined or the unit of work failed (rolled back: nothing of it
    stays, and each job then gets its own retry or failure). Jobs another worker re-claimed are left out."""
    kinds = {item.kind for item in items}
    if len(items) <= 1 or len(kinds) != 1:
        return items
    kind = kinds.pop()
    together = TOGETHER.get(kind)
    # A handler registered over the engine's own (jobs.handler) runs as registered: one job at a time.
    if together is None or HANDLERS.get(kind) is not handlers.BY_KIND.get(kind):
        return items
    try:
        with db.transaction() as session:
            claimed = {item.job_id: item for item in items}
            rows = session.scalars(select(Job).where(Job.id.in_(claimed)).order_by(Job.id))
            mine = [job for job in rows if job.status == JobStatus.RUNNING and job.locked_by == worker_id
                    and job.attempts == claimed[job.id].attempt]
            if mine and not together(session, mine):
                return items
            if mine:
                session.execute(
                    update(Job).where(Job.id.in_([job.id for job in mine]))
                    .values(status=JobStatus.DONE, finished_at=utcnow(), lease_until=None,
                            row_version=Job.row_version + 1)
                    .execution_options(synchronize_session=False))
        return []
    except Exception:  # noqa: BLE001 - rolled back: each job runs again on its own, with its own outcome
        log.warning("%s jobs of kind %s could not run together; running them one by one", len(items), kind,
                    exc_info=True)
        return items


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
        for item in run_together(db, claims, worker_id=worker_id):
            run_claimed(db, item, worker_id=worker_id)
        total += len(claims)
    return total


def run_together(db: Database, claims: list[Claim], *, worker_id: str) -> list[Claim]:
    """Run what a batch of claims can run together (per kind, :func:`run_claimed_together`); returns the
    rest, in the order they were claimed, for :func:`run_claimed`."""
    by_kind: dict[str, list[Claim]] = {}
    for item in claims:
        by_kind.setdefault(item.kind, []).append(item)
    left: set[int] = set()
    for items in by_kind.values():
        left.update(item.job_id for item in run_claimed_together(db, items, worker_id=worker_id))
    return [item for item in claims if item.job_id in left]
