"""engine/db.py: one unit of work per call, all or nothing, and database failures as 409, 422 or 503."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine import config
from engine import db as engine_db
from engine.db import Database, normalise_url
from engine.errors import Conflict, Invalid, NotFound, Unavailable
from engine.models import Organisation
from tests.support.factories import make_org


def test_postgres_urls_are_routed_to_psycopg_3() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def _add_then_raise(db: Database, name: str, error: Exception | None, organisation_id: int | None = None) -> None:
    """One unit of work that adds an organisation, then fails with ``error`` (or at its flush)."""
    with db.transaction() as s:
        s.add(Organisation(id=organisation_id, name=name, country="DE"))
        s.flush()
        if error is not None:
            raise error


def test_a_unit_of_work_commits_on_success_and_keeps_nothing_on_failure(db: Database) -> None:
    with db.transaction() as s:
        s.add(Organisation(name="Kept", country="DE"))
    with pytest.raises(NotFound):
        _add_then_raise(db, "Dropped", NotFound("refused half-way"))
    with db.transaction(write=False) as s:
        assert [o.name for o in s.scalars(select(Organisation))] == ["Kept"]


def test_an_error_that_asks_to_keep_its_changes_commits_them(db: Database) -> None:
    refusal = Invalid("refused, but the attempt is recorded")
    refusal.keep_changes = True
    with pytest.raises(Invalid):
        _add_then_raise(db, "Recorded", refusal)
    with db.transaction(write=False) as s:
        assert [o.name for o in s.scalars(select(Organisation))] == ["Recorded"]


def test_a_unique_key_lost_to_another_change_is_a_conflict(db: Database) -> None:
    org = make_org(db)
    with pytest.raises(Conflict, match="got there first"):
        _add_then_raise(db, "Same id", None, organisation_id=org.id)


def test_a_value_the_database_cannot_store_is_invalid_not_a_server_error(db: Database) -> None:
    with pytest.raises(Invalid, match="out of range or of the wrong kind"), db.transaction(write=False) as s:
        s.get(Organisation, 2**70)


def test_a_database_out_of_reach_is_unavailable(tmp_path: Path) -> None:
    nowhere = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    try:
        with pytest.raises(Unavailable) as down, nowhere.transaction() as s:
            s.execute(text("SELECT 1"))
        assert down.value.retry_after > 0
    finally:
        nowhere.dispose()


def test_a_pooled_connection_that_died_while_resting_is_replaced_unseen(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ping on every checkout (a round trip per unit of work); a rested connection is tested first."""
    if db.is_sqlite:
        pytest.skip("SQLite has no server connection to lose")
    with db.transaction(write=False) as s:
        first = s.scalar(text("SELECT pg_backend_pid()"))
    other = Database(db.url)  # a connection of another pool ends the first one's backend
    with other.transaction() as killer:
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.dispose()
    monkeypatch.setattr(engine_db, "IDLE_PING_SECONDS", 0.0)  # every connection has rested long enough
    with db.transaction(write=False) as s:
        assert s.scalar(text("SELECT pg_backend_pid()")) != first


def test_the_postgresql_pool_is_sized_to_the_process_threads_or_as_set() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # nothing is connected to build a pool
    config.use(config.load_settings(server_threads=3))
    assert Database(url).engine.pool.size() == 5  # type: ignore[attr-defined]  # QueuePool's
    config.use(config.load_settings(server_threads=3, db_pool_size=7))
    assert Database(url).engine.pool.size() == 7  # type: ignore[attr-defined]


def test_sqlite_writers_of_one_process_take_turns_on_a_lock_not_in_the_busy_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second writer thread waits for the first on the process's lock and then goes in, never
    sleeping in SQLite's busy handler; a writer that waits past the bound gets 409. Readers never wait."""
    db = Database(f"sqlite:///{tmp_path}/writers.sqlite3")
    Organisation.metadata.create_all(db.engine)
    inside, release, order = threading.Event(), threading.Event(), []

    def first() -> None:
        with db.transaction() as s:
            s.add(Organisation(name="First", country="DE"))
            s.flush()
            inside.set()
            release.wait(5)
            order.append("first commits")

    def second() -> None:
        with db.transaction() as s:
            order.append("second begins")
            s.add(Organisation(name="Second", country="DE"))

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(5)
    with db.transaction(write=False) as s:  # a reader does not queue behind the writer
        assert s.scalars(select(Organisation)).all() == []
    monkeypatch.setattr(engine_db, "SQLITE_WRITER_WAIT_SECONDS", 0.05)
    with pytest.raises(Conflict, match="busy with other writes"), db.transaction() as s:
        s.add(Organisation(name="Too late", country="DE"))
    monkeypatch.setattr(engine_db, "SQLITE_WRITER_WAIT_SECONDS", 5.0)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)
    assert b.is_alive()  # queued on the lock while the first is inside
    release.set()
    a.join(5)
    b.join(5)
    assert order == ["first commits", "second begins"]
    with db.transaction(write=False) as s:
        assert sorted(o.name for o in s.scalars(select(Organisation))) == ["First", "Second"]
    db.dispose()


def test_sqlite_writers_of_two_processes_take_turns_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker and the API server are two processes on one SQLite file: while one is writing, the
    other waits for its turn on the file lock beside the database (refused with 409 past the bound),
    not in SQLite's busy handler, and goes in once the first has committed."""
    url = f"sqlite:///{tmp_path}/processes.sqlite3"
    db = Database(url)
    Organisation.metadata.create_all(db.engine)
    holder = subprocess.Popen(  # noqa: S603 - this interpreter running a fixed script
        [sys.executable, "-c", (
            "import sys\n"
            "from engine.db import Database\n"
            "from engine.models import Organisation\n"
            f"db = Database({url!r})\n"
            "with db.transaction() as s:\n"
            "    s.add(Organisation(name='Other process', country='DE'))\n"
            "    s.flush()\n"
            "    print('inside', flush=True)\n"
            "    sys.stdin.readline()\n"
        )],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[2]))
    try:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline().strip() == "inside"
        monkeypatch.setattr(engine_db, "SQLITE_WRITER_WAIT_SECONDS", 0.05)
        with pytest.raises(Conflict, match="busy with other writes"), db.transaction() as s:
            s.add(Organisation(name="Too late", country="DE"))
        holder.stdin.write("go\n")
        holder.stdin.flush()
        monkeypatch.setattr(engine_db, "SQLITE_WRITER_WAIT_SECONDS", 10.0)
        with db.transaction() as s:
            s.add(Organisation(name="This process", country="DE"))
        assert holder.wait(10) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
    with db.transaction(write=False) as s:
        assert sorted(o.name for o in s.scalars(select(Organisation))) == ["Other process", "This process"]
    db.dispose()


def test_no_write_turn_keeps_a_file_open_between_writes(tmp_path: Path) -> None:
    """A test suite (or a CLI) opens many SQLite files: no lock file stays open after a write."""
    def writer_files() -> list[str]:
        targets = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                targets.append(os.readlink(fd))
            except OSError:
                continue
        return [t for t in targets if t.endswith("-writers")]

    for n in range(20):
        db = Database(f"sqlite:///{tmp_path}/many-{n}.sqlite3")
        Organisation.metadata.create_all(db.engine)
        with db.transaction() as s:
            s.add(Organisation(name=f"Organisation {n}", country="DE"))
        db.dispose()
        assert (tmp_path / f"many-{n}.sqlite3-writers").exists()  # the turn was taken through the file
    assert writer_files() == []
