"""engine/sandbox/child.py: an evaluator runs restricted code under the time limit, whatever the code does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from engine.config import ROOT
from engine.sandbox import child
from engine.sandbox.compiler import compile_source
from engine.sandbox.guards import GUARDS, SAFE_BUILTINS
from engine.sandbox.pool import EvaluatorPool, Limits
from engine.scripting import (
    SandboxedEnvironment,
    ScriptSandboxError,
)
from tests.support.attacks import run_raw


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "x = 0\ntry:\n    while True:\n        x += 1\nfinally:\n    while True:\n        pass",
        "x = [0 for a in range(100000) for b in range(100000)]",
        "f = lambda n: f(n - 1) + f(n - 1) if n else 1\ny = f(60)",
    ],
)
def test_endless_scripts_hit_the_time_limit(script: str) -> None:
    env = SandboxedEnvironment(time_limit=0.2)
    data: dict[str, Any] = {"before": 1}
    with pytest.raises(ScriptSandboxError, match=r"Script exceeded its time limit of 0\.2 s"):
        env.execute(script, data)
    assert "y" not in data
    assert data["before"] == 1


def test_endless_condition_expression_hits_the_time_limit() -> None:
    env = SandboxedEnvironment(time_limit=0.2)
    with pytest.raises(ScriptSandboxError, match="time limit"):
        env.evaluate("any(a == b for a in range(100000) for b in range(100000) if b < 0)", {})


def test_time_limit_works_in_a_worker_thread() -> None:
    env = SandboxedEnvironment(time_limit=0.2)
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            env.execute("while True:\n    pass", {})
        except ScriptSandboxError as err:
            outcome["error"] = str(err)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "script in a worker thread was not stopped"
    assert outcome["error"] == "Script exceeded its time limit of 0.2 s"


def _run_in_process(script: str, namespace: dict[str, Any], time_limit: float | None = 0.2) -> None:
    """The evaluator's own runner (engine.sandbox.child.run), called here to watch its tracer."""
    compiled = compile_source(script, "exec")
    namespace["__builtins__"] = {**SAFE_BUILTINS, **GUARDS}
    child.run(compiled.code, namespace, want_result=False, traced=compiled.can_loop, time_limit=time_limit)


def test_previous_trace_function_is_restored() -> None:
    before = sys.gettrace()
    _run_in_process("total = 0\nfor i in range(10):\n    total += i", {})
    with pytest.raises(ScriptSandboxError):
        _run_in_process("while True: pass", {})
    assert sys.gettrace() is before


def test_a_foreign_trace_function_is_restored_too() -> None:
    seen: list[str] = []

    def foreign(_frame: Any, event: str, _arg: Any) -> None:
        seen.append(event)

    before = sys.gettrace()
    sys.settrace(foreign)
    try:
        _run_in_process("total = 0\nfor i in range(3):\n    total += i", {})
        restored = sys.gettrace()
    finally:
        sys.settrace(before)
    assert restored is foreign


def test_stuck_worker_does_not_affect_other_threads() -> None:
    env = SandboxedEnvironment(time_limit=0.5)
    errors: list[str] = []
    worker = threading.Thread(
        target=lambda: errors.append(_error_of(lambda: env.execute("while True: pass", {}))), daemon=True
    )
    worker.start()
    results = [env.evaluate("[i for i in items if i > 1]", {"items": [1, 2, 3]}) for _ in range(200)]
    worker.join(timeout=5)
    assert results == [[2, 3]] * 200
    assert errors == ["Script exceeded its time limit of 0.5 s"]


def _error_of(call: Any) -> str:
    try:
        call()
    except ScriptSandboxError as err:
        return str(err)
    return "no error"


def test_slow_but_finite_loops_are_allowed() -> None:
    data: dict[str, Any] = {}
    SandboxedEnvironment().execute("total = 0\nfor i in range(50000):\n    total += i % 7", data)
    assert data["total"] == sum(i % 7 for i in range(50000))


def test_base_exception_inside_an_evaluator_is_an_answer_and_the_evaluator_lives_on(small_pool: EvaluatorPool) -> None:
    # Scripts cannot name BaseException any more; trusted code compiled here shows what the evaluator
    # does if one ever got there (defence in depth): an error answer, and the same process goes on.
    base = "KeyError.mro()[-2]"
    for name in ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"):
        statement = f"raise [c for c in [{base}] + {base}.__subclasses__() if c.__name__ == {name!r}][0]('x')"
        answer = run_raw(small_pool, compile(statement, "<script>", "exec"))
        assert (answer["ok"], answer["type"], answer["message"]) == (False, name, "x")
    (pid,) = small_pool.pids()
    assert run_raw(small_pool, compile("x = 1", "<script>", "exec"))["data"] == {"x": 1}
    assert small_pool.pids() == [pid]
    assert small_pool.killed == 0


def test_an_evaluator_runs_unprivileged_with_a_clean_environment_and_tight_limits(small_pool: EvaluatorPool) -> None:
    SandboxedEnvironment(evaluators=small_pool).execute("x = 1", {})
    (pid,) = small_pool.pids()
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(status.split("Uid:")[1].split()[0])
    assert uid == (65534 if os.getuid() == 0 else os.getuid())
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert sorted(e.split(b"=")[0] for e in environ if e) == [b"LC_ALL", b"PATH"]  # no DATABASE_URL, no secrets
    limits = Path(f"/proc/{pid}/limits").read_text()

    def limit(name: str) -> list[str]:
        line = next(line for line in limits.splitlines() if line.startswith(name))
        return line[len(name):].split()[:2]

    assert limit("Max address space") == [str(256 * 1024 * 1024)] * 2
    assert limit("Max file size") == ["0", "0"]
    assert limit("Max processes") == ["0", "0"]
    assert limit("Max core file size") == ["0", "0"]
    assert limit("Max open files") == ["3", "3"]  # stdin, stdout, stderr: nothing new can be opened
    assert limit("Max cpu time")[1] == str(Limits().cpu_budget_seconds)
    assert Path(f"/proc/{pid}/cwd").resolve() == Path("/")


def test_lock_down_stops_files_and_child_processes() -> None:
    probe = (
        "import os, sys\n"
        "from engine.sandbox.child import lock_down\n"
        "lock_down(memory_bytes=256 * 2**20, cpu_seconds=60)\n"
        "out = []\n"
        "for attempt in (lambda: os.fork(), lambda: open('/tmp/ecvet-sandbox-probe', 'w'), lambda: os.pipe()):\n"
        "    try:\n"
        "        attempt()\n"
        "        out.append('allowed')\n"
        "    except OSError as err:\n"
        "        out.append(type(err).__name__)\n"
        "os.write(1, repr(out).encode())\n"
    )
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + probe],
                            capture_output=True, env={"PATH": os.defpath}, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    outcomes = result.stdout.decode()
    assert "allowed" not in outcomes, outcomes
    assert not Path("/tmp/ecvet-sandbox-probe").exists()


def test_an_evaluator_imports_no_database_or_engine_library(small_pool: EvaluatorPool) -> None:
    SandboxedEnvironment(evaluators=small_pool).execute("x = 1", {})
    (pid,) = small_pool.pids()
    maps = Path(f"/proc/{pid}/maps").read_text()
    for library in ("sqlalchemy", "psycopg", "SpiffWorkflow", "flask", "lxml"):
        assert library not in maps  # no compiled extension of theirs is loaded
    child = [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
             "import engine.sandbox.child; print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('engine', 'sqlalchemy', 'SpiffWorkflow', 'flask', 'api', 'records')))", str(ROOT)]
    modules = subprocess.run(child, capture_output=True, text=True, env={"PATH": os.defpath}, timeout=60,
                             check=True)
    assert json.loads(modules.stdout.replace("'", '"')) == [
        "engine", "engine.sandbox", "engine.sandbox.child", "engine.sandbox.guards", "engine.sandbox.library",
        "engine.sandbox.wire"]
