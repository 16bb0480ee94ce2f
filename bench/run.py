"""`make bench`: the platform's task completion against bare SpiffWorkflow, measured in one run.

Prints a table: (a) bare in-memory step and deserialise+step+serialise round trip, (b) median
POST /api/tasks/{id}/complete through the WSGI app on SQLite and PostgreSQL, (c) b/a, and (d) the
same call with 10,000 other instances in the database. A second table does the same for a process
whose every completion runs a script task and a gateway condition (the script in an evaluator process,
the condition proven bounded and in-process), so the cost of isolation is visible; a third gives the
cost of one script and one condition on each path. Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import functools
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

os.environ.setdefault("ECVET_ARGON2_FAST", "1")

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import create_engine, insert, make_url, select, text  # noqa: E402

from api.app import create_app  # noqa: E402
from bench.generate import LANES, scripted_process, sequential_process  # noqa: E402
from engine import deployments, instances, migrate, parties  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.models import HumanTask, InstanceParty, ProcessInstance  # noqa: E402
from engine.sandbox import pool  # noqa: E402
from engine.scripting import SandboxedEnvironment  # noqa: E402

PG_URL = os.environ.get("ECVET_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SIZES = (20, 100)
SCRIPTED = 20  # tasks of the process whose completions run a script and a condition
BACKGROUND = int(os.environ.get("ECVET_BENCH_BACKGROUND", "10000"))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# --- (a) bare SpiffWorkflow ---------------------------------------------------------------------

def bare(n_tasks: int, *, scripted: bool = False) -> tuple[float, float]:
    """Stock SpiffWorkflow: its own script engine (plain exec/eval in-process) and serializer."""
    xml = (scripted_process if scripted else sequential_process)("bench", n_tasks)
    seed = {"completed": 0} if scripted else {}
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml, filename="bench.bpmn")
    spec = parser.get_spec("bench")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    steps: list[float] = []
    wf = BpmnWorkflow(spec)
    wf.task_tree.data.update(seed)
    wf.do_engine_steps()
    while not wf.is_completed():
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        t0 = time.perf_counter()
        task.run()
        wf.do_engine_steps()
        steps.append(time.perf_counter() - t0)

    trips: list[float] = []
    wf = BpmnWorkflow(spec)
    wf.task_tree.data.update(seed)
    wf.do_engine_steps()
    state = serializer.serialize_json(wf)
    while True:
        t0 = time.perf_counter()
        wf = serializer.deserialize_json(state)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        ready[0].run()
        wf.do_engine_steps()
        state = serializer.serialize_json(wf)
        trips.append(time.perf_counter() - t0)
    return median_ms(steps), median_ms(trips)


def bare_step_and_save(n_tasks: int) -> float:
    """Stock SpiffWorkflow's step+serialise (no deserialise): what a change costs the library at least
    when the workflow is already in memory, as the platform keeps it between changes (engine/runtime.py)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(sequential_process("bench", n_tasks), filename="bench.bpmn")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = BpmnWorkflow(parser.get_spec("bench"))
    wf.do_engine_steps()
    samples: list[float] = []
    while not wf.is_completed():
        t0 = time.perf_counter()
        wf.get_tasks(state=TaskState.READY, manual=True)[0].run()
        wf.do_engine_steps()
        serializer.serialize_json(wf)
        samples.append(time.perf_counter() - t0)
    return median_ms(samples)


class BareTrips:
    """Bare SpiffWorkflow's deserialise+step+serialise round trips one at a time (a new instance when
    one ends), to interleave with the platform's completions."""

    def __init__(self, n_tasks: int) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_str(sequential_process("bench", n_tasks), filename="bench.bpmn")
        self.spec = parser.get_spec("bench")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.state = self._fresh()

    def _fresh(self) -> str:
        wf = BpmnWorkflow(self.spec)
        wf.do_engine_steps()
        return str(self.serializer.serialize_json(wf))

    def trip(self) -> float:
        t0 = time.perf_counter()
        wf = self.serializer.deserialize_json(self.state)
        wf.get_tasks(state=TaskState.READY, manual=True)[0].run()
        wf.do_engine_steps()
        self.state = self.serializer.serialize_json(wf)
        taken = time.perf_counter() - t0
        if not wf.get_tasks(state=TaskState.READY, manual=True):
            self.state = self._fresh()
        return taken


# --- (b) the platform through its WSGI app ------------------------------------------------------

@dataclass
class Platform:
    db: Database
    client: Any
    token: str
    org_ids: dict[str, int]
    actor: parties.Actor


def setup_platform(url: str) -> Platform:
    migrate.upgrade(url)
    db = Database(url)
    app = create_app(load_settings(database_url=db.url), database=db)
    logging_off()
    with db.transaction() as s:
        orgs = {}
        for lane in LANES:
            role = lane.split()[0].lower()
            orgs[role] = parties.create_organisation(s, actor=None, name=lane, country="DE").id
        user = parties.create_user(s, actor=None, email="bench@example.org", name="Bench",
                                   password="bench-password-1", organisation_ids=list(orgs.values()))
        actor = parties.Actor.of(user)
        for n in SIZES:
            deployments.deploy(s, actor=None, files={f"bench{n}.bpmn": sequential_process(f"bench{n}", n)},
                               forms_dir=None)
        deployments.deploy(s, actor=None, files={"scripted.bpmn": scripted_process("scripted", SCRIPTED)},
                           forms_dir=None)
    client = app.test_client()
    token = client.post("/api/tokens", json={"email": "bench@example.org", "password": "bench-password-1"})
    return Platform(db, client, token.get_json()["token"], orgs, actor)


def logging_off() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("ecvet.api").setLevel(logging.ERROR)
    logging.getLogger("ecvet.request").setLevel(logging.ERROR)


class EvaluatorTime:
    """Wall time spent waiting on evaluator processes, per completion (the cost of isolation)."""

    def __init__(self) -> None:
        self.current = 0.0
        self.samples: list[float] = []
        pool.configure()  # a fresh shared pool per measurement, so wrappers never stack
        shared = pool.shared()
        original = shared.evaluate

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current += time.perf_counter() - t0

        shared.evaluate = timed  # type: ignore[method-assign]


class _Measuring:
    """What the running measurement times besides the completion itself (None: nothing)."""

    evaluators: EvaluatorTime | None = None


MEASURING = _Measuring()


def platform_complete(p: Platform, n_tasks: int, *, key: str | None = None,
                      variables: dict[str, Any] | None = None) -> float:
    with p.db.transaction() as s:
        inst = instances.start(s, actor=p.actor, process_key=key or f"bench{n_tasks}", parties=p.org_ids,
                               variables=variables)
        instance_id = inst.id
    headers = {"Authorization": f"Bearer {p.token}"}
    samples: list[float] = []
    while True:
        with p.db.transaction(write=False) as s:
            ready = instances.ready_tasks(s, s.get_one(ProcessInstance, instance_id))
        if not ready:
            break
        evaluators = MEASURING.evaluators
        if evaluators is not None:
            evaluators.current = 0.0
        t0 = time.perf_counter()
        response = p.client.post(f"/api/tasks/{ready[0].id}/complete", json={"data": {}}, headers=headers)
        samples.append(time.perf_counter() - t0)
        if evaluators is not None:
            evaluators.samples.append(evaluators.current)
        if response.status_code != HTTPStatus.OK:
            raise SystemExit(f"complete failed: {response.status_code} {response.get_data(as_text=True)}")
    return median_ms(samples)


@dataclass
class Interleaved:
    """Medians (ms) taken in turn: the bare round trip, the least authenticated request, the completion."""

    trip: float
    read: float
    complete: float


def interleaved(p: Platform, n_tasks: int, instances_run: int = 3) -> Interleaved:
    """Median bare round trip, median authenticated GET /api/users/me (the least a request through the
    platform costs) and median platform completion, taken in turn, so a machine that is busier at one
    moment than another weighs on all alike: the ratio for a loaded machine."""
    bare_trips, completions, reads = BareTrips(n_tasks), [], []
    trips: list[float] = []
    headers = {"Authorization": f"Bearer {p.token}"}
    for _ in range(instances_run):
        with p.db.transaction() as s:
            instance_id = instances.start(s, actor=p.actor, process_key=f"bench{n_tasks}", parties=p.org_ids).id
        while True:
            with p.db.transaction(write=False) as s:
                ready = instances.ready_tasks(s, s.get_one(ProcessInstance, instance_id))
            if not ready:
                break
            trips.append(bare_trips.trip())
            t0 = time.perf_counter()
            me = p.client.get("/api/users/me", headers=headers)
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            response = p.client.post(f"/api/tasks/{ready[0].id}/complete", json={"data": {}}, headers=headers)
            completions.append(time.perf_counter() - t0)
            if me.status_code != HTTPStatus.OK:
                raise SystemExit(f"GET /api/users/me failed: {me.status_code} {me.get_data(as_text=True)}")
            if response.status_code != HTTPStatus.OK:
                raise SystemExit(f"complete failed: {response.status_code} {response.get_data(as_text=True)}")
    return Interleaved(median_ms(trips), median_ms(reads), median_ms(completions))


def add_background(p: Platform, count: int) -> None:
    """Clone one running instance `count` times (rows, not requests) so tables hold real volume."""
    with p.db.transaction() as s:
        template = instances.start(s, actor=p.actor, process_key="bench20", parties=p.org_ids)
        state, definition_id = template.state, template.definition_id
    batch = 1000
    with p.db.engine.begin() as conn:
        for start in range(0, count, batch):
            rows, party_rows, task_rows = [], [], []
            now = time.time()
            for _ in range(min(batch, count - start)):
                iid = str(uuid.uuid4())
                rows.append({"id": iid, "definition_id": definition_id, "process_key": "bench20",
                             "status": "waiting", "state": state, "lock_version": 1,
                             "created_at": _utc(now), "updated_at": _utc(now)})
                party_rows += [{"instance_id": iid, "role": r, "organisation_id": o, "process_key": "bench20",
                                "status": "waiting", "created_at": _utc(now)} for r, o in p.org_ids.items()]
                task_rows.append({"id": str(uuid.uuid4()), "instance_id": iid, "process_key": "bench20",
                                  "bpmn_id": "task_0", "name": "Step 0", "role": "sending",
                                  "organisation_id": p.org_ids["sending"], "state": "ready",
                                  "created_at": _utc(now), "completed_on_behalf": False})
            conn.execute(insert(ProcessInstance), rows)
            conn.execute(insert(InstanceParty), party_rows)
            conn.execute(insert(HumanTask), task_rows)
    with p.db.transaction(write=False) as s:
        total = s.scalar(select(text("count(*)")).select_from(ProcessInstance.__table__))
    print(f"  background: {total} instances in the database", file=sys.stderr)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def fresh_pg() -> str | None:
    """A fresh database of its own on the server at PG_URL (``ecvet_bench``), never someone else's."""
    try:
        server = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with server.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "ecvet_bench" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "ecvet_bench"'))
        server.dispose()
        return make_url(PG_URL).set(database="ecvet_bench").render_as_string(hide_password=False)
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL unavailable ({type(exc).__name__}); its rows are skipped", file=sys.stderr)
        return None


def repeat(fn: Callable[[], float], times: int = 3) -> float:
    return statistics.median(fn() for _ in range(times))


def main() -> None:
    rows: list[tuple[str, ...]] = []
    bare_numbers = {n: bare(n) for n in SIZES}
    backends: list[tuple[str, str]] = []
    tmp = tempfile.mkdtemp(prefix="ecvet-bench-")
    backends.append(("sqlite", f"sqlite:///{tmp}/bench.sqlite3"))
    pg = fresh_pg()
    if pg:
        backends.append(("postgresql", pg))

    results: dict[tuple[str, int, str], float] = {}
    together: dict[str, Interleaved] = {}
    for name, url in backends:
        print(f"measuring {name}...", file=sys.stderr)
        platform = setup_platform(url)
        for n in SIZES:
            results[(name, n, "empty")] = repeat(functools.partial(platform_complete, platform, n))
        together[name] = interleaved(platform, SIZES[0])
        evaluators = MEASURING.evaluators = EvaluatorTime()
        results[(name, SCRIPTED, "scripted")] = repeat(functools.partial(
            platform_complete, platform, SCRIPTED, key="scripted", variables={"completed": 0}))
        results[(name, SCRIPTED, "evaluators")] = median_ms(evaluators.samples)
        MEASURING.evaluators = None
        add_background(platform, BACKGROUND)
        for n in SIZES:
            results[(name, n, "10k")] = repeat(functools.partial(platform_complete, platform, n))
        platform.db.dispose()

    header: tuple[str, ...] = ("tasks", "bare step ms", "bare round trip ms", "backend", "complete ms",
                               "ratio b/a", f"complete ms, +{BACKGROUND} inst", "ratio b/a")
    for n in SIZES:
        step, trip = bare_numbers[n]
        for name, _url in backends:
            empty, loaded = results[(name, n, "empty")], results[(name, n, "10k")]
            rows.append((str(n), f"{step:.2f}", f"{trip:.2f}", name, f"{empty:.2f}", f"{empty / trip:.2f}",
                         f"{loaded:.2f}", f"{loaded / trip:.2f}"))
    print_table(header, rows)
    print("\nratio = platform HTTP completion / bare deserialise+step+serialise round trip (a).")
    print(f"\nInterleaved ({SIZES[0]} tasks; one bare round trip, then one completion, in turn: the fair ratio "
          "on a loaded machine):")
    step_and_save = bare_step_and_save(SIZES[0])
    print_table(("backend", "bare round trip ms", "complete ms", "ratio", "GET /api/users/me ms",
                 "floor ms (GET + step+save)", "floor ratio"),
                [(name, f"{m.trip:.2f}", f"{m.complete:.2f}", f"{m.complete / m.trip:.2f}", f"{m.read:.2f}",
                  f"{m.read + step_and_save:.2f}", f"{(m.read + step_and_save) / m.trip:.2f}")
                 for name, m in together.items()])
    print(f"floor = the least authenticated request (interleaved) + bare step+serialise ({step_and_save:.2f} ms, "
          "no deserialise: the platform keeps workflows between changes); no completion costs less")

    step, trip = bare(SCRIPTED, scripted=True)
    print(f"\nEvery completion runs a script task and a gateway condition ({SCRIPTED} tasks):")
    header = ("bare step ms", "bare round trip ms", "backend", "complete ms", "ratio b/a",
              "of which in evaluators ms", "plain process ms")
    rows = []
    for name, _url in backends:
        scripted, plain = results[(name, SCRIPTED, "scripted")], results[(name, SCRIPTED, "empty")]
        rows.append((f"{step:.2f}", f"{trip:.2f}", name, f"{scripted:.2f}", f"{scripted / trip:.2f}",
                     f"{results[(name, SCRIPTED, 'evaluators')]:.2f}", f"{plain:.2f}"))
    print_table(header, rows)
    print("in evaluators = waiting for the script's evaluator process; plain process = the 20-task process "
          "without scripts or conditions (table above).")

    print("\nOne script or condition, per call (median):")
    print_table(("what", "SpiffWorkflow's own engine (in-process exec/eval)", "sandboxed"), per_call())


def print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def per_call(times: int = 2000) -> list[tuple[str, str, str]]:
    """The script of the scripted process, its condition, and a condition that needs an evaluator."""
    stock = TaskDataEnvironment()
    sandbox = SandboxedEnvironment()
    sandbox.execute("warm = 1", {})  # the evaluator process starts on first use

    def each(call: Callable[[], Any]) -> float:
        samples = []
        for _ in range(times):
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples) * 1e6

    data = {"completed": 3, "items": list(range(20))}
    cases = [
        ("script `completed = completed + 1` (evaluator process)",
         lambda: stock.execute("completed = completed + 1", dict(data)),
         lambda: sandbox.execute("completed = completed + 1", dict(data))),
        ("condition `completed >= 0` (proven bounded: in-process)",
         lambda: stock.evaluate("completed >= 0", data), lambda: sandbox.evaluate("completed >= 0", data)),
        ("condition `any(i > 3 for i in items)` (evaluator process)",
         lambda: stock.evaluate("any(i > 3 for i in items)", data),
         lambda: sandbox.evaluate("any(i > 3 for i in items)", data)),
    ]
    rows = [(what, f"{each(bare_call):.1f} us", f"{each(sandboxed):.1f} us") for what, bare_call, sandboxed in cases]
    pool.shared().shutdown()
    return rows


if __name__ == "__main__":
    main()
