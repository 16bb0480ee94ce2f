"""`make bench-scale`: inbox, instance list, dashboard and completion at 1,000 instances and at many more.

Loads instances of the 20-user-task process over 3 lanes through the product's bulk path
(engine/bulk.py) into a database of its own (PostgreSQL, or SQLite with ECVET_BENCH_SCALE_SQLITE=1):
instance n has its first n // 3 % 21 user tasks completed (so about 11 task rows and 23 audit rows per
instance, one in 21 instances completed), started up to 60 days ago, three sending organisations and
five hosting ones taking turns, so the measured coordinator's organisation holds a third of the
instances. Two databases: one of 1,000 instances and one of ECVET_BENCH_SCALE (default 10,000). Each
request goes through the WSGI app ECVET_BENCH_REPEAT times against each, interleaved (one call on
each in turn, so a loaded machine weighs on both alike); then PostgreSQL's plan (EXPLAIN ANALYZE) of
every statement each list request sends to the growing tables of the large one is printed. The
dashboard's summary is recomputed just before, as `ecvet worker` does every 10 s. Prints how long
loading took and p50, p95 and the growth of each figure. Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import logging
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any

os.environ.setdefault("ECVET_ARGON2_FAST", "1")

from sqlalchemy import func, make_url, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from api.app import create_app  # noqa: E402
from bench import explain  # noqa: E402
from bench.generate import LANES, sequential_process  # noqa: E402
from bench.run import print_table  # noqa: E402
from bench.servers import PG_URL, fresh_pg, fresh_sqlite  # noqa: E402
from engine import bulk, deployments, migrate, parties, summaries  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import AuditEvent, HumanTask, Organisation, ProcessInstance, User, utcnow  # noqa: E402

KEY = "bench20"
PASSWORD = "bench-password-1"
SENDERS = 3
HOSTS = 5
STEPS = 21  # instance n has its first n // 3 % STEPS user tasks (of 20) completed
DAYS = 60  # instance n started n % DAYS days ago
SCALE = int(os.environ.get("ECVET_BENCH_SCALE", "10000"))
REPEAT = int(os.environ.get("ECVET_BENCH_REPEAT", "30"))
KEEP = os.environ.get("ECVET_BENCH_SCALE_KEEP") == "1"
CHUNK = 5000  # instances per unit of work while loading
COMPLETE = "complete a task"
REFRESH = "(worker) recomputing the summaries (administrators, 1 organisation)"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class World:
    db: Database
    admin: parties.Actor
    bindings: list[dict[str, int]]
    loaded: int = 0
    loading_seconds: float = 0.0


def reopen(url: str) -> World | None:
    """The world a previous run left in `url` (ECVET_BENCH_SCALE_KEEP=1), migrated to the current head;
    None if there is none."""
    try:
        migrate.upgrade(url)
    except OperationalError:
        return None
    db = Database(url)
    with db.transaction(write=False) as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.org"))
        if admin is None:
            db.dispose()
            return None
        names = {name: org for org, name in s.execute(select(Organisation.id, Organisation.name))}
        loaded = s.scalar(select(func.count()).select_from(ProcessInstance)) or 0
        actor = parties.Actor.of(admin)
    senders = [names[f"School {n}"] for n in range(SENDERS)]
    hosts = [names[f"Host {n}"] for n in range(HOSTS)]
    return World(db, actor, _bindings(senders, hosts, names["Learners"]), loaded=loaded)


def _bindings(senders: list[int], hosts: list[int], learners: int) -> list[dict[str, int]]:
    roles = [lane.split()[0].lower() for lane in LANES]
    # every pairing of a sender and a host, taken in turn: instance n has sender n % 3 and host n % 5
    return [dict(zip(roles, (senders[n % SENDERS], hosts[n % HOSTS], learners), strict=True))
            for n in range(SENDERS * HOSTS)]


def setup(url: str) -> World:
    migrate.upgrade(url)
    db = Database(url)
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={f"{KEY}.bpmn": sequential_process(KEY, 20)}, forms_dir=None)
        senders = [parties.create_organisation(s, actor=None, name=f"School {n}", country="DE").id
                   for n in range(SENDERS)]
        hosts = [parties.create_organisation(s, actor=None, name=f"Host {n}", country="FR").id for n in range(HOSTS)]
        learners = parties.create_organisation(s, actor=None, name="Learners", country="DE").id
        admin = parties.create_user(s, actor=None, email="admin@example.org", name="Admin", password=PASSWORD,
                                    is_admin=True)
        parties.create_user(s, actor=None, email="coordinator@example.org", name="Coordinator",
                            password=PASSWORD, organisation_ids=[senders[0]])
        actor = parties.Actor.of(admin)
    return World(db, actor, _bindings(senders, hosts, learners))


def load_to(world: World, total: int) -> None:
    """Bulk-start instances until `total` exist, timing the loading."""
    t0 = time.perf_counter()
    before = world.loaded
    while world.loaded < total:
        count = min(CHUNK, total - world.loaded)
        now = utcnow()
        starts = [bulk.NewInstance(world.bindings[n % len(world.bindings)], business_key=f"M-{n}",
                                   complete=n // SENDERS % STEPS,
                                   started_at=now - timedelta(days=n % DAYS, minutes=n % 1440))
                  for n in range(world.loaded, world.loaded + count)]
        with world.db.transaction() as s:
            bulk.start_many(s, actor=world.admin, process_key=KEY, starts=starts)
        world.loaded += count
        elapsed = world.loading_seconds + time.perf_counter() - t0
        print(f"  loaded {world.loaded} instances ({elapsed:.0f} s)", file=sys.stderr)
    if world.loaded > before:
        world.loading_seconds += time.perf_counter() - t0
    if not world.db.is_sqlite:
        with world.db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _signed_in_page_client(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = CSRF.search(page)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD,
                                             "csrf_token": token.group(1) if token else ""})
    if response.status_code != HTTPStatus.FOUND:
        raise SystemExit(f"sign-in as {email} failed: {response.status_code}")
    return client


def requests_of(world: World) -> tuple[list[tuple[str, Callable[[], Any]]], float]:
    """The measured requests against `world`, signed in as the coordinator and the administrator, and how
    long the worker's recomputation of the dashboard summary took just before."""
    app = create_app(load_settings(database_url=world.db.url), database=world.db)
    for name in ("werkzeug", "ecvet.api", "ecvet.request"):
        logging.getLogger(name).setLevel(logging.ERROR)
    api = app.test_client()
    token = api.post("/api/tokens", json={"email": "coordinator@example.org", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    coordinator = _signed_in_page_client(app, "coordinator@example.org")
    admin = _signed_in_page_client(app, "admin@example.org")
    with world.db.transaction() as s:  # what `ecvet worker` does every 10 s (engine/summaries.py)
        t0 = time.perf_counter()
        summaries.refresh(s)
        refresh_ms = (time.perf_counter() - t0) * 1000
    inbox = api.get("/api/tasks?limit=200", headers=headers).get_json()["items"]
    to_complete = iter(task["id"] for task in inbox)

    def complete() -> Any:
        return api.post(f"/api/tasks/{next(to_complete)}/complete", json={"data": {}}, headers=headers)

    return [
        ("GET /api/tasks (large organisation)", lambda: api.get("/api/tasks", headers=headers)),
        # Pages both databases fill (the school has about 110 ready tasks and 16 completed instances at
        # 1,000): a page of more rows costs more to send, which is not growth with the data.
        ("GET /api/tasks?limit=100", lambda: api.get("/api/tasks?limit=100", headers=headers)),
        ("GET /api/process-instances?status=waiting&process_key=...",
         lambda: api.get(f"/api/process-instances?status=waiting&process_key={KEY}", headers=headers)),
        ("GET /api/process-instances?status=completed&limit=15",
         lambda: api.get("/api/process-instances?status=completed&limit=15", headers=headers)),
        ("GET /api/process-instances?business_key=M-999",
         lambda: api.get("/api/process-instances?business_key=M-999", headers=headers)),
        ("inbox page /tasks", lambda: coordinator.get("/tasks")),
        ("dashboard /monitor (administrator, the worker's summary)", lambda: admin.get("/monitor")),
        ("dashboard /monitor (coordinator, their organisation's summary)", lambda: coordinator.get("/monitor")),
        (COMPLETE, complete),  # last: each completion moves a ready task of the school to another party
    ], refresh_ms


def _as_the_worker_does(worlds: list[World]) -> None:
    """Fresh dashboard summaries, as `ecvet worker` keeps them (every 10 s), so no dashboard measured
    (or explained) falls back to counting live because the measuring took longer than a row's age."""
    for world in worlds:
        with world.db.transaction() as s:
            summaries.refresh(s)


def _rows(response: Any) -> int | None:
    """How many items a JSON page answered (None for a page or a completion)."""
    body = response.get_json(silent=True) if response.is_json else None
    return len(body["items"]) if isinstance(body, dict) and isinstance(body.get("items"), list) else None


def measure(worlds: list[World]) -> list[dict[str, tuple[float, float, int | None]]]:
    """p50 and p95 of each request against each world, interleaved (one call on each, in turn), so a
    machine busier at one moment than at another weighs on every world alike; and the rows it answered."""
    prepared = [requests_of(world) for world in worlds]
    out: list[dict[str, tuple[float, float, int | None]]] = [{} for _ in worlds]
    for index, (label, _call) in enumerate(prepared[0][0]):
        _as_the_worker_does(worlds)
        samples: list[list[float]] = [[] for _ in worlds]
        answered: list[int | None] = [None for _ in worlds]
        for _ in range(REPEAT):
            for number, (requests, _refresh) in enumerate(prepared):
                t0 = time.perf_counter()
                response = requests[index][1]()
                samples[number].append(time.perf_counter() - t0)
                if response.status_code != HTTPStatus.OK:
                    raise SystemExit(f"{label}: {response.status_code} {response.get_data(as_text=True)[:300]}")
                answered[number] = _rows(response)
        for number, taken in enumerate(samples):
            taken.sort()
            out[number][label] = (statistics.median(taken) * 1000, taken[int(len(taken) * 0.95) - 1] * 1000,
                                  answered[number])
    for number, (_requests, refresh_ms) in enumerate(prepared):
        out[number][REFRESH] = (refresh_ms, refresh_ms, None)
    largest = worlds[-1]
    if not largest.db.is_sqlite:
        for label, call in prepared[-1][0]:
            if label != COMPLETE:
                _as_the_worker_does([largest])
                explain.print_plans(f"{label} at {largest.loaded:,} instances", explain.plans(largest.db.engine, call))
    return out


def _world(name: str, *, sqlite: bool, keep: bool = KEEP) -> World:
    """A fresh database `name`; with ECVET_BENCH_SCALE_KEEP=1 on PostgreSQL, the one a previous run
    left if there is one (loading 100,000 instances takes a while: measure again without reloading)."""
    if keep and not sqlite:
        kept = reopen(make_url(PG_URL).set(database=f"ecvet_bench_{name}").render_as_string(hide_password=False))
        if kept is not None:
            print(f"  reusing ecvet_bench_{name}: {kept.loaded} instances", file=sys.stderr)
            return kept
    url = fresh_sqlite(name) if sqlite else fresh_pg(f"ecvet_bench_{name}")
    if url is None:
        raise SystemExit("PostgreSQL is needed (or ECVET_BENCH_SCALE_SQLITE=1)")
    return setup(url)


def main() -> None:
    sqlite = os.environ.get("ECVET_BENCH_SCALE_SQLITE") == "1"
    # Always fresh (3 s): each run completes tasks in both databases, and a kept small one would run out
    # of the ready tasks that fill the pages compared.
    small = _world("scale_1000", sqlite=sqlite, keep=False)
    load_to(small, 1000)
    world = _world("scale", sqlite=sqlite)
    load_to(world, 1000)
    first_load = world.loading_seconds
    load_to(world, SCALE)
    at_small, at_large = measure([small, world])
    with world.db.transaction(write=False) as s:
        tasks = s.scalar(select(func.count()).select_from(HumanTask))
        audit = s.scalar(select(func.count()).select_from(AuditEvent))
        mine = s.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.organisation_id == world.bindings[0]["sending"], HumanTask.state == "ready"))
    small.db.dispose()
    world.db.dispose()
    backend = "SQLite" if sqlite else "PostgreSQL"
    rate = world.loaded / world.loading_seconds if world.loading_seconds else 0.0
    loading = (f"Loading through engine/bulk.py took {world.loading_seconds:.1f} s ({rate:.0f} instances/s; "
               f"the first 1,000 in {first_load:.1f} s)." if rate else "Loaded by an earlier run.")
    print(f"\n{backend}: {world.loaded} instances, {tasks} task rows, {audit} audit rows, {mine} ready tasks for the "
          f"measured organisation. {loading} Each request {REPEAT} times against a database of 1,000 instances "
          f"and one of {world.loaded:,}, interleaved.\n")
    rows = []
    for label, (p50, p95, small_rows) in at_small.items():
        big50, big95, big_rows = at_large[label]
        answered = f"{small_rows} / {big_rows}" if small_rows is not None else "-"
        rows.append((label, f"{p50:.1f}", f"{p95:.1f}", f"{big50:.1f}", f"{big95:.1f}", f"{big50 / p50:.2f}x",
                     answered))
    print_table(("request", "1,000 p50 ms", "1,000 p95 ms", f"{world.loaded:,} p50 ms", f"{world.loaded:,} p95 ms",
                 "growth (p50)", "rows answered"), rows)


if __name__ == "__main__":
    main()
