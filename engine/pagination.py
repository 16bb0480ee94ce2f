"""Keyset (cursor) pagination: stable under inserts and cheap on big tables, unlike OFFSET."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
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
    if cursor:
        values = _decode(cursor, len(order_by))
        for value, column in zip(values, order_by, strict=True):
            # A hand-made cursor must not compare a column with a value of another kind (an SQL error).
            expected = getattr(column.type, "impl_instance", column.type).python_type  # through TypeDecorators
            if isinstance(value, bool) or not isinstance(value, expected):
                raise Invalid("The cursor is not valid; use next_cursor from a previous page")
        after = tuple_(*order_by) < tuple_(*values) if descending else tuple_(*order_by) > tuple_(*values)
        stmt = stmt.where(after)
    ordering = [c.desc() for c in order_by] if descending else list(order_by)
    rows = list(session.scalars(stmt.order_by(*ordering).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, col.key) for col in order_by])
    return Page(rows, next_cursor)
