"""Rows a unit of work keeps to insert together: append-only rows written in one statement per table.

The audit trail and the job queue add several rows to almost every unit of work. As ORM objects each
costs the unit of work's flush far more than the row itself; kept as plain rows they are written in one
statement per table when the unit of work commits, and earlier whenever autoflush would write ORM
objects (before a read, an UPDATE or a DELETE), so what runs later in the unit of work sees them. A
savepoint begins only after they are written (engine/db.py), so one that rolls back takes only the rows
kept inside it. Only the sessions of :class:`engine.db.Database` keep rows; any other gets ORM objects.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

#: Set in ``Session.info`` by the sessions that keep rows (engine/db.py).
KEEPS_ROWS = "ecvet.keeps_rows"
_PENDING = "ecvet.kept_rows"


def keep(session: Session, model: type[Any], row: dict[str, Any]) -> bool:
    """Keep `row` for `model`'s table; False when this session does not keep rows (add an ORM object)."""
    if not session.info.get(KEEPS_ROWS):
        return False
    session.info.setdefault(_PENDING, {}).setdefault(model, []).append(row)
    return True


def write(session: Session) -> None:
    """Write the kept rows now, after the unit of work's other changes (which they may name)."""
    pending: dict[type[Any], list[dict[str, Any]]] | None = session.info.pop(_PENDING, None)
    if pending:
        session.flush()
        connection = session.connection()
        for model, rows in pending.items():
            connection.execute(insert(model), rows)


@event.listens_for(Session, "before_commit")
def _written_at_commit(session: Session) -> None:
    write(session)


@event.listens_for(Session, "do_orm_execute")
def _written_when_autoflush_would(state: ORMExecuteState) -> None:
    """Before a read, an UPDATE or a DELETE in the unit of work, as autoflush writes ORM objects; not
    inside a ``no_autoflush`` block or a flush, where half-made changes must not be written."""
    session = state.session
    if (state.is_select or state.is_update or state.is_delete) and session.info.get(_PENDING) \
            and session.autoflush and not session._flushing:  # noqa: SLF001 - no public flag for it
        write(session)


@event.listens_for(Session, "after_soft_rollback")
def _dropped_with_the_rollback(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back unit of work or savepoint takes its kept rows with it: they all belong to the
    innermost savepoint, since they are written before one begins."""
    del previous
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _nothing_kept_past_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
