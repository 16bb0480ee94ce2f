"""api/serving.py: one process on SQLite; on PostgreSQL gunicorn's threaded workers, one per core by default."""
from __future__ import annotations

import os

from api import serving
from engine.config import load_settings

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/x"


def test_sqlite_is_served_by_one_process_whatever_is_asked() -> None:
    assert serving.processes(load_settings(database_url="sqlite:///x.sqlite3", server_processes=4)) == 1


def test_postgresql_gets_one_process_per_core_unless_told() -> None:
    assert serving.processes(load_settings(database_url=PG)) == len(os.sched_getaffinity(0))
    assert serving.processes(load_settings(database_url=PG, server_processes=3)) == 3


def test_each_gunicorn_worker_builds_its_own_app_with_threads_as_configured() -> None:
    options = serving.gunicorn_options(load_settings(database_url=PG, server_processes=2, server_threads=6),
                                       host="127.0.0.1", port=5001)
    assert options["bind"] == "127.0.0.1:5001"
    assert (options["workers"], options["worker_class"], options["threads"]) == (2, "gthread", 6)
    assert options["preload_app"] is False  # no pool or evaluator crosses a fork
    loaded = serving.MultiProcessServer(lambda: "the app", options)  # type: ignore[arg-type, return-value]
    assert loaded.cfg.workers == 2
    assert loaded.load() == "the app"
