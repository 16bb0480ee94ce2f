"""Requests racing to complete one task: exactly one wins, the rest get 409, nothing twice.

Three protections stand between two racing completions: the instance row lock taken by
``engine.tasks.lock_instance`` (PostgreSQL ``FOR UPDATE``), SQLite's up-front write lock (``BEGIN
IMMEDIATE``, engine/db.py) and the instance's optimistic ``lock_version``. Each is tested here on its
own, with the others switched off, on the process's *final* task: completing it creates no task row,
so no unique key can hide a broken protection (racing the first task would).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import db as engine_db
from engine import tasks as task_service
from engine.models import AuditEvent, ProcessInstance
from tests.api.conftest import World
from tests.support.api_tasks import PROPOSAL, my_tasks, start

TRIALS = 6
RACERS = 4
REVIEW = {"accepted": True, "comment": "Welcome"}


def race(world: World, caller_token: str, task_id: str, data: dict[str, Any]) -> list[int]:
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = world.client.application.test_client()
        barrier.wait()
        response = client.post(
            f"/api/tasks/{task_id}/complete",
            json={"data": data},
            headers={"Authorization": f"Bearer {caller_token}"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def _completions(world: World, instance_id: str, bpmn_id: str) -> int:
    with world.db.transaction(write=False) as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.action == "task.completed")
        )
        return sum(1 for e in events if e.detail.get("bpmn_id") == bpmn_id)


def test_racing_the_first_task_has_exactly_one_winner(two_lane: World) -> None:
    world = two_lane
    for _ in range(TRIALS):
        instance = start(world)
        task_id = my_tasks(world.sender, instance_id=instance["id"])[0]["id"]
        statuses = race(world, world.sender.token, task_id, PROPOSAL)
        assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
        view: dict[str, Any] = world.admin.get(f"/api/process-instances/{instance['id']}").get_json()
        created = [e for e in view["audit"] if e["action"] == "task.created" and e["detail"]["bpmn_id"] == "review"]
        assert _completions(world, instance["id"], "propose") == 1
        assert len(created) == 1
        assert [t["bpmn_id"] for t in view["ready_tasks"]] == ["review"]


@contextmanager
def _without_row_lock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The completion reads the instance as any other row: no FOR UPDATE."""

    def plain_read(_session: Any, stmt: Any) -> Any:
        return stmt

    with monkeypatch.context() as patch:
        patch.setattr(task_service, "lock_instance", plain_read)
        yield


@contextmanager
def _without_version_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The instance row is updated whatever ``lock_version`` it has now: just before each flush the
    version the session believes in is replaced by the one in the database, so the optimistic
    comparison can never see a stale row."""

    def trust_the_database(session: Session, _context: Any, _instances: Any) -> None:
        for obj in list(session.dirty):
            if isinstance(obj, ProcessInstance):
                current = session.execute(
                    select(ProcessInstance.lock_version).where(ProcessInstance.id == obj.id)
                ).scalar_one()
                set_committed_value(obj, "lock_version", current)

    event.listen(Session, "before_flush", trust_the_database)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", trust_the_database)


@contextmanager
def _without_up_front_write_lock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SQLite transactions start deferred (plain BEGIN), as if nobody declared the write intent."""

    class NeverWriting:
        def set(self, _value: bool) -> None:
            return None

        def reset(self, _token: Any) -> None:
            return None

        def get(self) -> bool:
            return False

    with monkeypatch.context() as patch:
        patch.setattr(engine_db, "_write_intent", NeverWriting())
        yield


def _final_task_race(world: World, protection_off: Any) -> None:
    for _ in range(TRIALS):
        instance = start(world)
        first = my_tasks(world.sender, instance_id=instance["id"])[0]["id"]
        assert world.sender.post(f"/api/tasks/{first}/complete", json={"data": PROPOSAL}).status_code == 200
        review = my_tasks(world.host, instance_id=instance["id"])[0]["id"]
        with protection_off():
            statuses = race(world, world.host.token, review, REVIEW)
        assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
        assert _completions(world, instance["id"], "review") == 1
        with world.db.transaction(write=False) as s:
            row = s.get(ProcessInstance, instance["id"])
            assert row is not None
            assert row.status == "completed"
            changes = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.instance_id == instance["id"], AuditEvent.action == "instance.status_changed"
                )
            )
            ends = [c for c in changes if c.detail.get("new") == "completed"]
        assert len(ends) == 1  # the instance completed once, not once per racer


def _others_off(monkeypatch: pytest.MonkeyPatch, *switches: Any) -> Any:
    @contextmanager
    def off() -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for switch in switches:
                stack.enter_context(switch(monkeypatch))
            yield

    return off


def test_each_protection_alone_keeps_the_final_task_from_completing_twice(
    two_lane: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the row lock alone, then the version check alone. SQLite has no row locks: its
    up-front write lock alone, then the version check alone (writers then collide on the lock)."""
    if two_lane.db.is_sqlite:
        alone = {
            "write lock": _others_off(monkeypatch, _without_row_lock, _without_version_check),
            "version check": _others_off(monkeypatch, _without_row_lock, _without_up_front_write_lock),
        }
    else:
        alone = {
            "row lock": _others_off(monkeypatch, _without_version_check),
            "version check": _others_off(monkeypatch, _without_row_lock),
        }
    for name, others_off in alone.items():
        try:
            _final_task_race(two_lane, others_off)
        except AssertionError as exc:
            raise AssertionError(f"with only the {name} in place: {exc}") from exc
