"""The rows held about a learner, table by table, as the export reads them (provisional: until the holdings
catalogue of ecvet.privacy is merged, tables with a learner_id or mobility_id column)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ecvet.mobility.models import Mobility
from engine.models import Base


@dataclass(frozen=True)
class Held:
    """The rows of one table about the learner, under the heading the export gives the table."""

    table: str
    heading: str
    rows: list[dict[str, Any]]


def _heading(name: str) -> str:
    return name.replace("_", " ").capitalize()


def about(session: Session, learner_id: int) -> list[Held]:
    """Every table's rows about the learner."""
    mobility_ids = list(session.scalars(select(Mobility.id).where(Mobility.learner_id == learner_id)))
    out: list[Held] = []
    for table in Base.metadata.sorted_tables:
        stmt = _rows(table, learner_id, mobility_ids)
        if stmt is None:
            continue
        rows = [dict(r._mapping) for r in session.execute(stmt)]
        out.append(Held(table.name, _heading(table.name), rows))
    return out


def _rows(table: Table, learner_id: int, mobility_ids: list[int]) -> Any:
    if table.name == "learners":
        return select(table).where(table.c.id == learner_id)
    if "learner_id" in table.c:
        return select(table).where(table.c.learner_id == learner_id).order_by(*table.primary_key.columns)
    if "mobility_id" in table.c:
        return select(table).where(table.c.mobility_id.in_(mobility_ids)).order_by(*table.primary_key.columns)
    return None
