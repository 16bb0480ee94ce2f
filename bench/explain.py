"""The statements a request sends, and PostgreSQL's plan of each as it ran (EXPLAIN ANALYZE), for bench-scale."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The tables that grow with the instances: a statement reading one of these is a list query to explain.
SHOWN = 160  # characters of a statement printed above its plan
_GROWING = re.compile(r"\b(FROM|JOIN)\s+(tasks|process_instances|instance_parties|audit_events|jobs)\b", re.I)


@contextmanager
def recording(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT sent on `engine` inside the block, with its parameters, as the driver got them."""
    sent: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)


def plans(engine: Engine, call: Callable[[], Any]) -> list[tuple[str, list[str]]]:
    """Run `call` once recording its statements, then EXPLAIN (ANALYZE, BUFFERS) each one that reads a
    growing table (rolled back: a plan's statement changes nothing, and a SELECT ... FOR UPDATE locks
    only until then)."""
    with recording(engine) as sent:
        call()
    out = []
    with engine.connect() as conn:
        for statement, parameters in sent:
            if not _GROWING.search(statement):
                continue
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters)
            out.append((statement, [str(row[0]) for row in rows]))
        conn.rollback()
    return out


def summary(statement: str) -> str:
    """The statement on one line, shortened: enough to tell which query a plan is for."""
    flat = " ".join(statement.split())
    return flat if len(flat) <= SHOWN else f"{flat[:SHOWN - 3]}..."


def print_plans(label: str, found: list[tuple[str, list[str]]]) -> None:
    print(f"\n=== {label}: {len(found)} statement(s) on the growing tables")
    for statement, lines in found:
        print(f"--- {summary(statement)}")
        for line in lines:
            print(f"    {line}")
