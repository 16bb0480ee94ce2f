"""engine/audit.py: every state change is one append-only row, committed with the change itself."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from engine import audit
from engine.db import Database
from engine.models import AuditEvent

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.usefixtures("frozen")
def test_events_are_recorded_in_the_unit_of_work_and_read_per_instance_in_order(
        db: Database) -> None:
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="instance.started", instance_id="i-1", version=2)
        audit.record(s, actor_id=None, action="task.created", instance_id="i-1", task_id="t-1")
        audit.record(s, actor_id=None, action="instance.started", instance_id="i-2")
    with db.transaction(write=False) as s:
        trail = audit.for_instance(s, "i-1")
        assert [(e.action, e.task_id, e.detail) for e in trail] == [
            ("instance.started", None, {"version": 2}), ("task.created", "t-1", {})]
        assert all(e.at == T0 for e in trail)
        assert [e.action for e in audit.for_instance(s, "i-1", limit=1)] == ["instance.started"]


def _record_then_fail(db: Database) -> None:
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="instance.started", instance_id="i-9")
        raise RuntimeError("the change fails")


def test_an_event_goes_when_its_change_is_rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _record_then_fail(db)
    with db.transaction(write=False) as s:
        assert audit.for_instance(s, "i-9") == []


def test_the_trail_refuses_to_be_changed_or_deleted(db: Database) -> None:
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="instance.started", instance_id="i-3")
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(Exception), db.transaction() as s:  # noqa: B017, PT011 - the backend's own error
            s.execute(text(statement))
    with db.transaction(write=False) as s:
        assert [e.action for e in s.scalars(select(AuditEvent))] == ["instance.started"]
