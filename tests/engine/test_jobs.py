"""engine/jobs.py: claiming due jobs and running each once: the job fence, the handler table, retries.

A worker whose lease ran out must not commit its job's effect: the job fence, tested where it can fail.

Two fences guard a job: ``run_claimed`` refuses to start when the job was re-claimed meanwhile (its
``attempts``/``locked_by`` no longer match the claim), and the job row's version column refuses the
commit of a worker that was overtaken while its handler ran (PostgreSQL; SQLite serialises writers,
so a second worker cannot claim while the first one's unit of work is open).
"""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from engine import audit, jobs
from engine.db import Database
from engine.models import AuditEvent, Job, JobStatus


def _effects(db: Database, job_id: int) -> list[str]:
    """Which workers' effects were committed for this job."""
    with db.transaction(write=False) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "fence.effect"))
        return [e.detail["worker"] for e in events if e.detail.get("job_id") == job_id]


def _job(db: Database, job_id: int) -> Job:
    with db.transaction(write=False) as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


@jobs.handler("fence_probe")
def _fence_probe(session, job) -> None:  # type: ignore[no-untyped-def]
    """The job's whole effect is one audit row naming the worker, so counting rows counts effects."""
    audit.record(session, actor_id=None, action="fence.effect", job_id=job.id, worker=job.locked_by)


def _enqueue(db: Database, kind: str) -> int:
    with db.transaction() as s:
        job = jobs.enqueue(s, kind=kind, max_attempts=3)
        s.flush()
        return job.id


def test_a_worker_whose_lease_ran_out_and_was_reclaimed_does_not_run_the_job(db: Database) -> None:
    job_id = _enqueue(db, "fence_probe")
    # Worker A claims with a lease that has already run out (it stalled, e.g. a long GC pause) ...
    [stale] = jobs.claim(db, worker_id="A", lease=timedelta(seconds=-1))
    # ... so worker B may take the job over.
    [fresh] = jobs.claim(db, worker_id="B")
    assert (stale.job_id, fresh.job_id) == (job_id, job_id) and fresh.attempt == stale.attempt + 1

    assert jobs.run_claimed(db, stale, worker_id="A") == "lost"
    assert _effects(db, job_id) == []
    assert jobs.run_claimed(db, fresh, worker_id="B") == "done"
    assert _effects(db, job_id) == ["B"]
    assert _job(db, job_id).status == JobStatus.DONE


def test_the_stale_worker_cannot_fail_or_reschedule_the_job_it_lost(db: Database) -> None:
    job_id = _enqueue(db, "no_such_handler_kind")
    [stale] = jobs.claim(db, worker_id="A", lease=timedelta(seconds=-1))
    [fresh] = jobs.claim(db, worker_id="B")
    assert jobs.run_claimed(db, stale, worker_id="A") == "lost"
    job = _job(db, job_id)
    assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING, "B", fresh.attempt)


def test_a_worker_overtaken_while_its_handler_runs_commits_nothing(db: Database) -> None:
    """A's lease runs out in the middle of its handler; B re-claims and finishes the job; A's effect,
    produced in its still-open unit of work, must be rolled back rather than committed a second time."""
    if db.is_sqlite:
        # SQLite: A's unit of work holds the database write lock, so B's claim waits for A to finish and
        # then sees the job done; there is no interleaving to fence. The test below covers SQLite's case.
        job_id = _enqueue(db, "fence_probe")
        [stale] = jobs.claim(db, worker_id="A", lease=timedelta(seconds=-1))
        assert jobs.run_claimed(db, stale, worker_id="A") == "done"
        assert jobs.claim(db, worker_id="B") == []
        assert _effects(db, job_id) == ["A"]
        return

    other = Database(db.url)
    outcome: dict[str, str] = {}

    @jobs.handler("fence_overtaken")
    def _overtaken(session, job) -> None:  # type: ignore[no-untyped-def]
        audit.record(session, actor_id=None, action="fence.effect", job_id=job.id, worker=job.locked_by)
        if job.locked_by == "A":
            # While A is still inside its transaction, B claims the expired job and runs it to the end.
            def worker_b() -> None:
                [claim_b] = jobs.claim(other, worker_id="B")
                outcome["B"] = jobs.run_claimed(other, claim_b, worker_id="B")

            thread = threading.Thread(target=worker_b)
            thread.start()
            thread.join(timeout=60)
            assert not thread.is_alive()

    try:
        job_id = _enqueue(db, "fence_overtaken")
        [stale] = jobs.claim(db, worker_id="A", lease=timedelta(seconds=-1))
        outcome["A"] = jobs.run_claimed(db, stale, worker_id="A")
    finally:
        jobs.HANDLERS.pop("fence_overtaken", None)
        other.dispose()

    assert outcome == {"B": "done", "A": "conflict"}
    assert _effects(db, job_id) == ["B"]
    job = _job(db, job_id)
    assert (job.status, job.locked_by) == (JobStatus.DONE, "B")
