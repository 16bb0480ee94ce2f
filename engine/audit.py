"""The append-only audit trail: every state change says who, what, when, on which instance and task."""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import AuditEvent, utcnow


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    instance_id: str | None = None,
    task_id: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one event to the current unit of work, so it commits or rolls back with the change itself."""
    event = AuditEvent(
        actor_id=actor_id, action=action, instance_id=instance_id, task_id=task_id, detail=detail
    )
    session.add(event)
    return event


def record_many(session: Session, events: list[dict[str, Any]]) -> None:
    """Many events in one statement (an executemany, no ORM objects), for a batch that writes dozens:
    each dict holds ``actor_id``, ``action``, ``instance_id``, ``task_id`` and ``detail``. Flushes the
    unit of work first, so the rows the events name are written before them."""
    if events:
        session.flush()
        now = utcnow()
        session.execute(insert(AuditEvent), [{"at": now, **e} for e in events])


def for_instance(session: Session, instance_id: str, *, limit: int = 500) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
