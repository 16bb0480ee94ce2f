"""The append-only audit trail: every state change says who, what, when, on which instance and task.

A unit of work of :class:`engine.db.Database` keeps its events as rows to insert, not ORM objects, and
writes them together in one statement when it commits (and before anything reads in it, and before a
savepoint), which costs far less than an ORM object per event; they commit or roll back with the change
they describe. Any other session gets ORM objects, as before.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from .models import AuditEvent, utcnow

#: Set in ``Session.info`` by the sessions that keep their events as rows (engine/db.py).
KEEPS_ROWS = "ecvet.audit.keeps_rows"
_PENDING = "ecvet.audit.pending"
_INSERT = insert(AuditEvent)


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    instance_id: str | None = None,
    task_id: str | None = None,
    **detail: Any,
) -> None:
    """Add one event to the current unit of work, so it commits or rolls back with the change itself."""
    row = {"at": utcnow(), "actor_id": actor_id, "action": action, "instance_id": instance_id, "task_id": task_id,
           "detail": detail}
    if session.info.get(KEEPS_ROWS):
        session.info.setdefault(_PENDING, []).append(row)
    else:
        session.add(AuditEvent(**row))


def record_many(session: Session, events: list[dict[str, Any]]) -> None:
    """Many events in one statement, for a batch that writes dozens: each dict holds ``actor_id``,
    ``action``, ``instance_id``, ``task_id`` and ``detail``. Written now, after the unit of work's own
    changes, so the rows the events name exist first."""
    if events:
        write_pending(session)
        session.flush()
        now = utcnow()
        session.connection().execute(_INSERT, [{"at": now, **e} for e in events])


def write_pending(session: Session) -> None:
    """Write the events kept so far (after the unit of work's other changes, which they may name)."""
    rows = session.info.pop(_PENDING, None)
    if rows:
        session.flush()
        session.connection().execute(_INSERT, rows)


@event.listens_for(Session, "before_commit")
def _written_at_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _written_before_a_read(state: ORMExecuteState) -> None:
    """Whatever reads in the unit of work sees its events, as it sees its other changes (autoflush);
    not inside a ``no_autoflush`` block, where half-made changes must not be written."""
    session = state.session
    if state.is_select and session.info.get(_PENDING) and session.autoflush:
        write_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _dropped_with_the_rollback(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back unit of work or savepoint takes its events with it. Kept events all belong to the
    innermost savepoint: they are written before one begins (engine/db.py)."""
    del previous
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _nothing_kept_past_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def for_instance(session: Session, instance_id: str, *, limit: int = 500) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
