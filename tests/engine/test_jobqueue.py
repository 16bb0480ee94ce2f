"""engine/jobqueue.py: enqueueing due work in the caller's unit of work, cancelling it, backing off."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bench.generate import script_process
from engine import instances, jobqueue
from engine.db import Database
from engine.models import Job, JobStatus
from engine.parties import Actor
from tests.support.engine import deploy
from tests.support.statements import counted

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.usefixtures("frozen")
def test_a_job_is_due_now_unless_told_otherwise_and_commits_with_its_unit_of_work(
        db: Database) -> None:
    with db.transaction() as s:
        now = jobqueue.enqueue(s, kind="probe", payload={"n": 1})
        later = jobqueue.enqueue(s, kind="probe", due_at=T0 + timedelta(hours=1), max_attempts=0)
    with db.transaction(write=False) as s:
        rows = {j.id: j for j in s.scalars(select(Job))}
    assert rows[now.id].due_at == T0
    assert rows[now.id].payload == {"n": 1}
    assert rows[later.id].due_at == T0 + timedelta(hours=1)
    assert rows[later.id].max_attempts == 1
    try:
        with db.transaction() as s:
            jobqueue.enqueue(s, kind="probe")
            raise RuntimeError("the change fails")
    except RuntimeError:
        pass
    with db.transaction(write=False) as s:
        assert len(list(s.scalars(select(Job)))) == 2  # rolled back with the change


def test_cancel_pending_touches_only_that_instances_pending_jobs_of_those_kinds(db: Database, admin: Actor) -> None:
    deploy(db, {"p.bpmn": script_process("p", "x = 1")})
    with db.transaction() as s:
        one, two = (instances.start(s, actor=admin, process_key="p", parties={}).id for _ in range(2))
    with db.transaction() as s:
        timer = jobqueue.enqueue(s, kind="timer", instance_id=one)
        notify = jobqueue.enqueue(s, kind="notify", instance_id=one)
        other = jobqueue.enqueue(s, kind="timer", instance_id=two)
        done = jobqueue.enqueue(s, kind="timer", instance_id=one)
        done.status = JobStatus.DONE
    with db.transaction() as s:
        assert jobqueue.cancel_pending(s, instance_id=one, kinds=("timer",)) == 1
    with db.transaction() as s:
        # the notification, and the mail telling the initiator of the task the instance waits on
        assert jobqueue.cancel_pending(s, instance_id=one) == 2
    with db.transaction(write=False) as s:
        ours = (timer.id, notify.id, other.id, done.id)
        status = {j.id: j.status for j in s.scalars(select(Job).where(Job.id.in_(ours)))}
    assert status == {timer.id: JobStatus.CANCELLED, notify.id: JobStatus.CANCELLED,
                      other.id: JobStatus.PENDING, done.id: JobStatus.DONE}


def test_backoff_doubles_from_two_seconds_up_to_an_hour() -> None:
    assert [jobqueue.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert jobqueue.backoff(40) == timedelta(hours=1)
    assert jobqueue.backoff(2, base_seconds=60) == timedelta(minutes=2)


def test_a_retry_request_carries_its_delay() -> None:
    retry = jobqueue.RetryLater("busy", delay=timedelta(seconds=30))
    assert str(retry) == "busy"
    assert retry.delay == timedelta(seconds=30)


def test_added_jobs_are_written_together_and_seen_by_what_follows_in_the_unit_of_work(
        db: Database, admin: Actor) -> None:
    """jobqueue.add keeps rows (engine/kept_rows.py): one INSERT for all at the commit, yet an UPDATE or a
    read later in the unit of work sees them, as autoflush shows ORM objects; a rolled-back savepoint
    takes only its own."""
    deploy(db, {"p.bpmn": script_process("p", "x = 1")})
    with db.transaction() as s:
        one = instances.start(s, actor=admin, process_key="p", parties={}).id
    with counted(db.engine) as statements, db.transaction() as s:
        for n in range(4):
            jobqueue.add(s, kind="probe", instance_id=one, payload={"n": n})
    assert len([text for text in statements if text.startswith("INSERT INTO jobs")]) == 1
    with db.transaction() as s:
        jobqueue.add(s, kind="timer", instance_id=one)
        assert jobqueue.cancel_pending(s, instance_id=one, kinds=("timer",)) == 1
        jobqueue.add(s, kind="kept", instance_id=one)
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "kept")) == 1
        savepoint = s.begin_nested()
        jobqueue.add(s, kind="previewed", instance_id=one)
        savepoint.rollback()
    with db.transaction(write=False) as s:
        kinds = sorted((j.kind, j.status, j.row_version) for j in s.scalars(select(Job).where(Job.instance_id == one))
                       if j.kind != "notify")
        payloads = sorted(j.payload["n"] for j in s.scalars(select(Job).where(Job.kind == "probe")))
    assert kinds == [("kept", JobStatus.PENDING, 1)] + [("probe", JobStatus.PENDING, 1)] * 4 + [
        ("timer", JobStatus.CANCELLED, 2)]
    assert payloads == [0, 1, 2, 3]
