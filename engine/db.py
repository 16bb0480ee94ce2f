"""Database access: one engine per URL, SQLite tuned for a server (WAL, FKs, immediate write locks)."""
from __future__ import annotations

import contextvars
import fcntl
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from . import kept_rows
from .config import settings
from .errors import Conflict, EngineError, Invalid, Unavailable

log = logging.getLogger("ecvet.db")

#: Seconds a client is asked to wait (Retry-After) when the database cannot be reached.
RETRY_AFTER_SECONDS = 5
#: A pooled connection resting this long is pinged before use (engine/db.py `_ping_when_idle`).
IDLE_PING_SECONDS = 2.0
_IDLE_SINCE = "ecvet_idle_since"
#: Seconds to wait for a PostgreSQL connection before answering 503 (a URL's connect_timeout wins).
CONNECT_TIMEOUT_SECONDS = 5

# Set while a write unit of work opens its transaction: SQLite then takes the write lock up front
# (BEGIN IMMEDIATE), so two writers queue on busy_timeout instead of failing on a stale snapshot.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def normalise_url(url: str) -> str:
    """Accept plain postgres URLs and route them to psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    # Sized to the process: a request thread holds one connection at a time, and the few beyond the
    # threads serve the metrics collector and the health check. Overflow covers a burst, then closes.
    current = settings()
    pool = current.db_pool_size if current.db_pool_size > 0 else current.server_threads + 2
    options: dict[str, Any] = {"pool_size": pool, "max_overflow": pool, **kwargs}
    engine = create_engine(url, connect_args=connect_args, **options)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it has rested IDLE_PING_SECONDS or more (a server
    restart or a network timeout happens to idle connections), not on every checkout: under load that
    ping would be one more round trip per unit of work. A dead one is replaced before anyone sees it."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is gone
            raise DisconnectionError("pooled connection is dead") from exc
        if not alive:
            raise DisconnectionError("pooled connection is dead")


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def _is_lock_conflict(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and ("locked" in message or "deadlock" in message)


def _unreachable(exc: Exception) -> Unavailable:
    # The operator needs the driver's words; the client only that it is us and temporary.
    log.error("database unreachable: %s", str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
    return Unavailable("The database is unreachable; try again shortly", retry_after=RETRY_AFTER_SECONDS)


def _not_storable(exc: Exception) -> Invalid:
    # Input the edge could not know about (an id inside free-form form data, a hand-made cursor) that
    # the database refuses: out of range, wrong type. A client error, never half-applied.
    log.warning("database refused a value: %s", str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
    return Invalid("A value is out of range or of the wrong kind for what it refers to")


def _is_unique_violation(exc: IntegrityError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return "UNIQUE constraint failed" in str(exc.orig)


#: Seconds a SQLite writer waits for the other writers (as long as SQLite's busy_timeout).
SQLITE_WRITER_WAIT_SECONDS = 30.0
#: Seconds between two tries for another process's write turn: far below SQLite's own busy sleeps.
_TURN_POLL_SECONDS = 0.0005
#: Kept while a Database of the file lives (weakly: a test suite opens thousands of files).
_SQLITE_WRITERS: weakref.WeakValueDictionary[str, _WriteTurns] = weakref.WeakValueDictionary()
_SQLITE_WRITERS_GUARD = threading.Lock()


class _WriteTurns:
    """The writers of one SQLite file take turns: the threads of a process on a lock, the processes
    (API server, worker, CLI) on an advisory lock of a file beside the database.

    SQLite lets one writer in at a time and makes the others wait in its busy handler, which sleeps
    in steps of up to 100 ms and may let a late writer in before an early one: seen as a p99 above
    1.5 s with 16 clients. Here a waiting thread wakes as soon as the lock is free, and a waiting
    process tries again every half millisecond, so BEGIN IMMEDIATE then always finds the database free.
    """

    def __init__(self, lock_path: str | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0  # nested units of work of the owning thread (changed only while holding _threads)
        self._lock_path = lock_path
        self._fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            if self._depth == 0 and not self._process_turn(deadline):
                self._threads.release()
                return False
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            # Unlocked explicitly: a process forked meanwhile shares the open file, and closing ours alone
            # would leave the turn with it. Then closed: no descriptor stays open between writes.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._threads.release()

    def _process_turn(self, deadline: float) -> bool:
        if self._lock_path is None:
            return True
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return True  # no place for the lock file (no directory yet): SQLite says what is wrong
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(_TURN_POLL_SECONDS)
            else:
                self._fd = fd
                return True


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL, None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def _sqlite_writer_turns(url: str) -> _WriteTurns:
    """One turn-keeper per SQLite file and process."""
    path = _sqlite_file(url)
    with _SQLITE_WRITERS_GUARD:
        key = path or url
        turns = _SQLITE_WRITERS.get(key)
        if turns is None:
            turns = _SQLITE_WRITERS[key] = _WriteTurns(f"{path}-writers" if path else None)
        return turns


class UnitOfWork(Session):
    """A session that keeps append-only rows to insert together (engine/kept_rows.py) and writes them
    before a savepoint begins, so they stay with the transaction they were kept in whatever the
    savepoint does."""

    def begin_nested(self) -> SessionTransaction:
        kept_rows.write(self)
        return super().begin_nested()


class Database:
    """Owns the engine and hands out transactional sessions; the only way code reaches SQL."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, class_=UnitOfWork, expire_on_commit=False,
                                         info={kept_rows.KEEPS_ROWS: True})
        self._writers = _sqlite_writer_turns(self.url) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: commit on success, roll back everything on any error.

        Lost races surface as Conflict (409): a stale optimistic version or a lock timeout. A database
        that cannot be reached surfaces as Unavailable (503, Retry-After), a value it cannot store as
        Invalid (422).
        """
        writers = self._writers if write else None
        if writers is not None and not writers.acquire(timeout=SQLITE_WRITER_WAIT_SECONDS):
            raise Conflict("The database is busy with other writes; try again")
        token = _write_intent.set(write)
        pending: contextvars.Token[bool] | None = token  # reset once the transaction has begun
        session = self.sessionmaker()
        try:
            _begin(session)
            _write_intent.reset(token)
            pending = None
            yield session
            session.commit()
        except EngineError as exc:
            if exc.keep_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException as exc:
            session.rollback()
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc
        finally:
            if pending is not None:
                _write_intent.reset(pending)
            session.close()
            if writers is not None:
                writers.release()

    def dispose(self) -> None:
        self.engine.dispose()


def _begin(session: Session) -> None:
    """Open the transaction now, under the right lock mode; a database out of reach is Unavailable."""
    try:
        session.connection()
    except (OperationalError, InterfaceError, PoolTimeout) as exc:
        if isinstance(exc, OperationalError) and _is_lock_conflict(exc):
            raise
        raise _unreachable(exc) from exc


def _translate(exc: BaseException) -> EngineError | None:
    """What a database error means to the caller (409, 422, 503), or None to let it through as it is."""
    if isinstance(exc, StaleDataError):
        return Conflict("The instance was changed by another request; reload and try again")
    if isinstance(exc, IntegrityError):
        # A unique key lost to a concurrent request (e.g. two completions racing): a conflict.
        unique = _is_unique_violation(exc)
        return Conflict("A concurrent change got there first; reload and try again") if unique else None
    if isinstance(exc, DBAPIError):
        return _translate_driver_error(exc)
    if isinstance(exc, OverflowError):  # SQLite: an integer beyond 64 bits, before the driver is called
        return _not_storable(exc)
    return None


def _translate_driver_error(exc: DBAPIError) -> EngineError | None:
    if _is_lock_conflict(exc):
        return Conflict("The database is busy with a conflicting change; try again")
    if exc.connection_invalidated:
        return _unreachable(exc)
    return _not_storable(exc) if isinstance(exc, DataError) else None
