"""Service tasks: run by the worker, retried with backoff, an incident after the last try, retried by an operator."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine import clock, instances, jobs, operations
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, HumanTask, Incident, Job, ProcessInstance
from engine.parties import Actor
from tests.support import connectors
from tests.support.bpmn import service_process
from tests.support.engine import deploy, row


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    frozen_clock = FrozenClock(datetime(2027, 1, 1, tzinfo=UTC))
    previous = clock.use(frozen_clock)
    connectors.CALLS.clear()
    yield frozen_clock
    clock.use(previous)
    connectors.FAILS[0] = 0


def start(db: Database, admin: Actor) -> str:
    deploy(db, {"svc.bpmn": service_process("svc", "learner_lookup", retries=2)})
    with db.transaction() as s:
        return instances.start(s, actor=admin, process_key="svc", parties={}).id


def snapshot(db: Database, iid: str) -> tuple[str, list[str], list[str]]:
    with db.transaction(write=False) as s:
        inst = row(s, ProcessInstance, iid)
        tasks = [t.bpmn_id for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == iid))]
        job_states = [j.status for j in s.scalars(select(Job).where(Job.kind == "service").order_by(Job.id))]
        return inst.status, tasks, job_states


@pytest.mark.usefixtures("frozen")
def test_request_does_not_wait_for_the_connector(db: Database, admin: Actor) -> None:
    iid = start(db, admin)
    assert snapshot(db, iid) == ("running", [], ["pending"])
    assert connectors.CALLS == []
    jobs.run_due(db)
    assert snapshot(db, iid) == ("waiting", ["after"], ["done"])
    assert connectors.CALLS == ["Ana"]


def test_failures_retry_with_backoff_then_incident_then_operator_retry(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    connectors.FAILS[0] = 3  # the first three calls fail; retries=2 allows three attempts
    iid = start(db, admin)
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        job = s.scalars(select(Job).where(Job.kind == "service")).one()
        assert (job.status, job.attempts) == ("pending", 1)
        assert "registry unreachable" in (job.last_error or "")
        first_retry = job.due_at
    assert first_retry == frozen.now() + jobs.backoff(1)
    assert jobs.run_due(db) == 0  # not due yet: nothing runs before the backoff
    frozen.set(first_retry)
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        job = s.scalars(select(Job).where(Job.kind == "service")).one()
        assert (job.status, job.attempts) == ("pending", 2)
        assert job.due_at == frozen.now() + jobs.backoff(2)
    frozen.set(job.due_at)
    jobs.run_due(db)
    assert snapshot(db, iid) == ("error", [], ["done"])
    assert connectors.CALLS == ["Ana", "Ana", "Ana"]
    with db.transaction(write=False) as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == iid)).one()
        assert incident.kind == "service"
        assert incident.bpmn_id == "call"
        assert "registry unreachable (call 3)" in incident.message
        assert "3 attempt" in incident.message

    # the registry is back: an operator retries; the worker runs the task again and the process goes on
    with db.transaction() as s:
        operations.retry_incident(s, actor=admin, incident_id=incident.id, data={"learner": "Ana"})
    assert snapshot(db, iid)[0] == "running"
    jobs.run_due(db)
    status, tasks, job_states = snapshot(db, iid)
    assert (status, tasks, job_states) == ("waiting", ["after"], ["done", "done"])
    assert connectors.CALLS == ["Ana"] * 4
    with db.transaction(write=False) as s:
        assert row(s, Incident, incident.id).resolved_at is not None
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid)
                                               .order_by(AuditEvent.id))]
        assert actions.count("incident.raised") == 1
        assert actions.count("incident.retried") == 1
        assert actions.count("service.completed") == 1
