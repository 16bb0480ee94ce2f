"""Real `ecvet serve` and `ecvet worker` processes for the benchmarks, on a database of their own."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import create_engine, make_url, text

PG_URL = os.environ.get("ECVET_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HOST = "127.0.0.1"


def fresh_pg(name: str) -> str | None:
    """A fresh database `name` on the server at PG_URL (dropped first if a previous run left it)."""
    try:
        server = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL unavailable ({type(exc).__name__}); its rows are skipped", file=sys.stderr)
        return None


def fresh_sqlite(name: str) -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='ecvet-bench-')}/{name}.sqlite3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Fleet:
    """The API ports and every process started (servers and workers)."""

    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    server_processes: int = 0
    #: Process ids of the `ecvet serve` and `ecvet worker` commands (their children descend from them).
    server_pids: list[int] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)


def _environment(url: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "ECVET_ARGON2_FAST": "1", "ECVET_LOG_LEVEL": "WARNING", **extra})
    return env


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == http.HTTPStatus.OK:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not become healthy in {timeout:.0f} s")


@contextmanager
def fleet(url: str, *, servers: int = 1, workers: int = 1, processes_each: int = 0) -> Iterator[Fleet]:
    """`servers` separate `ecvet serve` commands (each with `processes_each` processes, 0: its default)
    and `workers` `ecvet worker` commands on one database; all stopped (SIGTERM) on the way out."""
    started = Fleet()
    extra = {"ECVET_SERVER_PROCESSES": str(processes_each)} if processes_each else {}
    env = _environment(url, extra)
    try:
        for _ in range(servers):
            port = free_port()
            process = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
                [sys.executable, "-m", "api.cli", "serve", "--host", HOST, "--port", str(port)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            started.processes.append(process)
            started.server_pids.append(process.pid)
            started.ports.append(port)
            _wait_healthy(port, process)
            banner = process.stdout.readline().decode() if process.stdout else ""
            started.server_processes += _count_processes(banner)
        for _ in range(workers):
            started.processes.append(subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "api.cli", "worker", "--poll", "0.2"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            started.worker_pids.append(started.processes[-1].pid)
        yield started
    finally:
        for process in started.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _count_processes(banner: str) -> int:
    """`ecvet serve` prints "serving on ... (N process(es), T threads each)"."""
    _before, _sep, after = banner.partition("(")
    first = after.split(" ", 1)[0]
    return int(first) if first.isdigit() else 1
