"""`ecvet serve`: one waitress process on SQLite, gunicorn's threaded workers (one per core) on PostgreSQL.

Python runs one thread at a time per process (the GIL), so a single server process uses one core
however many threads it has. On PostgreSQL the server therefore runs several processes, each with
its own request threads, connection pool and evaluator pool, all created after the fork (the app is
built in each worker, never in the master, so no connection or evaluator crosses a fork). SQLite
allows one writer at a time whatever the number of processes, so it stays one process.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import waitress
from flask import Flask
from gunicorn.app.base import BaseApplication

from engine.config import Settings

#: Seconds a gunicorn worker may take for one request before the master replaces it: above the
#: script time limit plus its kill margin, well below what a client waits for.
REQUEST_TIMEOUT_SECONDS = 60


def is_sqlite(settings: Settings) -> bool:
    return settings.database_url.startswith("sqlite")


def processes(settings: Settings) -> int:
    """How many server processes: 1 on SQLite, else ECVET_SERVER_PROCESSES or one per CPU core."""
    if is_sqlite(settings):
        return 1
    if settings.server_processes > 0:
        return settings.server_processes
    return max(1, len(os.sched_getaffinity(0)))


class MultiProcessServer(BaseApplication):
    """gunicorn embedded: its master forks `workers` processes, each builds the app with `factory`."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def gunicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": processes(settings),
        "worker_class": "gthread",
        "threads": settings.server_threads,
        "timeout": REQUEST_TIMEOUT_SECONDS,
        "graceful_timeout": 10,
        "keepalive": 5,
        "preload_app": False,  # each worker builds its own app: pools and evaluators are per process
        "proc_name": "ecvet-flow",
        "accesslog": None,  # the app logs each request itself (api/logging.py)
        "errorlog": "-",
    }


def serve(factory: Callable[[], Flask], settings: Settings, *, host: str, port: int) -> None:
    """Run until stopped: waitress in this process on SQLite, gunicorn's master and workers otherwise."""
    if processes(settings) == 1 and is_sqlite(settings):
        waitress.serve(factory(), host=host, port=port, threads=settings.server_threads, ident="ecvet-flow")
        return
    MultiProcessServer(factory, gunicorn_options(settings, host=host, port=port)).run()
