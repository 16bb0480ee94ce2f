"""Evaluator processes: each attack on the old in-process sandbox is stopped by a hard bound, the
evaluator is locked down, the pool survives and replaces what it kills, and nothing leaks."""
from __future__ import annotations

import json
import marshal
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from engine.config import ROOT
from engine.sandbox import bounded, pool, wire
from engine.sandbox.compiler import compile_source
from engine.sandbox.pool import EvaluatorPool, Limits
from engine.scripting import SandboxedEnvironment, SandboxedScriptEngine, ScriptSandboxError
from tests.engine.test_scripting import (
    DECISION_PROCESS,
    decision_table,
    make_workflow,
    script_process,
    task_named,
)
from tests.support.settings import environment

# The attacks of issue 9, each reproduced on the in-process sandbox.
MRO_ESCAPE = "raise KeyError.mro()[-2]('x')"
CPU_BOMB_AS_REPORTED = (
    "a1=list(range(100000))*10; a2=list(range(100000))*10; b1=[a1]*10; b2=[a2]*10; c1=[b1]*10; "
    "c2=[b2]*10; d1=[c1]*10; d2=[c2]*10; r=(d1==d2)"
)
# The same C-level comparison built without '*', so no guard sees it: only the evaluator's wall-clock
# bound can stop it (10**10 element comparisons inside one '==').
CPU_BOMB = "a1=list(range(100000))\na2=list(range(100000))\n" + "".join(
    f"{n}1=[{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1]\n{n}2=[{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2]\n"
    for p, n in (("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f"))
) + "r = (f1 == f2)"
CPU_BOMB_EXPRESSION = (
    "(lambda a1, a2: (lambda f: f(f(f(f(f(a1))))) == f(f(f(f(f(a2))))))"
    "(lambda x: [x, x, x, x, x, x, x, x, x, x]))(list(range(100000)), list(range(100000)))"
)
FSTRING_BOMB = "a='x'*1000000\nb=f'{a}{a}{a}{a}{a}{a}{a}{a}{a}{a}'\nc=f'{b}{b}{b}{b}{b}{b}{b}{b}{b}{b}'"
PERCENT_BOMB = "a='x'*1000000\nb=('%s'*10) % (a, a, a, a, a, a, a, a, a, a)"
# str() of an aliased list: a few hundred bytes of lists, a billion characters of text.
STR_BOMB = ("a=[0]*1000000\nb=[a,a,a,a,a,a,a,a,a,a]\nc=[b,b,b,b,b,b,b,b,b,b]\nd=[c,c,c,c,c,c,c,c,c,c]\n"
            "s=str(d)")
TASK_DATA_BOMB = "a=[0]*1000000\nb=[a]*10"
ALIASED_TASK_DATA = "a=list(range(100000))\nb=[a,a,a,a,a,a,a,a,a,a,a,a]"


@pytest.fixture
def small_pool() -> Any:
    """A pool of its own (one evaluator, 256 MB), shut down after the test."""
    evaluators = EvaluatorPool(1, Limits(memory_mb=256))
    yield evaluators
    evaluators.shutdown()
    assert not evaluators.pids()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "State:\tZ" not in status.read()
    except FileNotFoundError:
        return False


# -- the attacks -------------------------------------------------------------------------------------


def test_mro_is_refused_so_no_base_exception_or_object_reaches_a_script() -> None:
    with pytest.raises(ScriptSandboxError, match="Access to 'mro' is not allowed in scripts"):
        SandboxedEnvironment().execute(MRO_ESCAPE, {})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = KeyError.mro()", "Access to 'mro' is not allowed"),
        ("x = ValueError.__bases__", "Access to '__bases__' is not allowed"),
        ("x = (i for i in [1]).gi_frame", "Access to 'gi_frame' is not allowed"),
        ("try:\n    1/0\nexcept Exception as e:\n    x = e.__traceback__", "Access to '__traceback__'"),
        ("try:\n    1/0\nexcept Exception as e:\n    x = e.__class__", "Access to '__class__'"),
        ("x = type(KeyError)", r"type\(\) is not available"),
        ("x = object()", r"object\(\) is not available"),
        ("x = BaseException", "name 'BaseException' is not defined"),
        ("x = SystemExit", "name 'SystemExit' is not defined"),
        ("x = GeneratorExit", "name 'GeneratorExit' is not defined"),
    ],
)
def test_no_exception_class_frame_or_type_object_reaches_a_script(source: str, message: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(Exception, match=message):
        SandboxedEnvironment().execute(source, data)
    assert "x" not in data


def test_base_exception_inside_an_evaluator_is_an_answer_and_the_evaluator_lives_on(small_pool: EvaluatorPool) -> None:
    # Scripts cannot name BaseException any more; trusted code compiled here shows what the evaluator
    # does if one ever got there (defence in depth): an error answer, and the same process goes on.
    base = "KeyError.mro()[-2]"
    for name in ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"):
        statement = f"raise [c for c in [{base}] + {base}.__subclasses__() if c.__name__ == {name!r}][0]('x')"
        answer = _run_raw(small_pool, compile(statement, "<script>", "exec"))
        assert (answer["ok"], answer["type"], answer["message"]) == (False, name, "x")
    (pid,) = small_pool.pids()
    assert _run_raw(small_pool, compile("x = 1", "<script>", "exec"))["data"] == {"x": 1}
    assert small_pool.pids() == [pid] and small_pool.killed == 0


def _run_raw(evaluators: EvaluatorPool, code: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
    request = {"op": "exec", "code": marshal.dumps(code), "traced": False, "time_limit": 2.0,
               "max_bytes": 100_000, "context": context or {}, "external": {}}
    return evaluators.evaluate(wire.dump_request(request), time_limit=2.0, max_answer=1_000_000)


def test_c_level_cpu_bomb_as_reported_is_refused_by_the_guards() -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="too long"):
        SandboxedEnvironment().execute(CPU_BOMB_AS_REPORTED, data)
    assert "r" not in data


def test_c_level_cpu_bomb_is_killed_at_the_wall_clock_bound_and_the_evaluator_replaced(
    small_pool: EvaluatorPool,
) -> None:
    env = SandboxedEnvironment(time_limit=0.5, evaluators=small_pool)
    env.execute("warm = 1", {})
    (first,) = small_pool.pids()
    data: dict[str, Any] = {"keep": 1}
    with pytest.raises(ScriptSandboxError, match=r"Script exceeded its time limit of 0\.5 s"):
        env.execute(CPU_BOMB, data)
    assert data == {"keep": 1}  # a killed script leaves the task data as it was
    assert small_pool.killed == 1 and not _alive(first)
    after: dict[str, Any] = {}
    env.execute("ok = 40 + 2", after)  # a fresh evaluator answers the next script
    assert after == {"ok": 42} and small_pool.pids() != [first]


def test_c_level_cpu_bomb_in_a_condition_is_killed_too(small_pool: EvaluatorPool) -> None:
    env = SandboxedEnvironment(time_limit=0.5, evaluators=small_pool)
    with pytest.raises(ScriptSandboxError, match="time limit of 0.5 s"):
        env.evaluate(CPU_BOMB_EXPRESSION, {})
    assert env.evaluate("[n for n in range(3)]", {}) == [0, 1, 2]


def test_other_threads_are_served_while_a_c_level_bomb_runs() -> None:
    evaluators = EvaluatorPool(2, Limits())
    try:
        env = SandboxedEnvironment(time_limit=2.0, evaluators=evaluators)
        errors: list[str] = []

        def hostile() -> None:
            try:
                env.execute(CPU_BOMB, {})
            except ScriptSandboxError as err:
                errors.append(str(err))

        thread = threading.Thread(target=hostile)
        thread.start()
        _wait_for(lambda: evaluators.in_flight == 1)
        served = [env.execute(f"n = {i} * 2", {}) for i in range(20)]
        still_running = thread.is_alive()
        thread.join(timeout=60)
        assert served == [True] * 20
        assert still_running, "the bomb finished before the other evaluations: ordering not shown"
        assert errors == ["Script exceeded its time limit of 2.0 s"]
    finally:
        evaluators.shutdown()


def _wait_for(condition: Any, attempts: int = 2000) -> None:
    event = threading.Event()
    for _ in range(attempts):
        if condition():
            return
        event.wait(0.005)
    raise AssertionError("condition never became true")


@pytest.mark.parametrize("script", [FSTRING_BOMB, PERCENT_BOMB])
def test_string_building_bombs_are_refused_before_the_string_exists(script: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="formatted text too long"):
        SandboxedEnvironment().execute(script, data)
    assert "b" not in data and "c" not in data


def test_memory_bomb_hits_the_address_space_limit_and_the_evaluator_is_replaced() -> None:
    evaluators = EvaluatorPool(1, Limits(memory_mb=200))
    try:
        env = SandboxedEnvironment(time_limit=30.0, evaluators=evaluators)
        data: dict[str, Any] = {"keep": 1}
        with pytest.raises(ScriptSandboxError, match="Script exceeded its memory limit of 200 MB"):
            env.execute(STR_BOMB, data)
        assert data == {"keep": 1} and evaluators.killed == 1
        env.execute("after = 'fine'", data)
        assert data == {"keep": 1, "after": "fine"}
    finally:
        evaluators.shutdown()


def test_task_data_bomb_is_refused() -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="too long"):
        SandboxedEnvironment().execute(TASK_DATA_BOMB, data)
    assert "b" not in data


def test_aliased_task_data_is_refused_at_the_size_limit_without_being_built() -> None:
    env = SandboxedEnvironment(max_data_bytes=100_000)
    data: dict[str, Any] = {"keep": 1}
    with pytest.raises(ScriptSandboxError, match="larger than the limit of 100000 characters of JSON"):
        env.execute(ALIASED_TASK_DATA, data)
    assert data == {"keep": 1}
    with pytest.raises(ScriptSandboxError, match="result is larger than the limit of 100000"):
        env.evaluate("[list(range(100000))] * 3", {})


def test_data_under_the_limit_comes_back_whole() -> None:
    env = SandboxedEnvironment(max_data_bytes=100_000)
    data: dict[str, Any] = {"start": "2024-01-01"}
    env.execute("rows = [{'n': i, 'label': f'row {i}'} for i in range(1000)]\nwhen = date(2024, 3, 1)", data)
    assert data["rows"][999] == {"n": 999, "label": "row 999"} and len(data["rows"]) == 1000
    assert data["when"].isoformat() == "2024-03-01" and data["start"] == "2024-01-01"


def test_keys_that_look_like_wire_tags_round_trip_unchanged() -> None:
    data: dict[str, Any] = {}
    script = "a = {'\\x00d': '2024-01-01'}\nb = {'\\x00\\x00t': 1, 'k': [date(2024, 1, 2)]}"
    SandboxedEnvironment().execute(script, data)
    assert data["a"] == {"\x00d": "2024-01-01"} and data["b"]["\x00\x00t"] == 1
    assert data["b"]["k"][0].isoformat() == "2024-01-02"


# -- a script task and a DMN rule stopped by a bound are task errors ----------------------------------


def test_cpu_bomb_in_a_script_task_becomes_a_task_error(small_pool: EvaluatorPool) -> None:
    engine = SandboxedScriptEngine(environment=SandboxedEnvironment(time_limit=0.5, evaluators=small_pool))
    workflow = make_workflow(script_process(CPU_BOMB), engine)
    with pytest.raises(WorkflowTaskException, match="time limit of 0.5 s"):
        workflow.do_engine_steps()
    assert task_named(workflow, "run").state == TaskState.ERROR


def test_cpu_bomb_in_a_dmn_rule_becomes_a_task_error(small_pool: EvaluatorPool) -> None:
    engine = SandboxedScriptEngine(environment=SandboxedEnvironment(time_limit=0.5, evaluators=small_pool))
    dmn = decision_table(CPU_BOMB_EXPRESSION.replace("list(range(100000))", "list(range(weeks * 50000))"))
    workflow = make_workflow(DECISION_PROCESS, engine, dmn=dmn, weeks=2, country="FI")
    with pytest.raises(WorkflowTaskException, match="time limit of 0.5 s"):
        workflow.do_engine_steps()
    assert "amount" not in workflow.data


# -- the evaluator process is locked down ------------------------------------------------------------


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
                            capture_output=True, env={"PATH": os.defpath}, timeout=60)
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
    modules = subprocess.run(child, capture_output=True, text=True, env={"PATH": os.defpath}, timeout=60)
    assert json.loads(modules.stdout.replace("'", '"')) == [
        "engine", "engine.sandbox", "engine.sandbox.child", "engine.sandbox.guards", "engine.sandbox.wire"]


def test_request_values_are_unpickled_from_a_short_list_of_types(small_pool: EvaluatorPool) -> None:
    # A picklable value of a type outside the list: the evaluator refuses to import its class.
    with pytest.raises(ScriptSandboxError, match="a pathlib.PurePosixPath cannot be handed to a script"):
        SandboxedEnvironment(evaluators=small_pool).execute("x = 1", {"thing": PurePosixPath("/etc")})
    with pytest.raises(ScriptSandboxError, match="Task data cannot be handed to the script"):
        SandboxedEnvironment(evaluators=small_pool).execute("x = 1", {"thing": lambda: 1})


# -- the pool -----------------------------------------------------------------------------------------


def test_an_evaluator_that_dies_is_replaced(small_pool: EvaluatorPool) -> None:
    env = SandboxedEnvironment(evaluators=small_pool)
    env.execute("x = 1", {})
    (pid,) = small_pool.pids()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ScriptSandboxError, match="killed by the system|stopped unexpectedly"):
        env.execute("x = 2", {})
    data: dict[str, Any] = {}
    env.execute("x = 3", data)
    assert data == {"x": 3} and small_pool.pids() != [pid]


def test_shutdown_leaves_no_process_behind() -> None:
    evaluators = EvaluatorPool(2, Limits())
    env = SandboxedEnvironment(time_limit=1.0, evaluators=evaluators)
    threads = [threading.Thread(target=env.execute, args=("x = [i for i in range(1000)]", {})) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pids = evaluators.pids()
    assert 1 <= len(pids) <= 2
    evaluators.shutdown()
    assert evaluators.pids() == [] and not any(_alive(pid) for pid in pids)


def test_the_shared_pool_is_shut_down_at_exit() -> None:
    script = ("import sys; sys.path.insert(0, sys.argv[1])\n"
              "from engine.scripting import SandboxedEnvironment\n"
              "from engine.sandbox import pool\n"
              "SandboxedEnvironment().execute('x = 1', {})\n"
              "print(pool.shared().pids()[0])\n")
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert not _alive(int(done.stdout.strip()))


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    environment(monkeypatch, ECVET_SCRIPT_EVALUATORS="3", ECVET_SCRIPT_MEMORY_MB="300")
    pool.reset()
    try:
        shared = pool.shared()
        assert (shared.size, shared.limits.memory_mb) == (3, 300)
    finally:
        pool.reset()  # the next use reads the settings again (after monkeypatch restores them)


# -- the cheap path -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "score >= 50", "not la_refused and la_next_party == 'learner'",
        "(revision_request or {}).get('review_id') is not None",
        "'P' + str(days) + 'D'", "(datetime.fromisoformat(expires) - timedelta(days=n)).isoformat()",
        "dmninputexpr == 'DE'", "x in ['a', 'b']", "len(items) > 2 and items[0]['k'] < 5",
    ],
)
def test_simple_expressions_are_proven_bounded(expression: str) -> None:
    assert compile_source(expression, "eval").bounded is not None


@pytest.mark.parametrize(
    "expression",
    [
        "[i for i in items]", "x * 3", "s % args", "2 ** n", "f'{x}'", "(y := 1)", "lambda: 1", "range(3)",
        "sorted(items, key=len)", "len", "x.replace('a', 'bb')", "' '.join(items)", "str(*items)",
        "dict(**extra)", "KeyError", "x" + " + x" * 40,
    ],
)
def test_everything_else_goes_to_an_evaluator(expression: str) -> None:
    assert compile_source(expression, "eval").bounded is None


def test_bounded_and_evaluated_expressions_agree() -> None:
    context = {"score": 70, "items": [{"k": 1}, {"k": 9}], "tags": ("a", "b"), "when": "2024-01-31T00:00:00+00:00"}
    expressions = ["score >= 50", "items[1]", "tags", "{'n': score, 'first': items[0]}",
                   "datetime.fromisoformat(when) + timedelta(days=1)", "sorted(['b', 'a'])", "missing_name"]
    env = SandboxedEnvironment()
    for expression in expressions:
        compiled = compile_source(expression, "eval")
        assert compiled.bounded is not None
        in_process = _outcome(lambda c=compiled: bounded.evaluate(c.bounded, context, None, 100_000))
        answer = env._dispatch("eval", compiled, context, None)
        out_of_process = answer["value"] if answer["ok"] else env._error(answer)
        if isinstance(in_process, Exception):
            assert type(in_process).__name__ == type(out_of_process).__name__
            assert str(in_process) == str(out_of_process)
        else:
            assert in_process == out_of_process, expression


def _outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as err:  # noqa: BLE001
        return err


def test_bounded_expressions_never_change_task_data() -> None:
    context = {"d": {"a": [1]}, "s": " x "}
    before = json.dumps(context)
    env = SandboxedEnvironment()
    assert env.evaluate("d.get('a') + [2]", context) == [1, 2]
    assert env.evaluate("s.strip().upper()", context) == "X"
    assert json.dumps(context) == before


def test_an_interrupted_exchange_never_hands_its_answer_to_the_next_caller(
    small_pool: EvaluatorPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = SandboxedEnvironment(evaluators=small_pool)
    env.execute("warm = 1", {})
    (pid,) = small_pool.pids()
    receive = pool.Evaluator._receive
    calls = {"n": 0}

    def interrupted(self: pool.Evaluator, size: int, deadline: float) -> bytes:
        calls["n"] += 1
        if calls["n"] == 1:  # the request went out, then Ctrl-C before the answer was read
            raise KeyboardInterrupt
        return receive(self, size, deadline)

    monkeypatch.setattr(pool.Evaluator, "_receive", interrupted)
    with pytest.raises(KeyboardInterrupt):
        env.execute("first = 1", {})
    data: dict[str, Any] = {}
    env.execute("second = 2", data)
    assert data == {"second": 2} and pid not in small_pool.pids()
