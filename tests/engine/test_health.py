"""engine/health.py: healthy means the database answers and its schema is migrated."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import health
from engine.db import Database
from engine.errors import Unavailable
from engine.migrate import current


def test_a_migrated_database_is_healthy_at_its_revision(db: Database) -> None:
    answer = health.check(db)
    assert answer == {"status": "ok", "database": db.engine.dialect.name, "schema_revision": current(db.url)}
    assert answer["schema_revision"]


def test_a_database_without_the_schema_is_not_healthy(tmp_path: Path) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        with pytest.raises(Unavailable, match="not migrated"):
            health.check(empty)
    finally:
        empty.dispose()


def test_a_database_that_cannot_be_reached_is_not_healthy(tmp_path: Path) -> None:
    missing = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'db.sqlite3'}")
    try:
        with pytest.raises(Unavailable):
            health.check(missing)
    finally:
        missing.dispose()
