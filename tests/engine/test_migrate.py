"""engine/migrate.py: the schema comes from the Alembic revisions only, up to head, and says where it is."""
from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from engine import migrate
from engine.db import make_engine


def test_upgrade_builds_the_schema_at_head_and_current_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert migrate.current(url) is None
    migrate.upgrade(url)
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert migrate.current(url) == head
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"process_definitions", "process_instances", "tasks", "jobs", "audit_events"} <= tables
    migrate.upgrade(url)  # a second upgrade changes nothing
    assert migrate.current(url) == head
