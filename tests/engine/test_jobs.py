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
from sqlalchemy.orm import Session

from engine import audit, jobs
from engine.db import Database
from engine.errors import Conflict
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
    assert (stale.job_id, fresh.job_id) == (job_id, job_id)
    assert fresh.attempt == stale.attempt + 1

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


# -- running a claimed job: its outcome per what the handler did ----------------------------------------

ATTEMPTS: list[int] = []


@jobs.handler("retry_probe")
def _retry_probe(session: Session, job: Job) -> None:
    """Asks to be retried until its third attempt, then succeeds with an audit row."""
    ATTEMPTS.append(job.attempts)
    if job.attempts < 3:
        raise jobs.RetryLater("not yet", delay=timedelta(microseconds=1))  # due again at once
    audit.record(session, actor_id=None, action="retry.done", attempts=job.attempts)


@jobs.handler("conflict_probe")
def _conflict_probe(session: Session, job: Job) -> None:  # noqa: ARG001 - a handler's signature
    raise Conflict("someone else changed the instance")


def _run(db: Database, job_id: int) -> str:
    (claim,) = [c for c in jobs.claim(db, worker_id="w1", limit=10) if c.job_id == job_id]
    return jobs.run_claimed(db, claim, worker_id="w1")


def test_the_engine_handles_its_own_kinds_of_jobs() -> None:
    assert {"timer", "service", "message", "notify"} <= set(jobs.HANDLERS)


def test_a_job_asking_to_be_retried_runs_again_until_it_succeeds_or_runs_out(db: Database) -> None:
    ATTEMPTS.clear()
    job_id = _enqueue(db, "retry_probe")  # three attempts allowed
    assert [_run(db, job_id), _run(db, job_id), _run(db, job_id)] == ["retry", "retry", "done"]
    assert ATTEMPTS == [1, 2, 3]
    assert _job(db, job_id).status == JobStatus.DONE
    with db.transaction() as s:
        once = jobs.enqueue(s, kind="retry_probe", max_attempts=1)
    ATTEMPTS.clear()
    assert _run(db, once.id) == "failed"
    assert (_job(db, once.id).status, _job(db, once.id).last_error) == (JobStatus.FAILED, "not yet")


def test_a_conflict_is_tried_again_soon_without_using_an_attempt(db: Database) -> None:
    job_id = _enqueue(db, "conflict_probe")
    assert _run(db, job_id) == "conflict"
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.PENDING, 0, "conflict with a concurrent change")


def test_a_job_of_a_kind_nobody_handles_fails_with_the_reason(db: Database) -> None:
    job_id = _enqueue(db, "nobody_handles_this")
    assert _run(db, job_id) == "failed"
    assert "no handler for job kind 'nobody_handles_this'" in (_job(db, job_id).last_error or "")


def test_run_due_runs_jobs_until_none_is_due(db: Database) -> None:
    ATTEMPTS.clear()
    job_id = _enqueue(db, "retry_probe")
    assert jobs.run_due(db) == 3  # each retry is due again at once
    assert _job(db, job_id).status == JobStatus.DONE
    assert jobs.run_due(db) == 0
