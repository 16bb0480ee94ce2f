"""Sweeps the domain runs on a schedule (a retention purge, a guardian's access ending at 18).

Each registered sweep is one row in the jobs table, re-enqueued after every run, so however many
workers run, a sweep runs once per interval, survives restarts and shows in the jobs like any other
work. The engine knows no domain: the domain registers its sweeps with :func:`register` at import time
(``ecvet/wiring.py`` loads them in the app and the worker alike).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import jobs
from .jobqueue import enqueue
from .models import Job, JobStatus, utcnow

KIND = "periodic"
Sweep = Callable[[Session], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    run: Sweep


#: The registered sweeps by name.
REGISTERED: dict[str, Periodic] = {}


def register(name: str, *, every: timedelta) -> Callable[[Sweep], Sweep]:
    """Run ``fn(session)`` every ``every`` in the worker, in its own unit of work."""

    def add(fn: Sweep) -> Sweep:
        REGISTERED[name] = Periodic(name, every, fn)
        return fn

    return add


def _planned(session: Session, *, besides: int | None = None) -> set[str]:
    """Names of the sweeps with a pending or running job (other than the job ``besides``)."""
    query = select(Job.payload).where(Job.kind == KIND, Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)))
    if besides is not None:
        query = query.where(Job.id != besides)
    return {str(payload.get("name")) for payload in session.scalars(query)}


def _enqueue(session: Session, sweep: Periodic, *, after: timedelta) -> None:
    enqueue(session, kind=KIND, due_at=utcnow() + after, payload={"name": sweep.name}, max_attempts=3)


def ensure_scheduled(session: Session) -> list[str]:
    """Enqueue, due now, each registered sweep with no pending or running job; returns their names."""
    planned = _planned(session)
    missing = [name for name in sorted(REGISTERED) if name not in planned]
    for name in missing:
        _enqueue(session, REGISTERED[name], after=timedelta(0))
    return missing


@jobs.handler(KIND)
def run_sweep(session: Session, job: Job) -> None:
    """Run the sweep the job names, then plan its next run (unless another worker already has)."""
    sweep = REGISTERED.get(str(job.payload.get("name", "")))
    if sweep is None:
        return  # no longer registered (its code was removed): the job ends without a successor
    sweep.run(session)
    if sweep.name not in _planned(session, besides=job.id):
        _enqueue(session, sweep, after=sweep.every)
