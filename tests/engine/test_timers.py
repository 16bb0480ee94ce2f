"""Time-travel tests: every timer kind fires from the worker alone when the clock passes it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import instances, jobs, tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, HumanTask, Job, ProcessInstance, TaskState
from engine.parties import Actor
from tests.support.bpmn import boundary_timer, event_gateway_timer, intermediate_timer, start_timer
from tests.support.engine import actor_for, deploy, row
from tests.support.factories import make_org, make_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def start(db: Database, admin: Actor, key: str, parties: dict[str, Any] | None = None) -> str:
    with db.transaction() as s:
        return instances.start(s, actor=admin, process_key=key, parties=parties or {}).id


def state(db: Database, instance_id: str) -> tuple[str, list[tuple[str, str]], datetime | None]:
    with db.transaction(write=False) as s:
        inst = row(s, ProcessInstance, instance_id)
        rows = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at))
        return inst.status, [(r.bpmn_id, r.state) for r in rows], inst.next_due_at


def test_time_duration_fires_only_after_the_clock_passes_it(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"d.bpmn": intermediate_timer("d", "timeDuration", '"PT1H"')})
    iid = start(db, admin, "d")
    status, rows, due = state(db, iid)
    assert (status, rows, due) == ("running", [], T0 + timedelta(hours=1))
    assert jobs.run_due(db) == 0
    frozen.advance(minutes=59)
    assert jobs.run_due(db) == 0
    assert state(db, iid)[1] == []
    frozen.advance(minutes=1, seconds=1)
    assert jobs.run_due(db) == 2  # the timer, then the mail telling the initiator of the task it made
    status, rows, due = state(db, iid)
    assert (status, rows, due) == ("waiting", [("after", "ready")], None)
    with db.transaction(write=False) as s:
        fired = s.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).all()
        assert len(fired) == 1
        assert fired[0].actor_id is None


def test_time_date_with_zone_is_stored_in_utc(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"t.bpmn": intermediate_timer("t", "timeDate", '"2027-03-02T10:00:00+02:00"')})
    iid = start(db, admin, "t")
    assert state(db, iid)[2] == datetime(2027, 3, 2, 8, 0, tzinfo=UTC)
    frozen.set(datetime(2027, 3, 2, 7, 59, tzinfo=UTC))
    assert jobs.run_due(db) == 0
    frozen.set(datetime(2027, 3, 2, 8, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert state(db, iid)[1] == [("after", "ready")]


def test_start_timer_holds_the_instance_until_due(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"s.bpmn": start_timer("s", '"PT5M"')})
    iid = start(db, admin, "s")
    assert state(db, iid)[:2] == ("running", [])
    frozen.advance(minutes=5, seconds=1)
    jobs.run_due(db)
    assert state(db, iid)[:2] == ("waiting", [("after", "ready")])


@pytest.fixture
def parties(db: Database) -> tuple[dict[str, int], Actor]:
    sending, ci = make_org(db), make_org(db, country="AT")
    member = actor_for(db, make_user(db, organisation_ids=[sending.id]).id)
    return {"sending": sending.id, "competent-institution": ci.id}, member


def test_interrupting_boundary_timer_cancels_the_task_and_escalates(
    db: Database, admin: Actor, frozen: FrozenClock, parties: tuple[dict[str, int], Actor]
) -> None:
    deploy(db, {"b.bpmn": boundary_timer("b", interrupting=True, kind="timeDuration", expression='"PT2S"')})
    bound, member = parties
    iid = start(db, admin, "b", bound)
    with db.transaction(write=False) as s:
        sign = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "sign")).one()
        assert sign.due_at == T0 + timedelta(seconds=2)  # the boundary timer is the task's due date
        assert not sign.overdue
    frozen.advance(seconds=3)
    with db.transaction(write=False) as s:
        assert row(s, HumanTask, sign.id).overdue
        assert [t.id for t in tasks.list_for(s, actor=member, overdue=True).items] == [sign.id]
    jobs.run_due(db)
    status, rows, _ = state(db, iid)
    assert status == "waiting"
    assert rows == [("sign", "cancelled"), ("escalate", "ready")]
    with db.transaction(write=False) as s:
        escalate = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "escalate")).one()
        assert escalate.organisation_id == bound["competent-institution"]
        assert tasks.list_for(s, actor=member).items == []  # the sending side no longer has the task


def test_non_interrupting_cycle_timer_reminds_twice_and_keeps_the_task(
    db: Database, admin: Actor, frozen: FrozenClock, parties: tuple[dict[str, int], Actor]
) -> None:
    deploy(db, {"c.bpmn": boundary_timer("c", interrupting=False, kind="timeCycle", expression='"R2/PT10M"')})
    bound, _member = parties
    iid = start(db, admin, "c", bound)
    counts = []
    for _ in range(4):
        frozen.advance(minutes=10, seconds=1)
        jobs.run_due(db)
        rows = state(db, iid)[1]
        counts.append(sum(1 for bpmn_id, _ in rows if bpmn_id == "remind"))
        assert ("sign", "ready") in rows
    assert counts == [1, 2, 2, 2]


def test_completing_before_the_deadline_cancels_the_timer(
    db: Database, admin: Actor, frozen: FrozenClock, parties: tuple[dict[str, int], Actor]
) -> None:
    deploy(db, {"b.bpmn": boundary_timer("b", interrupting=True, kind="timeDuration", expression='"PT1H"')})
    bound, member = parties
    iid = start(db, admin, "b", bound)
    with db.transaction() as s:
        sign = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "sign")).one()
        tasks.complete(s, actor=member, task_id=sign.id, data={})
    status, rows, due = state(db, iid)
    assert (status, due) == ("completed", None)
    frozen.advance(hours=2)
    jobs.run_due(db)  # may send notifications; no timer may fire
    with db.transaction(write=False) as s:
        timer_jobs = s.scalars(select(Job).where(Job.kind == "timer")).all()
        assert [j.status for j in timer_jobs] == ["cancelled"]
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "timer.fired")).all() == []
    assert state(db, iid)[1] == [("sign", TaskState.COMPLETED)]


def test_a_timer_behind_an_event_based_gateway_fires_from_the_worker(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """Spiff reports the gateway as one MultipleEventDefinition without a deadline: it must still fire."""
    deploy(db, {"g.bpmn": event_gateway_timer("g", '"P2D"')})
    iid = start(db, admin, "g")
    assert state(db, iid) == ("running", [], T0 + timedelta(days=2))
    frozen.advance(days=1)
    assert jobs.run_due(db) == 0
    frozen.advance(days=1, seconds=1)
    assert jobs.run_due(db) == 2  # the timer, then the mail telling the initiator of the task it made
    assert state(db, iid) == ("waiting", [("chase", "ready")], None)
