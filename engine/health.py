"""Health check: the database answers and its schema is migrated."""
from __future__ import annotations

from typing import Any

from sqlalchemy import text

from .db import Database
from .errors import Unavailable

__all__ = ["Unavailable", "check"]


def check(db: Database) -> dict[str, Any]:
    try:
        with db.transaction(write=False) as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
        raise Unavailable(f"Database unreachable or not migrated: {type(exc).__name__}") from exc
    return {"status": "ok", "database": db.engine.dialect.name, "schema_revision": revision}
