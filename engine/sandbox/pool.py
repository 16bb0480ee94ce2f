"""A small pool of pre-started evaluator processes: the hard bound on what a script may cost.

Only a separate process bounds C-level work (``d1 == d2`` over aliased lists holds the GIL for
minutes) and memory. The pool is shared by the threads of one server process and by ``ecvet worker``;
evaluators start on first use, run one evaluation at a time, and are killed with SIGKILL when an
evaluation passes its wall-clock bound (the thread waiting for it stops waiting at the deadline, so
other requests never wait on a hostile script). A killed or dead evaluator is simply dropped; the
next evaluation that needs one starts a fresh one.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import settings
from . import wire
from .guards import ScriptSandboxError

log = logging.getLogger("ecvet.sandbox")

_ROOT = str(Path(__file__).resolve().parent.parent.parent)
# -I: no PYTHON* variables, no user site, no current directory on sys.path; the project root is
# added explicitly so the evaluator imports this checkout's engine.sandbox and nothing else of ours.
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from engine.sandbox.child import main; main()"
#: How long past its time limit an evaluation may take (answer, JSON) before its evaluator is killed.
HARD_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Limits:
    """Per-evaluator process limits; time and size limits travel with each request."""

    memory_mb: int = 512
    #: CPU seconds an evaluator may use over its whole life before it is replaced (RLIMIT_CPU hard).
    cpu_budget_seconds: int = 600
    #: Longest an evaluation may wait for a free evaluator.
    acquire_timeout: float = 60.0


class Evaluator:
    """One evaluator process and the two pipe ends that talk to it."""

    def __init__(self, limits: Limits) -> None:
        settings = json.dumps({"memory_bytes": limits.memory_mb * 1024 * 1024,
                               "cpu_seconds": limits.cpu_budget_seconds})
        self.limits = limits
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _ROOT, settings],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"},  # no DATABASE_URL, secrets or tokens
            cwd="/", close_fds=True, start_new_session=True,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self._to = self.proc.stdin.fileno()
        self._from = self.proc.stdout.fileno()
        os.set_blocking(self._to, False)
        os.set_blocking(self._from, False)
        self.cpu_used = 0.0
        self.uses = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def exchange(self, payload: bytes, *, deadline: float, max_answer: int) -> bytes:
        """Send one request and wait for its answer until ``deadline`` (time.monotonic)."""
        self._send(wire.frame(payload), deadline)
        header = self._receive(wire.HEADER_SIZE, deadline)
        size = wire.frame_length(header)
        if size > max_answer:
            raise _BrokenError(f"an answer of {size} bytes (at most {max_answer})")
        return self._receive(size, deadline)

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _ExpiredError()
            _, writable, _ = select.select([], [self._to], [], remaining)
            if not writable:
                continue
            try:
                written = os.write(self._to, view)
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError) as err:
                raise _DiedError() from err
            view = view[written:]

    def _receive(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _ExpiredError()
            readable, _, _ = select.select([self._from], [], [], remaining)
            if not readable:
                continue
            try:
                chunk = os.read(self._from, min(size, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise _DiedError()
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> int | None:
        """SIGKILL and reap; returns the exit status (negative: the signal that ended it)."""
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            status = None
        self._close()
        return status

    def close(self) -> None:
        """Ask the evaluator to stop (end of its input), then make sure it did."""
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close()

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class _ExpiredError(Exception):
    """The evaluation passed its hard time bound."""


class _DiedError(Exception):
    """The evaluator exited (a limit killed it, or the parent did)."""


class _BrokenError(Exception):
    """The evaluator answered with something that is not an answer."""


class EvaluatorPool:
    """At most ``size`` evaluators; an evaluation borrows one, returns it, or has it killed."""

    def __init__(self, size: int = 2, limits: Limits | None = None) -> None:
        self.size = max(1, size)
        self.limits = limits or Limits()
        self.pid = os.getpid()
        self._idle: list[Evaluator] = []
        self._alive: dict[int, Evaluator] = {}
        self._starting = 0
        self._busy = 0
        self._closed = False
        self._cond = threading.Condition()
        self.started = 0
        self.killed = 0

    # -- what callers see ---------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Evaluations running now (tests use it to know a hostile script is under way)."""
        with self._cond:
            return self._busy

    def pids(self) -> list[int]:
        with self._cond:
            return list(self._alive)

    def evaluate(self, payload: bytes, *, time_limit: float, max_answer: int,
                 on_ask: Callable[[str, Any], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Run one pickled request; returns the evaluator's decoded answer.

        A script calling a helper function asks mid-run (``{"ask": name, "args": [...]}``): ``on_ask``
        answers in this process, within the same time bound, and the evaluation goes on.
        Raises ScriptSandboxError, with a message for the process owner, when the evaluator had to be
        stopped (time, CPU, memory) or died.
        """
        with self._borrow() as evaluator:
            deadline = time.monotonic() + time_limit + HARD_GRACE_SECONDS
            answer = self._exchange(evaluator, payload, deadline=deadline, time_limit=time_limit,
                                    max_answer=max_answer)
            while "ask" in answer:
                try:
                    reply = on_ask(str(answer["ask"]), answer.get("args")) if on_ask is not None else {
                        "ok": False, "message": f"{answer['ask']}() is not available here"}
                except BaseException:
                    self._discard(evaluator)  # it waits mid-script for a reply that will not come
                    raise
                answer = self._exchange(evaluator, json.dumps(reply, default=str).encode("utf-8"),
                                        deadline=deadline, time_limit=time_limit, max_answer=max_answer)
            return self._settle(evaluator, answer)

    def _exchange(self, evaluator: Evaluator, payload: bytes, *, deadline: float, time_limit: float,
                  max_answer: int) -> dict[str, Any]:
        """One message to the evaluator and its decoded reply (an answer or a helper question)."""
        try:
            raw = evaluator.exchange(payload, deadline=deadline, max_answer=max_answer)
        except _ExpiredError:
            self._discard(evaluator)
            raise ScriptSandboxError(f"Script exceeded its time limit of {float(time_limit)} s") from None
        except _DiedError:
            status = self._discard(evaluator)
            raise ScriptSandboxError(self._death_message(status, time_limit)) from None
        except _BrokenError as err:
            self._discard(evaluator)
            raise ScriptSandboxError(f"The script evaluator answered with {err}; it was replaced") from None
        except BaseException:
            # Interrupted mid-exchange (KeyboardInterrupt): its answer would reach the next caller.
            self._discard(evaluator)
            raise
        try:
            answer = wire.decode(raw)
            if not isinstance(answer, dict) or not (isinstance(answer.get("ok"), bool) or "ask" in answer):
                raise ValueError("not an answer")
        except Exception as err:  # noqa: BLE001 - whatever the evaluator wrote, it is not trusted
            self._discard(evaluator)
            raise ScriptSandboxError(f"The script evaluator answered with malformed data ({err})") from None
        return answer

    def _settle(self, evaluator: Evaluator, answer: dict[str, Any]) -> dict[str, Any]:
        """Account for a final answer: an evaluator out of memory or budget is replaced."""
        if answer.get("memory"):
            self._discard(evaluator)
            raise ScriptSandboxError(f"Script exceeded its memory limit of {self.limits.memory_mb} MB")
        cpu = answer.get("cpu")
        evaluator.cpu_used = float(cpu) if isinstance(cpu, (int, float)) else evaluator.cpu_used
        evaluator.uses += 1
        if evaluator.cpu_used > self.limits.cpu_budget_seconds / 2 or answer.get("internal"):
            self._discard(evaluator, graceful=True)
        return answer

    def shutdown(self) -> None:
        """Stop every evaluator (at exit, or when settings change); later use starts new ones."""
        with self._cond:
            evaluators = list(self._alive.values())
            self._alive.clear()
            self._idle.clear()
            self._closed = True
            self._cond.notify_all()
        for evaluator in evaluators:
            evaluator.close()

    # -- internals ----------------------------------------------------------------------------------

    @contextmanager
    def _borrow(self) -> Iterator[Evaluator]:
        evaluator = self._acquire()
        try:
            yield evaluator
        finally:
            self._release(evaluator)

    def _acquire(self) -> Evaluator:
        deadline = time.monotonic() + self.limits.acquire_timeout
        with self._cond:
            while True:
                if self._closed:
                    self._closed = False  # used again after a shutdown: start afresh
                if self._idle:
                    evaluator = self._idle.pop()
                    self._busy += 1
                    return evaluator
                if len(self._alive) + self._starting < self.size:
                    self._starting += 1
                    self._busy += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ScriptSandboxError(
                        f"No script evaluator became free within {self.limits.acquire_timeout:g} s"
                    )
                self._cond.wait(remaining)
        try:
            evaluator = Evaluator(self.limits)  # outside the lock: others keep using the idle ones
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._busy -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self._alive[evaluator.pid] = evaluator
            self.started += 1
        return evaluator

    def _release(self, evaluator: Evaluator) -> None:
        with self._cond:
            self._busy -= 1
            if evaluator.pid in self._alive and not self._closed:
                self._idle.append(evaluator)
            self._cond.notify()

    def _discard(self, evaluator: Evaluator, *, graceful: bool = False) -> int | None:
        """Take an evaluator out of the pool: retired gracefully, or killed (then its exit status)."""
        with self._cond:
            self._alive.pop(evaluator.pid, None)
            if not graceful:
                self.killed += 1
        if graceful:
            evaluator.close()
            return None
        return evaluator.kill()

    def _death_message(self, status: int | None, time_limit: float) -> str:
        if status == -signal.SIGXCPU:
            return f"Script exceeded its CPU time limit of {float(time_limit)} s"
        if status == -signal.SIGKILL:
            return "The script evaluator was killed by the system (memory or CPU exhausted); it was replaced"
        return f"The script evaluator stopped unexpectedly (exit status {status}); it was replaced"


class _Shared:
    """The process-wide pool and its configuration (None: from the settings, engine.config, on first use)."""

    def __init__(self) -> None:
        self.pool: EvaluatorPool | None = None
        self.config: tuple[int, Limits] | None = None
        self.lock = threading.Lock()

    def replace(self, config: tuple[int, Limits] | None) -> None:
        """Take this configuration; a running pool is stopped and restarts lazily."""
        with self.lock:
            self.config = config
            old, self.pool = self.pool, None
        if old is not None and old.pid == os.getpid():
            old.shutdown()


_SHARED = _Shared()


def configure(*, size: int | None = None, limits: Limits | None = None) -> None:
    """Set the shared pool's size and limits (start-up); a running pool is stopped and restarts lazily."""
    current_size, current_limits = _SHARED.config or _from_settings()
    _SHARED.replace((size if size is not None else current_size, limits or current_limits))


def reset() -> None:
    """Forget the configuration and stop the shared pool: the next use reads the settings again."""
    _SHARED.replace(None)


def shared() -> EvaluatorPool:
    """The process-wide pool (a fork gets its own: pipes must not be shared between processes)."""
    with _SHARED.lock:
        if _SHARED.pool is None or _SHARED.pool.pid != os.getpid():
            size, limits = _SHARED.config or _from_settings()
            _SHARED.pool = EvaluatorPool(size, limits)
        return _SHARED.pool


def _from_settings() -> tuple[int, Limits]:
    current = settings()
    return current.script_evaluators, Limits(memory_mb=current.script_memory_mb)


def _shutdown_shared() -> None:
    pool = _SHARED.pool
    if pool is not None and pool.pid == os.getpid():
        pool.shutdown()


atexit.register(_shutdown_shared)
