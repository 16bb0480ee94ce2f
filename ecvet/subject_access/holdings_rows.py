"""The rows held about a learner, table by table, as the export reads them: from the holdings catalogue
(:mod:`ecvet.privacy.holdings`), with each table's heading and purpose, and a check of the schema against it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ecvet.models import register_tables
from ecvet.privacy import holdings
from engine.models import Base

#: The tables whose rows are about a learner when they point at one of these (a foreign key).
LEARNER_KEYS = frozenset({"learners.id", "mobilities.id"})


@dataclass(frozen=True)
class Held:
    """The rows of one table about the learner, under the heading the export gives the table."""

    table: str
    heading: str
    purpose: str
    kind: str
    rows: list[dict[str, Any]]


def heading(table: str) -> str:
    """A table's name as a heading: ``la_versions`` -> "La versions" (the catalogue's purpose says the rest)."""
    return table.replace("_", " ").capitalize()


def about(session: Session, learner_id: int) -> list[Held]:
    """Every table's rows about the learner, in the catalogue's (the metadata's) order, empty tables included."""
    out = []
    for entry in holdings.about_learners():
        assert entry.rows is not None
        rows = [dict(r) for r in session.execute(entry.rows(session, learner_id)).mappings()]
        out.append(Held(entry.table, heading(entry.table), entry.purpose, str(entry.kind), rows))
    return out


def unexported_tables() -> list[str]:
    """Tables of the schema the export would miss: not in the catalogue at all, or pointing at a learner or a
    mobility (a foreign key) while the catalogue says they hold nothing about learners. Empty when sound."""
    register_tables()
    missing = []
    for table in Base.metadata.sorted_tables:
        entry = holdings.HOLDINGS.get(table.name)
        points_at_learner = any(f.target_fullname in LEARNER_KEYS for c in table.columns for f in c.foreign_keys)
        if entry is None or (points_at_learner and entry.rows is None):
            missing.append(table.name)
    return missing
