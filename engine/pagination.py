"""Keyset (cursor) pagination: stable under inserts and cheap on big tables, unlike OFFSET."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, literal_column, select, tuple_, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from .errors import Invalid

T = TypeVar("T")

MAX_LIMIT = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    plain = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Invalid("The cursor is not valid; use next_cursor from a previous page") from exc
    if not isinstance(values, list) or len(values) != width:
        raise Invalid("The cursor is not valid; use next_cursor from a previous page")
    out: list[Any] = []
    for v in values:
        if isinstance(v, dict) and "dt" in v:
            try:
                out.append(datetime.fromisoformat(v["dt"]))
            except (TypeError, ValueError) as exc:
                raise Invalid("The cursor is not valid") from exc
        else:
            out.append(v)
    return out


def _after(order_by: list[InstrumentedAttribute[Any]], cursor: str | None, *, descending: bool = False) -> Any:
    """The keyset condition "after `cursor`" (in the order's direction), or None on the first page."""
    if not cursor:
        return None
    values = _decode(cursor, len(order_by))
    for value, column in zip(values, order_by, strict=True):
        # A hand-made cursor must not compare a column with a value of another kind (an SQL error).
        expected = getattr(column.type, "impl_instance", column.type).python_type  # through TypeDecorators
        if isinstance(value, bool) or not isinstance(value, expected):
            raise Invalid("The cursor is not valid; use next_cursor from a previous page")
    return tuple_(*order_by) < tuple_(*values) if descending else tuple_(*order_by) > tuple_(*values)


def keyset_after(order_by: list[InstrumentedAttribute[Any]], cursor: str | None, *, descending: bool = False) -> Any:
    """The keyset condition "after `cursor`" on `order_by` (None on the first page), for pages built here."""
    return _after(order_by, cursor, descending=descending)


def page_of(rows: list[Any], order_by: list[InstrumentedAttribute[Any]], limit: int) -> Page[Any]:
    """The first `limit` of `rows` (read with limit + 1) and the cursor after them, if there are more."""
    return _page(rows, order_by, limit)


def _page(rows: list[Any], order_by: list[InstrumentedAttribute[Any]], limit: int) -> Page[Any]:
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, col.key) for col in order_by])
    return Page(rows, next_cursor)


def paginate(
    session: Session,
    stmt: Select[Any],
    order_by: list[InstrumentedAttribute[Any]],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> Page[Any]:
    """Run `stmt` ordered by `order_by` (ascending, or all descending; unique together) from just after
    `cursor`."""
    limit = max(1, min(limit, MAX_LIMIT))
    after = _after(order_by, cursor, descending=descending)
    if after is not None:
        stmt = stmt.where(after)
    ordering = [c.desc() for c in order_by] if descending else list(order_by)
    return _page(list(session.scalars(stmt.order_by(*ordering).limit(limit + 1))), order_by, limit)


def paginate_parts(
    session: Session,
    stmt: Select[Any],
    parts: list[Any],
    order_by: list[InstrumentedAttribute[Any]],
    *,
    cursor: str | None,
    limit: int,
) -> Page[Any]:
    """:func:`paginate` over the rows of `stmt` that meet any of `parts` (conditions no row meets two of).

    Each part is ordered and limited on its own, so an index that starts with the part's equality
    columns and ends with `order_by` serves it as one range scan; one statement merges them (UNION
    ALL). A single OR of the parts would make the database sort every matching row for each page.
    """
    if len(parts) == 1:
        return paginate(session, stmt.where(parts[0]), order_by, cursor=cursor, limit=limit)
    limit = max(1, min(limit, MAX_LIMIT))
    after = _after(order_by, cursor)
    entity = stmt.column_descriptions[0]["entity"]
    branches = []
    for part in parts:
        branch = stmt.where(part) if after is None else stmt.where(part, after)
        branches.append(select(branch.order_by(*order_by).limit(limit + 1).subquery()))
    # The merged rows are the entity's own columns under their own names, so the ORM loads them from the
    # compound statement as it is (from_statement); an aliased entity over it would make SQLAlchemy adapt
    # every column expression on each request, which cost more than the query itself.
    merged = union_all(*branches).order_by(*(literal_column(column.key) for column in order_by)).limit(limit + 1)
    rows = list(session.scalars(select(entity).from_statement(merged)))
    return _page(rows, order_by, limit)
