"""engine/metrics.py: the operational numbers, each read from the database at the moment it is asked."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine import jobqueue, metrics, operations, tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.support.two_lane import PROPOSAL, deploy_two_lane, ready_task, start_two_lane

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def numbers(db: Database) -> metrics.Numbers:
    with db.transaction(write=False) as s:
        return metrics.collect(s)


def test_instances_tasks_jobs_and_lag_are_counted_as_they_stand(
        db: Database, orgs: dict[str, Any], admin: Actor, frozen: FrozenClock) -> None:
    deploy_two_lane(db)
    first = start_two_lane(db, orgs["sender"], orgs)
    second = start_two_lane(db, orgs["sender"], orgs)
    with db.transaction() as s:
        tasks.complete(s, actor=orgs["sender"], task_id=ready_task(db, first).id, data=PROPOSAL)
        operations.set_due_date(s, actor=admin, task_id=ready_task(db, second).id, due_at=T0 + timedelta(hours=1))
        jobqueue.enqueue(s, kind="probe", due_at=T0 - timedelta(seconds=30))
    frozen.advance(hours=2)
    now = numbers(db)
    assert now.at == T0 + timedelta(hours=2)
    assert now.instances == {("two_lane_review", "waiting"): 2}
    assert now.ready_tasks == {"two_lane_review": 2}
    assert now.overdue_tasks == {"two_lane_review": 1}
    assert now.tasks_completed == 1
    assert now.open_incidents == 0
    assert now.jobs_pending["probe"] == 1
    assert now.job_lag_seconds == 2 * 3600 + 30  # the oldest due job has waited that long for a worker


def test_an_empty_database_has_zeros_not_gaps(db: Database) -> None:
    empty = numbers(db)
    assert (empty.instances, empty.ready_tasks, empty.jobs_pending) == ({}, {}, {})
    assert (empty.open_incidents, empty.job_lag_seconds, empty.tasks_completed) == (0, 0.0, 0)
