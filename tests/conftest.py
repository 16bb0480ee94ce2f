"""Test harness: every database test runs on SQLite and on PostgreSQL, migrated once per session."""
from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

os.environ.setdefault("ECVET_ARGON2_FAST", "1")
# The SMTP test server (aiosmtpd) logs every connection at INFO; keep test output to what fails.
logging.getLogger("mail.log").setLevel(logging.WARNING)

from engine import clock, config  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.migrate import upgrade  # noqa: E402

PG_URL = os.environ.get("ECVET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Each test session works in its own database, created from the server at PG_URL and dropped at the end,
# so several suites (developers, CI, helpers) can share one PostgreSQL server without interfering.
PG_SESSION_DB = f"ecvet_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
ROOT = Path(__file__).resolve().parent.parent


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _backends() -> list[str]:
    wanted = os.environ.get("ECVET_TEST_BACKENDS", "sqlite,postgresql").split(",")
    return [b.strip() for b in wanted if b.strip()]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _drop_orphans(conn: Any) -> None:
    """Drop databases of earlier test sessions on this machine whose process is gone (killed runs)."""
    names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'ecvet_test_%'")).scalars()
    for name in list(names):
        try:
            pid = int(name.split("_")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str]:
    reason = _pg_available()
    if reason is not None:
        if os.environ.get("ECVET_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (ECVET_REQUIRE_PG=1) but unreachable at {PG_URL}: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({reason}); set ECVET_REQUIRE_PG=1 to fail instead")
    server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        _drop_orphans(conn)
        conn.execute(text(f'CREATE DATABASE "{PG_SESSION_DB}"'))
    url = make_url(PG_URL).set(database=PG_SESSION_DB).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_SESSION_DB}" WITH (FORCE)'))
    server.dispose()


_EMPTYING: dict[str, str] = {}


def _empty_pg(db: Database) -> None:
    """Empty every table and restart every id sequence, as a fresh database would be.

    One DELETE per table with foreign-key and other triggers off for the transaction
    (session_replication_role), then setval on each sequence: about 2 ms per test against 900 ms for
    TRUNCATE ... RESTART IDENTITY CASCADE over the ~50 tables (measured on the 2-core machine). A savepoint
    rolled back after each test would cost 1 ms but cannot hold the tests that use several connections
    (live servers, the worker, concurrency), so committed data and this cleanup stay.
    """
    statement = _EMPTYING.get(db.url)
    with db.engine.begin() as conn:
        if statement is None:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                                       " AND tablename <> 'alembic_version'")).scalars().all()
            sequences = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
            statement = _EMPTYING[db.url] = "SET LOCAL session_replication_role = replica;" + "".join(
                f'DELETE FROM "{table}";' for table in tables) + "".join(
                f"SELECT setval('\"{sequence}\"', 1, false);" for sequence in sequences.scalars())
        conn.exec_driver_sql(statement)


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL of each backend."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "ecvet.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
    elif request.param == "postgresql":
        url = request.getfixturevalue("pg_migrated")
        yield url
        database = Database(url)
        _empty_pg(database)
        database.dispose()
    else:
        raise ValueError(f"unknown backend {request.param}")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _settings_of_this_test() -> Iterator[None]:
    """Each test reads the settings from its own environment, and leaves the next test what it found.

    Settings are read once per process (engine.config); a test that installs others (directly, through
    tests.support.settings, or by creating an app) must not change what later tests run with.
    """
    previous = config.use(None)
    yield
    config.use(previous)


@pytest.fixture
def frozen(request: pytest.FixtureRequest) -> Iterator[FrozenClock]:
    """The engine's clock (the one SpiffWorkflow's timers read too) frozen at the test module's ``T0``.

    Tests move time with ``frozen.advance(...)`` instead of sleeping; the previous clock comes back after.
    """
    start = getattr(request.module, "T0", None)
    if start is None:
        raise pytest.UsageError(f"{request.module.__name__} uses the 'frozen' fixture but defines no T0")
    frozen_clock = FrozenClock(start)
    previous = clock.use(frozen_clock)
    yield frozen_clock
    clock.use(previous)
