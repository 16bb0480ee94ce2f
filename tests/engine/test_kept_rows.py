"""engine/kept_rows.py: rows a unit of work keeps are written together, when autoflush would write, and
go with a rollback or a rolled-back savepoint; other sessions keep nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import kept_rows
from engine.db import Database
from engine.models import AuditEvent, utcnow
from tests.support.statements import counted


def _row(action: str) -> dict[str, object]:
    return {"at": utcnow(), "actor_id": None, "action": action, "instance_id": "k-1", "task_id": None, "detail": {}}


def _actions(db: Database) -> list[str]:
    with db.transaction(write=False) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == "k-1")
                              .order_by(AuditEvent.id)))


def test_kept_rows_are_one_statement_at_the_commit(db: Database) -> None:
    with counted(db.engine) as statements, db.transaction() as s:
        for n in range(3):
            assert kept_rows.keep(s, AuditEvent, _row(f"a{n}"))
        assert [text for text in statements if not text.startswith("BEGIN")] == []
    assert len([text for text in statements if text.startswith("INSERT INTO audit_events")]) == 1
    assert _actions(db) == ["a0", "a1", "a2"]


def test_a_read_later_in_the_unit_of_work_sees_them(db: Database) -> None:
    """(An UPDATE too: tests/engine/test_jobqueue.py cancels a job added in the same unit of work.)"""
    with db.transaction() as s:
        kept_rows.keep(s, AuditEvent, _row("read"))
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_nothing_is_written_inside_no_autoflush(db: Database) -> None:
    with db.transaction() as s:
        kept_rows.keep(s, AuditEvent, _row("later"))
        with s.no_autoflush:
            assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 1


def _keep_then_fail(db: Database) -> None:
    with db.transaction() as s:
        kept_rows.keep(s, AuditEvent, _row("rolled back"))
        raise RuntimeError("the change fails")


def test_a_rollback_takes_them_and_a_savepoint_only_its_own(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _keep_then_fail(db)
    with db.transaction() as s:
        kept_rows.keep(s, AuditEvent, _row("before"))
        savepoint = s.begin_nested()
        kept_rows.keep(s, AuditEvent, _row("inside, rolled back"))
        savepoint.rollback()
        released = s.begin_nested()
        kept_rows.keep(s, AuditEvent, _row("inside, released"))
        released.commit()
        kept_rows.keep(s, AuditEvent, _row("after"))
    assert _actions(db) == ["before", "inside, released", "after"]


def test_another_session_keeps_nothing(db: Database) -> None:
    with Session(db.engine) as s:
        assert kept_rows.keep(s, AuditEvent, _row("not kept")) is False
        s.commit()
    assert _actions(db) == []
