"""engine/handlers.py: what the worker does per kind of job, and nothing for instances that may not move."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import deployments, handlers, jobqueue, jobs, messages, notifications, operations, services, signals, timers
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Invalid
from engine.models import AuditEvent, Job, ProcessInstance
from engine.parties import Actor
from tests.support.bpmn import intermediate_timer
from tests.support.engine import deploy, row
from tests.support.messages import files, send, start
from tests.support.timer_starts import timer_started

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_every_kind_the_engine_schedules_has_its_handler() -> None:
    assert handlers.BY_KIND == {
        timers.JOB_KIND: handlers.fire_timer,
        services.JOB_KIND: handlers.run_service,
        messages.JOB_KIND: handlers.deliver_message,
        notifications.JOB_KIND: handlers.send_notification,
        signals.JOB_KIND: handlers.deliver_signal,
        deployments.TIMER_START_JOB: handlers.start_by_timer,
    }


def _timer_job(db: Database, instance_id: str) -> Job:
    with db.transaction(write=False) as s:
        return s.scalars(select(Job).where(Job.instance_id == instance_id, Job.kind == timers.JOB_KIND)).one()


def test_a_due_timer_fires_and_the_firing_is_audited(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"hold.bpmn": intermediate_timer("hold", "timeDuration", '"PT1H"')})
    iid = start(db, admin, "hold", {})
    job = _timer_job(db, iid)
    frozen.advance(hours=1, seconds=1)
    with db.transaction() as s:
        handlers.fire_timer(s, row(s, Job, job.id))
    with db.transaction(write=False) as s:
        fired = s.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).one()
        assert fired.instance_id == iid
        assert fired.detail["released"] == 1
        assert row(s, ProcessInstance, iid).next_due_at is None


def test_nothing_moves_an_instance_an_operator_suspended(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"hold.bpmn": intermediate_timer("hold", "timeDuration", '"PT1H"')})
    iid = start(db, admin, "hold", {})
    job = _timer_job(db, iid)
    with db.transaction() as s:
        operations.suspend(s, actor=admin, instance_id=iid)
    frozen.advance(hours=2)
    with db.transaction() as s:
        before = row(s, ProcessInstance, iid).state
        handlers.fire_timer(s, row(s, Job, job.id))
        handlers.run_service(s, row(s, Job, job.id))
        assert row(s, ProcessInstance, iid).state == before
    with db.transaction(write=False) as s:
        assert list(s.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired"))) == []


def test_a_message_only_the_sender_could_single_out_fails_its_job_with_the_reason(
        db: Database, orgs: dict[str, Any]) -> None:
    deploy(db, files("await_confirmation"))
    for mobility in ("M-1", "M-2"):
        start(db, orgs["sender"], "await_confirmation", {"sending": orgs["sending"]}, mobility_id=mobility)
    with db.transaction() as s:
        job = jobqueue.enqueue(s, kind=messages.JOB_KIND, payload={
            "name": "placement_confirmed", "correlation_keys": {}, "payload": {}})
    with pytest.raises(messages.UndeliverableMessageError, match="ambiguous"), db.transaction() as s:
        handlers.deliver_message(s, row(s, Job, job.id))


def test_a_kept_message_job_delivers_it_once_its_catch_waits(db: Database, orgs: dict[str, Any],
                                                             frozen: FrozenClock) -> None:
    deploy(db, files("await_confirmation"))
    keys = {"mobility": {"mobility_id": "M-3"}}
    kept = send(db, orgs["sender"], "placement_confirmed", correlation_keys=keys, payload={"mobility_id": "M-3"})
    iid = start(db, orgs["sender"], "await_confirmation", {"sending": orgs["sending"]}, mobility_id="M-3")
    with db.transaction() as s:
        job = jobqueue.enqueue(s, kind=messages.JOB_KIND, payload={"pending_message_id": kept.pending_message_id})
    frozen.advance(timedelta(seconds=1))
    with db.transaction() as s:
        handlers.deliver_message(s, row(s, Job, job.id))
    with db.transaction(write=False) as s:
        delivered = s.scalars(select(AuditEvent).where(AuditEvent.action == "message.delivered")).all()
    assert [e.instance_id for e in delivered] == [iid]


def _started(db: Database, key: str) -> list[tuple[str, dict[str, int | None]]]:
    with db.transaction(write=False) as s:
        found = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == key)
                          .order_by(ProcessInstance.created_at))
        return [(i.status, {p.role: p.organisation_id for p in i.parties}) for i in found]


def test_a_timer_start_cycle_starts_instances_by_itself_with_the_declared_parties(
        db: Database, orgs: dict[str, Any], frozen: FrozenClock) -> None:
    bound = f"sending={orgs['sending']}"
    deploy(db, {"ticker.bpmn": timer_started("ticker", "timeCycle", '"R2/PT1H"', parties=bound)})
    jobs.run_due(db)
    assert _started(db, "ticker") == []  # R2/PT1H: the first start an hour after the deployment
    frozen.advance(hours=1, seconds=1)
    jobs.run_due(db)
    assert _started(db, "ticker") == [("waiting", {"sending": orgs["sending"]})]  # 'after' waits for the school
    frozen.advance(minutes=59)
    jobs.run_due(db)
    assert len(_started(db, "ticker")) == 1
    frozen.advance(minutes=1)
    jobs.run_due(db)
    assert len(_started(db, "ticker")) == 2
    frozen.advance(hours=5)
    jobs.run_due(db)
    assert len(_started(db, "ticker")) == 2  # R2: two starts, then no more
    with db.transaction(write=False) as s:
        fired = s.scalars(select(AuditEvent).where(AuditEvent.action == "timer_start.fired")).all()
    assert len(fired) == 2


def test_a_new_version_replaces_the_schedule_of_the_earlier_one(
        db: Database, orgs: dict[str, Any], frozen: FrozenClock) -> None:
    bound = f"sending={orgs['sending']}"
    deploy(db, {"ticker.bpmn": timer_started("ticker", "timeDuration", '"PT2H"', parties=bound)})
    deploy(db, {"ticker.bpmn": timer_started("ticker", "timeDuration", '"PT3H"', parties=bound)})
    frozen.advance(hours=2, seconds=1)
    jobs.run_due(db)
    assert _started(db, "ticker") == []
    frozen.advance(hours=1)
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        versions = [i.definition.version for i in s.scalars(select(ProcessInstance))]
    assert versions == [2]


def test_a_timer_start_binding_an_unknown_organisation_is_refused(db: Database) -> None:
    with pytest.raises(Invalid) as refused:
        deploy(db, {"ticker.bpmn": timer_started("ticker", "timeCycle", '"R/P1D"', parties="sending=999")})
    assert "organisation 999, which does not exist" in str(refused.value.errors)


def test_a_worker_that_was_down_starts_a_missed_cycle_once(db: Database, orgs: dict[str, Any],
                                                           frozen: FrozenClock) -> None:
    deploy(db, {"ticker.bpmn": timer_started("ticker", "timeCycle", '"R/PT1H"', parties=f"sending={orgs['sending']}")})
    frozen.advance(hours=5, minutes=30)
    jobs.run_due(db)
    assert len(_started(db, "ticker")) == 1
    frozen.advance(minutes=31)  # the next start is at the next whole interval: 6 hours after the deployment
    jobs.run_due(db)
    assert len(_started(db, "ticker")) == 2
