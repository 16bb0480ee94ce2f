"""Check constraints the domain tables share (the values a status column may hold)."""
from __future__ import annotations


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL that keeps `column` to `values` (a CHECK constraint's text; the migrations spell it the same)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
