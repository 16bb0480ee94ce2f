"""engine.periodic: a registered sweep runs once per interval, whatever the number of workers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock, jobs, periodic
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, Job, JobStatus, utcnow


@pytest.fixture
def sweep(monkeypatch: pytest.MonkeyPatch) -> str:
    def run(session: Session) -> None:
        audit.record(session, actor_id=None, action="sweep.ran")

    # Only this sweep: the domain's own (retention purge...) are registered once any test loaded the wiring.
    monkeypatch.setattr(periodic, "REGISTERED", {})
    periodic.register("test-sweep", every=timedelta(hours=1))(run)
    return "test-sweep"


def _ran(db: Database) -> int:
    with db.transaction(write=False) as s:
        return len(s.scalars(select(AuditEvent).where(AuditEvent.action == "sweep.ran")).all())


def test_a_sweep_runs_once_then_again_after_its_interval(db: Database, sweep: str) -> None:
    frozen = FrozenClock(utcnow())
    previous = clock.use(frozen)
    try:
        with db.transaction() as s:
            assert sweep in periodic.ensure_scheduled(s)
            assert periodic.ensure_scheduled(s) == []  # a second worker's call adds nothing
        jobs.run_due(db)
        assert _ran(db) == 1
        jobs.run_due(db)
        assert _ran(db) == 1  # the next run is an hour away
        with db.transaction() as s:
            assert periodic.ensure_scheduled(s) == []
            (pending,) = s.scalars(select(Job).where(Job.kind == periodic.KIND, Job.status == JobStatus.PENDING))
            assert pending.payload == {"name": sweep}
        frozen.advance(timedelta(hours=1, seconds=1))
        jobs.run_due(db)
        assert _ran(db) == 2
    finally:
        clock.use(previous)


def test_a_sweep_no_longer_registered_ends_without_a_successor(db: Database, sweep: str) -> None:
    with db.transaction() as s:
        periodic.ensure_scheduled(s)
    periodic.REGISTERED.pop(sweep)
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        assert s.scalars(select(Job).where(Job.kind == periodic.KIND, Job.status == JobStatus.PENDING)).all() == []
    assert _ran(db) == 0
