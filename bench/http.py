"""`make bench-http`: the real server and worker processes under N concurrent clients in other processes.

For SQLite (one server process), PostgreSQL (`ecvet serve` as deployed: one process per core) and
PostgreSQL with two separate API servers and two workers on one database (clients spread over both),
each client process signs in as its own user of its own three organisations, starts instances of the
20-user-task process over 3 lanes and completes every task it is given, for a fixed time. Printed:
completions/s and starts/s, p50/p95/p99 of each, errors, server processes, and the bare library's
deserialise+step+serialise round trip measured in the same run, as ratios. After each set-up the
database is counted and the check printed: every start answered 201 exactly one instance and one
`instance.started` audit row, every completion answered 200 exactly one `task.completed` audit row and
one completed task, every assignment mailed once. Last, the floor: the same clients send only
authenticated GET /api/users/me, and its CPU per request plus the library's step+serialise is the least a
completion can cost on this stack, with the rate those cores could reach at that cost (the ceiling no
optimisation of the completion itself can pass). ECVET_BENCH_SETUPS picks set-ups (sqlite, postgresql,
two-servers). Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

os.environ.setdefault("ECVET_ARGON2_FAST", "1")

from sqlalchemy import func, select  # noqa: E402

from bench import cpu  # noqa: E402
from bench.generate import LANES, sequential_process  # noqa: E402
from bench.run import bare, bare_step_and_save, print_table  # noqa: E402
from bench.servers import HOST, Fleet, fleet, fresh_pg, fresh_sqlite  # noqa: E402
from engine import deployments, migrate, parties  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import AuditEvent, HumanTask, OutboxMessage, ProcessInstance, TaskState  # noqa: E402

TASKS = 20
KEY = "bench_http"
PASSWORD = "bench-password-1"
CLIENTS = tuple(int(n) for n in os.environ.get("ECVET_BENCH_CLIENTS", "1,4,16").split(","))
SECONDS = float(os.environ.get("ECVET_BENCH_SECONDS", "8"))
SETUPS = os.environ.get("ECVET_BENCH_SETUPS", "sqlite,postgresql,two-servers").split(",")
CLIENT_PROCESSES = int(os.environ.get("ECVET_BENCH_CLIENT_PROCESSES", "2"))
BATCH = 4  # instances a client keeps in flight: one task list read serves this many completions


@dataclass
class ClientResult:
    completions: list[float] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    reads: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0


def prepare(url: str, clients: int) -> None:
    """Schema, the process, and per client one user in three organisations of its own."""
    migrate.upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={f"{KEY}.bpmn": sequential_process(KEY, TASKS)}, forms_dir=None)
        for n in range(clients):
            orgs = [parties.create_organisation(s, actor=None, name=f"{lane} {n}", country="DE").id for lane in LANES]
            parties.create_user(s, actor=None, email=f"client{n}@example.org", name=f"Client {n}",
                                password=PASSWORD, organisation_ids=orgs)
    db.dispose()


class Client:
    """One keep-alive HTTP connection speaking JSON with a bearer token."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


def _my_roles(client: Client) -> dict[str, int]:
    _status, me = client.call("GET", "/api/users/me")
    ids = sorted(me["organisation_ids"])  # created in the order of LANES by prepare()
    return {lane.split()[0].lower(): org for lane, org in zip(LANES, ids, strict=True)}


def drive_group(numbers: list[int], ports: list[int], seconds: float, queue: Any, *, ready: Any, go: Any,
                reads_only: bool = False) -> None:
    """A client process: one thread per client of `numbers` (each its own user and connection)."""
    threads = [threading.Thread(target=drive, args=(n, ports[n % len(ports)], seconds, queue),
                                kwargs={"ready": ready, "go": go, "reads_only": reads_only}) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def drive(number: int, port: int, seconds: float, queue: Any, *, ready: Any = None, go: Any = None,
          reads_only: bool = False) -> None:
    """A client: start BATCH instances, complete what its inbox shows, again, until time is up; with
    `reads_only`, the least an authenticated request does (GET /api/users/me), for the floor.

    It signs in, then waits for `go` (set once every client is ready), so that no client's start-up
    (importing Python, signing in) runs on the cores while the others are measured."""
    client = Client(port)
    status, body = client.call("POST", "/api/tokens", {"email": f"client{number}@example.org", "password": PASSWORD})
    if status != HTTPStatus.CREATED:
        raise SystemExit(f"client {number} could not sign in: {status} {body}")
    client.token = body["token"]
    roles = _my_roles(client)
    if ready is not None and go is not None:
        ready.put(number)
        go.wait()
    result = ClientResult()
    began = time.perf_counter()
    deadline = began + seconds
    while reads_only and time.perf_counter() < deadline:
        t0 = time.perf_counter()
        status, _me = client.call("GET", "/api/users/me")
        _account(result, result.reads, status, HTTPStatus.OK, t0)
    while not reads_only and time.perf_counter() < deadline:
        for _ in range(BATCH):
            t0 = time.perf_counter()
            status, body = client.call("POST", "/api/process-instances", {"process_key": KEY, "parties": roles})
            _account(result, result.starts, status, HTTPStatus.CREATED, t0)
        while time.perf_counter() < deadline:
            status, page = client.call("GET", "/api/tasks?limit=200")
            if status != HTTPStatus.OK or not page["items"]:
                break
            for task in page["items"]:
                t0 = time.perf_counter()
                status, _done = client.call("POST", f"/api/tasks/{task['id']}/complete", {"data": {}})
                _account(result, result.completions, status, HTTPStatus.OK, t0)
    result.elapsed = time.perf_counter() - began
    queue.put(result)


def _account(result: ClientResult, samples: list[float], status: int, expected: int, t0: float) -> None:
    if status == expected:
        samples.append(time.perf_counter() - t0)
    else:
        result.errors[str(status)] = result.errors.get(str(status), 0) + 1


@dataclass
class Phase:
    label: str
    clients: int
    server_processes: int
    results: list[ClientResult]
    #: CPU seconds per kind of process while the clients ran (bench/cpu.py).
    cpu: dict[str, float] = field(default_factory=dict)

    def cpu_ms_per_completion(self, kind: str = "completions") -> dict[str, float]:
        done = max(1, sum(len(getattr(r, kind)) for r in self.results))
        return {process: 1000 * seconds / done for process, seconds in self.cpu.items()}

    def rate(self, kind: str) -> float:
        wall = max(r.elapsed for r in self.results)
        return sum(len(getattr(r, kind)) for r in self.results) / wall

    def percentile(self, kind: str, q: int) -> float:
        samples = sorted(s for r in self.results for s in getattr(r, kind))
        if not samples:
            return float("nan")
        return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000 if len(samples) > 1 \
            else samples[0] * 1000

    def errors(self) -> str:
        merged: dict[str, int] = {}
        for r in self.results:
            for code, n in r.errors.items():
                merged[code] = merged.get(code, 0) + n
        return ", ".join(f"{n}x{code}" for code, n in sorted(merged.items())) or "0"


CPU_KINDS = ("API server", "worker", "PostgreSQL", "clients")


def run_phase(label: str, running: Fleet, clients: int, *, reads_only: bool = False) -> Phase:
    """`clients` clients, as threads of CLIENT_PROCESSES processes (the clients' own CPU is then small
    beside the platform's, as it is when they sit on other machines; 0: one process per client)."""
    context = multiprocessing.get_context("spawn")
    queue, ready, go = context.Queue(), context.Queue(), context.Event()
    processes = clients if CLIENT_PROCESSES <= 0 else min(clients, CLIENT_PROCESSES)
    groups = [list(range(clients))[k::processes] for k in range(processes)]
    workers = [context.Process(target=drive_group, args=(group, running.ports, SECONDS, queue),
                               kwargs={"ready": ready, "go": go, "reads_only": reads_only})
               for group in groups]
    for w in workers:
        w.start()
    for _ in range(clients):
        ready.get(timeout=300)
    roots = {"API server": running.server_pids, "worker": running.worker_pids,
             "clients": [w.pid for w in workers if w.pid is not None]}
    before = cpu.snapshot(roots, by_name={"postgres": "PostgreSQL"})
    go.set()
    results = [queue.get(timeout=SECONDS + 300) for _ in range(clients)]
    used = cpu.spent(before, cpu.snapshot(roots, by_name={"postgres": "PostgreSQL"}))
    for w in workers:
        w.join()
    phase = Phase(label, clients, running.server_processes, results, used)
    kind = "reads" if reads_only else "completions"
    print(f"  {label}, {clients} clients: {phase.rate(kind):.1f} {kind}/s", file=sys.stderr)
    return phase


def ledger(url: str, phases: list[Phase]) -> str:
    """Nothing lost, nothing twice: starts and completions answered against the rows the database holds."""
    answered = sum(len(r.completions) for p in phases for r in p.results)
    started = sum(len(r.starts) for p in phases for r in p.results)
    db = Database(url)
    with db.transaction(write=False) as s:
        def count(model: Any, *where: Any) -> int:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

        audited = count(AuditEvent, AuditEvent.action == "task.completed")
        completed = count(HumanTask, HumanTask.state == TaskState.COMPLETED)
        created = count(HumanTask)
        instances = count(ProcessInstance)
        start_rows = count(AuditEvent, AuditEvent.action == "instance.started")
        twice = s.scalar(select(func.count()).select_from(
            select(OutboxMessage.task_id, OutboxMessage.to_email, OutboxMessage.kind)
            .group_by(OutboxMessage.task_id, OutboxMessage.to_email, OutboxMessage.kind)
            .having(func.count() > 1).subquery()))
        mailed = count(OutboxMessage)
    db.dispose()
    consistent = answered == audited == completed and started == instances == start_rows and twice == 0
    return (f"{'consistent' if consistent else 'INCONSISTENT'}: {answered} completions answered 200, {audited} "
            f"task.completed audit rows, {completed} completed task rows (of {created}); {started} starts answered "
            f"201, {instances} instances, {start_rows} instance.started audit rows; {mailed} e-mails of which "
            f"{twice} sent twice")


def measure(label: str, url: str, *, servers: int, workers: int, processes_each: int = 0
            ) -> tuple[list[Phase], Phase, str]:
    """The completion phases, then the floor phase (authenticated reads only) at the most clients."""
    prepare(url, max(CLIENTS))
    phases = []
    with fleet(url, servers=servers, workers=workers, processes_each=processes_each) as running:
        for clients in CLIENTS:
            phases.append(run_phase(label, running, clients))
        floor = run_phase(label, running, max(CLIENTS), reads_only=True)
    return phases, floor, ledger(url, phases)


def print_floors(runs: list[tuple[list[Phase], Phase, str]], step_and_save: float) -> None:
    """What no completion can cost less than on this stack: one authenticated request (server, database
    and client CPU of GET /api/users/me, measured) and the library's step+serialise (in memory, as the
    platform keeps workflows), against the cores; the completions' own total beside it."""
    cores = os.cpu_count() or 1
    rows = []
    for phases, floor, _verdict in runs:
        per_read = floor.cpu_ms_per_completion("reads")
        request = sum(per_read.get(kind, 0.0) for kind in ("API server", "PostgreSQL", "clients"))
        least = request + step_and_save
        server_part = per_read.get("API server", 0.0) + step_and_save
        ceiling = min(cores * 1000 / least, min(cores, floor.server_processes) * 1000 / server_part)
        busiest = phases[-1]
        spent = sum(busiest.cpu_ms_per_completion().values())
        rows.append((floor.label, f"{floor.rate('reads'):.0f}", f"{per_read.get('API server', 0.0):.2f}",
                     f"{per_read.get('PostgreSQL', 0.0):.2f}", f"{per_read.get('clients', 0.0):.2f}",
                     f"{step_and_save:.2f}", f"{least:.2f}", f"{ceiling:.0f}", f"{spent:.2f}",
                     f"{busiest.rate('completions'):.0f}"))
    print(f"\nThe floor at {max(CLIENTS)} clients: CPU ms of one authenticated GET /api/users/me by kind of "
          "process, plus bare SpiffWorkflow's step+serialise; a completion costs at least their sum, so no "
          f"completion rate can pass the floor's ceiling: the {cores} cores over the floor, or the server "
          "processes over their part of it (one process runs on one core), whichever is lower\n")
    print_table(("backend", "reads/s", "read: API server", "read: PostgreSQL", "read: client", "step+save",
                 "floor ms", "floor's ceiling /s", "completion ms (all processes)", "completions/s"), rows)


def main() -> None:
    print("measuring bare SpiffWorkflow...", file=sys.stderr)
    _step, trip = bare(TASKS)
    step_and_save = bare_step_and_save(TASKS)
    runs: list[tuple[list[Phase], Phase, str]] = []
    if "sqlite" in SETUPS:
        runs.append(measure("sqlite", fresh_sqlite("http"), servers=1, workers=1))
    pg = fresh_pg("ecvet_bench_http") if "postgresql" in SETUPS else None
    if pg:
        runs.append(measure("postgresql", pg, servers=1, workers=1))
    pg2 = fresh_pg("ecvet_bench_http2") if "two-servers" in SETUPS else None
    if pg2:
        runs.append(measure("postgresql, 2 servers + 2 workers", pg2, servers=2, workers=2, processes_each=1))

    header = ("backend", "server procs", "clients", "completions/s", "p50 ms", "p95 ms", "p99 ms", "starts/s",
              "start p50 ms", "start p95 ms", "errors", "p50 / bare trip", "bare trips/s / completions/s")
    rows = []
    for phases, _floor, _ledger in runs:
        for p in phases:
            rate = p.rate("completions")
            rows.append((p.label, str(p.server_processes), str(p.clients), f"{rate:.1f}",
                         f"{p.percentile('completions', 50):.1f}", f"{p.percentile('completions', 95):.1f}",
                         f"{p.percentile('completions', 99):.1f}", f"{p.rate('starts'):.1f}",
                         f"{p.percentile('starts', 50):.1f}", f"{p.percentile('starts', 95):.1f}", p.errors(),
                         f"{p.percentile('completions', 50) / trip:.1f}", f"{(1000 / trip) / rate:.1f}"))
    spread = f"threads of {CLIENT_PROCESSES} processes" if CLIENT_PROCESSES > 0 else "one process each"
    print(f"\n{TASKS}-user-task process over {len(LANES)} lanes, {SECONDS:.0f} s per row, clients as {spread} "
          f"over HTTP keep-alive; bare SpiffWorkflow round trip (deserialise+step+serialise, one "
          f"process, same run): {trip:.2f} ms = {1000 / trip:.0f} trips/s\n")
    print_table(header, rows)
    print(f"\nWhere the {os.cpu_count()} cores went: ms of CPU per completion by kind of process (from /proc, "
          "while the clients ran; a start and the task lists are shared out over the completions)\n")
    cpu_rows = []
    for phases, _floor, _ledger in runs:
        for p in phases:
            spent = p.cpu_ms_per_completion()
            total = sum(spent.values())
            cpu_rows.append((p.label, str(p.clients), *(f"{spent.get(kind, 0.0):.2f}" for kind in CPU_KINDS),
                             f"{total:.2f}", f"{(os.cpu_count() or 1) * 1000 / total:.0f}" if total else "-"))
    print_table(("backend", "clients", *CPU_KINDS, "total", "ceiling completions/s on these cores"), cpu_rows)
    print_floors(runs, step_and_save)
    print()
    for phases, _floor, verdict in runs:
        print(f"{phases[0].label}: {verdict}")


if __name__ == "__main__":
    main()
