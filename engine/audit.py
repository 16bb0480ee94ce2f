"""The append-only audit trail: every state change says who, what, when, on which instance and task.

Events are rows the unit of work keeps and writes in one statement (engine/kept_rows.py); they commit or
roll back with the change they describe.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import kept_rows
from .models import AuditEvent, utcnow


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
    if not kept_rows.keep(session, AuditEvent, row):
        session.add(AuditEvent(**row))


def for_instance(session: Session, instance_id: str, *, limit: int = 500) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
