"""engine/sandbox/pool.py: evaluator processes with hard bounds; one killed is replaced, none outlives the pool."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest

from engine.config import ROOT
from engine.sandbox import pool
from engine.sandbox.pool import EvaluatorPool, Limits
from engine.scripting import SandboxedEnvironment, ScriptSandboxError
from tests.support.attacks import CPU_BOMB, CPU_BOMB_EXPRESSION, STR_BOMB, alive, wait_for
from tests.support.settings import environment


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
    assert small_pool.killed == 1
    assert not alive(first)
    after: dict[str, Any] = {}
    env.execute("ok = 40 + 2", after)  # a fresh evaluator answers the next script
    assert after == {"ok": 42}
    assert small_pool.pids() != [first]


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
        wait_for(lambda: evaluators.in_flight == 1)
        served = [env.execute(f"n = {i} * 2", {}) for i in range(20)]
        still_running = thread.is_alive()
        thread.join(timeout=60)
        assert served == [True] * 20
        assert still_running, "the bomb finished before the other evaluations: ordering not shown"
        assert errors == ["Script exceeded its time limit of 2.0 s"]
    finally:
        evaluators.shutdown()


def test_memory_bomb_hits_the_address_space_limit_and_the_evaluator_is_replaced() -> None:
    evaluators = EvaluatorPool(1, Limits(memory_mb=200))
    try:
        env = SandboxedEnvironment(time_limit=30.0, evaluators=evaluators)
        data: dict[str, Any] = {"keep": 1}
        with pytest.raises(ScriptSandboxError, match="Script exceeded its memory limit of 200 MB"):
            env.execute(STR_BOMB, data)
        assert data == {"keep": 1}
        assert evaluators.killed == 1
        env.execute("after = 'fine'", data)
        assert data == {"keep": 1, "after": "fine"}
    finally:
        evaluators.shutdown()


def test_an_evaluator_that_dies_is_replaced(small_pool: EvaluatorPool) -> None:
    env = SandboxedEnvironment(evaluators=small_pool)
    env.execute("x = 1", {})
    (pid,) = small_pool.pids()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ScriptSandboxError, match="killed by the system|stopped unexpectedly"):
        env.execute("x = 2", {})
    data: dict[str, Any] = {}
    env.execute("x = 3", data)
    assert data == {"x": 3}
    assert small_pool.pids() != [pid]


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
    assert evaluators.pids() == []
    assert not any(alive(pid) for pid in pids)


def test_the_shared_pool_is_shut_down_at_exit() -> None:
    script = ("import sys; sys.path.insert(0, sys.argv[1])\n"
              "from engine.scripting import SandboxedEnvironment\n"
              "from engine.sandbox import pool\n"
              "SandboxedEnvironment().execute('x = 1', {})\n"
              "print(pool.shared().pids()[0])\n")
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 0, done.stderr
    assert not alive(int(done.stdout.strip()))


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    environment(monkeypatch, ECVET_SCRIPT_EVALUATORS="3", ECVET_SCRIPT_MEMORY_MB="300")
    pool.reset()
    try:
        shared = pool.shared()
        assert (shared.size, shared.limits.memory_mb) == (3, 300)
    finally:
        pool.reset()  # the next use reads the settings again (after monkeypatch restores them)


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
    assert data == {"second": 2}
    assert pid not in small_pool.pids()
