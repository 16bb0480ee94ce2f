"""engine/operations.py: what operators do to instances (suspend, resume, terminate, retry, due dates)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bench.generate import script_process
from engine import instances, operations
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import AuditEvent, HumanTask, Incident, InstanceStatus, Job, JobStatus, ProcessInstance, TaskState
from engine.parties import Actor
from tests.support.engine import deploy, row
from tests.support.two_lane import deploy_two_lane, ready_task, start_two_lane

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def status(db: Database, instance_id: str) -> str:
    with db.transaction(write=False) as s:
        return row(s, ProcessInstance, instance_id).status


def test_only_administrators_operate(db: Database, orgs: dict[str, Any]) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    with pytest.raises(Forbidden), db.transaction() as s:
        operations.suspend(s, actor=orgs["sender"], instance_id=iid)


def test_suspend_stops_the_jobs_and_resume_brings_the_instance_back(
        db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    with db.transaction() as s:
        operations.suspend(s, actor=admin, instance_id=iid, reason="checking the MoU")
    assert status(db, iid) == InstanceStatus.SUSPENDED
    with db.transaction(write=False) as s:
        assert not list(s.scalars(select(Job).where(Job.instance_id == iid, Job.status == JobStatus.PENDING)))
    with pytest.raises(Conflict), db.transaction() as s:
        operations.suspend(s, actor=admin, instance_id=iid)
    with db.transaction() as s:
        operations.resume(s, actor=admin, instance_id=iid)
    assert status(db, iid) == InstanceStatus.WAITING
    with pytest.raises(Conflict, match="not suspended"), db.transaction() as s:
        operations.resume(s, actor=admin, instance_id=iid)


def test_terminate_cancels_the_ready_tasks_for_good(db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    task = ready_task(db, iid)
    with db.transaction() as s:
        operations.terminate(s, actor=admin, instance_id=iid, reason="learner withdrew")
    assert status(db, iid) == InstanceStatus.TERMINATED
    with db.transaction(write=False) as s:
        assert row(s, HumanTask, task.id).state == TaskState.CANCELLED
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid)
                                               .order_by(AuditEvent.id))]
    assert "instance.terminated" in actions
    with pytest.raises(Conflict), db.transaction() as s:
        operations.terminate(s, actor=admin, instance_id=iid)


def test_an_incident_is_retried_with_corrected_data(db: Database, admin: Actor) -> None:
    deploy(db, {"div.bpmn": script_process("div", "share = total / parts")})
    with db.transaction() as s:
        iid = instances.start(s, actor=admin, process_key="div", parties={}, variables={"total": 10, "parts": 0}).id
    assert status(db, iid) == InstanceStatus.ERROR
    with db.transaction(write=False) as s:
        (incident,) = operations.list_incidents(s, actor=admin, instance_id=iid).items
    with db.transaction() as s:
        operations.retry_incident(s, actor=admin, incident_id=incident.id, data={"parts": 2})
    assert status(db, iid) == InstanceStatus.WAITING
    with db.transaction(write=False) as s:
        assert row(s, Incident, incident.id).resolved_at is not None
        assert operations.list_incidents(s, actor=admin, open_only=True).items == []
    with pytest.raises(Conflict, match="already resolved"), db.transaction() as s:
        operations.retry_incident(s, actor=admin, incident_id=incident.id)


@pytest.mark.usefixtures("frozen")
def test_a_due_date_needs_a_zone_and_a_ready_task(db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    task = ready_task(db, iid)
    with pytest.raises(Invalid), db.transaction() as s:
        operations.set_due_date(s, actor=admin, task_id=task.id, due_at=datetime(2027, 3, 9))  # noqa: DTZ001
    with db.transaction() as s:
        operations.set_due_date(s, actor=admin, task_id=task.id, due_at=T0 + timedelta(days=3))
    assert ready_task(db, iid).due_at == T0 + timedelta(days=3)
