"""engine/audit.py: every state change is one append-only row, committed with the change itself."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine import audit
from engine.db import Database
from engine.models import AuditEvent
from tests.support.statements import counted

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


def test_a_unit_of_work_writes_all_its_events_in_one_statement_at_commit(db: Database) -> None:
    """Issue 15: events are rows kept until the commit, not one ORM object each."""
    with counted(db.engine) as statements, db.transaction() as s:
        for n in range(5):
            audit.record(s, actor_id=None, action="task.created", instance_id="i-4", task_id=f"t-{n}")
        assert statements == [text for text in statements if text.startswith("BEGIN")]  # nothing yet
    assert len([text for text in statements if text.startswith("INSERT INTO audit_events")]) == 1
    with db.transaction(write=False) as s:
        assert [e.task_id for e in audit.for_instance(s, "i-4")] == [f"t-{n}" for n in range(5)]


def test_what_reads_in_the_unit_of_work_sees_its_events(db: Database) -> None:
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="instance.started", instance_id="i-5")
        assert [e.action for e in audit.for_instance(s, "i-5")] == ["instance.started"]
        audit.record(s, actor_id=None, action="task.created", instance_id="i-5")
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 2  # noqa: PLR2004


def test_a_rolled_back_savepoint_takes_its_events_and_keeps_the_ones_before(db: Database) -> None:
    """What a preview builds inside a savepoint and rolls back (ecvet/documents/transcript.py) leaves
    no event; what the unit of work recorded before the savepoint stays, as do released savepoints'."""
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="before", instance_id="i-6")
        savepoint = s.begin_nested()
        audit.record(s, actor_id=None, action="inside, rolled back", instance_id="i-6")
        savepoint.rollback()
        kept = s.begin_nested()
        audit.record(s, actor_id=None, action="inside, released", instance_id="i-6")
        kept.commit()
        audit.record(s, actor_id=None, action="after", instance_id="i-6")
    with db.transaction(write=False) as s:
        assert [e.action for e in audit.for_instance(s, "i-6")] == ["before", "inside, released", "after"]


def test_a_plain_session_records_orm_objects(db: Database) -> None:
    """Only the platform's units of work keep rows; another session (a script, a migration) gets the
    event as an ORM object in its own unit of work, as before."""
    with Session(db.engine) as s:
        audit.record(s, actor_id=None, action="instance.started", instance_id="i-7")
        assert [type(o) for o in s.new] == [AuditEvent]
        s.commit()
    with db.transaction(write=False) as s:
        assert [e.action for e in audit.for_instance(s, "i-7")] == ["instance.started"]
