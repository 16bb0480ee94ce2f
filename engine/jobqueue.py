"""The jobs table as a queue: what is due when, written in the caller's unit of work.

Everything below the worker schedules work only through here (timers, service tasks, messages,
notifications); running a due job is :mod:`engine.jobs`, which knows every handler.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from . import kept_rows
from .models import Job, JobStatus, utcnow


class RetryLater(Exception):  # noqa: N818 - a request to the job runner, not an error of the caller
    """Raised by a handler whose attempt failed but may succeed later; its effects are rolled back."""

    def __init__(self, message: str, *, delay: timedelta | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class JobFields(TypedDict, total=False):
    """What a job may say besides its kind: when it is due (now by default), what it is about, its
    payload and how many attempts it gets (at least one)."""

    due_at: datetime | None
    instance_id: str | None
    task_id: str | None
    payload: dict[str, Any] | None
    max_attempts: int


def enqueue(session: Session, *, kind: str, **fields: Unpack[JobFields]) -> Job:
    """Add a job of ``kind``; it commits with the caller's work. For a caller that needs the job itself
    (its id); :func:`add` is cheaper."""
    job = Job(**_row(kind, fields))
    session.add(job)
    return job


def add(session: Session, *, kind: str, **fields: Unpack[JobFields]) -> None:
    """:func:`enqueue` without handing the job back: a row the unit of work keeps and writes in one
    statement with its others (engine/kept_rows.py), which the schedulers of every save use."""
    row = _row(kind, fields)
    if not kept_rows.keep(session, Job, row):
        session.add(Job(**row))


def _row(kind: str, fields: JobFields) -> dict[str, Any]:
    now = utcnow()
    return {"kind": kind, "due_at": fields.get("due_at") or now, "instance_id": fields.get("instance_id"),
            "task_id": fields.get("task_id"), "payload": fields.get("payload") or {},
            "max_attempts": max(1, fields.get("max_attempts", 1)), "status": JobStatus.PENDING, "attempts": 0,
            "created_at": now, "row_version": 1}


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
    # An UPDATE's result is a cursor result: it has the row count.
    return cast("CursorResult[Any]", session.execute(stmt)).rowcount or 0


def backoff(attempt: int, base_seconds: float = 2.0, cap_seconds: float = 3600.0) -> timedelta:
    """Exponential backoff: 2 s, 4 s, 8 s ... capped at an hour."""
    return timedelta(seconds=min(cap_seconds, base_seconds * (2 ** max(0, attempt - 1))))
