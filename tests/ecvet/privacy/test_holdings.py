"""The catalogue of personal data (ecvet/privacy/holdings.py): every table of the metadata is classified,
its personal columns exist, its append-only flag matches the database, and for a learner with a full
lifecycle every table said to hold rows about learners finds some, and none of another learner's."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from ecvet.models import register_tables
from ecvet.privacy import holdings
from ecvet.privacy.holdings import HOLDINGS, Kind, Treatment
from ecvet.privacy.models import ErasureRequest
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import Base
from tests.support.privacy_world import make_privacy_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def test_every_table_of_the_metadata_is_in_the_catalogue() -> None:
    register_tables()
    missing = sorted(set(Base.metadata.tables) - set(HOLDINGS))
    assert not missing, f"classify these tables in ecvet/privacy/holdings.py: {missing}"
    assert sorted(set(HOLDINGS) - set(Base.metadata.tables)) == []


@pytest.mark.parametrize("table", sorted(HOLDINGS))
def test_each_entry_names_real_columns_and_says_why(table: str) -> None:
    register_tables()
    entry = holdings.holding(table)
    columns = set(Base.metadata.tables[table].columns.keys())
    assert set(entry.personal) <= columns, f"{table}: unknown columns {set(entry.personal) - columns}"
    assert entry.purpose.strip().endswith(".")
    if entry.rows is None:
        assert (entry.kind, entry.personal, entry.treatment) == (Kind.OPERATIONAL, (), Treatment.KEEP)
    else:
        assert entry.kind in (Kind.EVIDENCE, Kind.WORKING)
    if entry.treatment == Treatment.PSEUDONYMISE:
        assert entry.personal, f"{table}: pseudonymised, but no personal column to pseudonymise"


def _protected_tables(db: Database) -> set[str]:
    """Tables the database itself refuses to update or delete from (migrations/append_only.py and the
    transcripts' own triggers)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        else:
            rows = conn.execute(text("SELECT event_object_table, action_statement FROM information_schema.triggers"
                                     " WHERE event_manipulation IN ('UPDATE', 'DELETE')")).all()
    return {str(table) for table, _sql in rows}


def test_append_only_flags_match_the_triggers_of_the_migrated_database(db: Database) -> None:
    flagged = {t for t, h in HOLDINGS.items() if h.append_only}
    protected = _protected_tables(db) & set(HOLDINGS)
    # Tables whose triggers guard something else than append-only rows are not flagged.
    assert flagged == protected, (sorted(flagged - protected), sorted(protected - flagged))
    assert inspect(db.engine).has_table("learners")


def test_a_full_lifecycle_leaves_rows_in_every_table_said_to_hold_some(db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    with db.transaction() as s:  # she asks for her data to be erased
        s.add(ErasureRequest(learner_id=world.learner_id, requested_by=world.run.learner.user_id))
    with db.transaction(write=False) as s:
        mine = holdings.rows_about(s, world.learner_id)
        theirs = holdings.rows_about(s, world.other.learner_id)
    assert set(mine) == {h.table for h in holdings.about_learners()}
    empty = sorted(table for table, rows in mine.items() if not rows)
    assert not empty, f"the catalogue finds no row of the learner in {empty}"
    assert [r["name"] for r in mine["learners"]] == ["Sanne Bakker"]
    assert [r["id"] for r in mine["mobilities"]] == [world.run.mobility_id]
    assert {r["id"] for r in mine["process_instances"]} == {world.run.instance_id, world.review_instance_id}
    assert world.run.guardian is not None
    assert {r["id"] for r in mine["users"]} == {world.run.learner.user_id, world.run.guardian.user_id}
    # Nothing of the other learner: the finders follow the learner's id, not the school's.
    for table in ("learners", "mobilities", "process_instances", "tasks", "la_versions", "la_signatures",
                  "users", "outbox", "audit_events"):
        assert not {r["id"] for r in mine[table]} & {r["id"] for r in theirs[table]}, table
    assert theirs["personal_transcripts"] == []
