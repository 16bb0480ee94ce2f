"""An evaluator process: runs restricted scripts and expressions one request at a time, under rlimits.

Started by engine.sandbox.pool with a clean environment. Before it reads its first request it drops
to an unprivileged user (when started as root) and locks itself down: an address-space limit, a CPU
limit, no new files or descriptors, no child processes, no core dumps. Whatever a script raises,
BaseException included, becomes an error answer; only the parent's SIGKILL or a resource limit ends
the process. Answers are JSON text only (engine.sandbox.wire).
"""
from __future__ import annotations

import _strptime  # noqa: F401  (datetime.strptime imports it lazily: no file may be opened later)
import json
import marshal
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring_ascii
from types import CodeType, FrameType
from typing import Any

from . import library, wire
from .guards import (
    DEADLINE,
    GUARDS,
    RESERVED_NAMES,
    SAFE_BUILTINS,
    SCRIPT_FILENAME,
    ScriptSandboxError,
    time_limit_error,
)

_NOBODY = 65534
_MESSAGE_LIMIT = 2000


def _answer(**fields: Any) -> str:
    return json.dumps(fields, ensure_ascii=True, separators=(",", ":"))


# Written without allocating much: after a MemoryError there may be nothing left to build an answer.
_OUT_OF_MEMORY = wire.frame(_answer(ok=False, type="MemoryError", memory=True, message="out of memory").encode())


def lock_down(*, memory_bytes: int, cpu_seconds: int) -> None:
    """Drop privileges and set the limits that hold even if the Python-level sandbox were escaped."""
    os.chdir("/")
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(_NOBODY)
        os.setuid(_NOBODY)
    fds = [int(name) for name in os.listdir("/proc/self/fd")] if os.path.isdir("/proc/self/fd") else [0, 1, 2]
    # listdir held one more descriptor while it ran; the limit is what is open now.
    open_now = [fd for fd in fds if _is_open(fd)]
    highest = max(open_now) + 1 if open_now else 3
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest, highest))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _bound_cpu(time_limit: float) -> None:
    """The soft CPU limit sits a little past this evaluation's share: passing it is SIGXCPU (death)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    wanted = int(_cpu_used() + time_limit) + 2
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))


def _read_exact(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _message(exc: BaseException) -> str:
    """str(exc) without ever rendering a huge value (KeyError of a million-item list)."""
    args = exc.args
    if isinstance(exc, ScriptSandboxError):
        text = exc.message
    elif not args:
        text = ""
    elif len(args) == 1:
        arg = args[0]
        text = arg if isinstance(arg, str) and not isinstance(exc, KeyError) else wire.short_repr(arg)
    else:
        text = wire.short_repr(args)
    return text[:_MESSAGE_LIMIT]


def _lineno(exc: BaseException) -> int | None:
    if isinstance(exc, ScriptSandboxError) and exc.lineno:
        return exc.lineno
    line = None
    for summary in traceback.extract_tb(exc.__traceback__):
        if summary.filename == SCRIPT_FILENAME and summary.lineno:
            line = summary.lineno
    return line


# -- running restricted code under the time limit -------------------------------------------------------

_PLAIN_RESULTS = frozenset({bool, int, float, str, type(None), list, dict})


def materialise(result: Any) -> Any:
    """A lazy iterator (or range) would otherwise run user code later, outside the time limit."""
    if type(result) not in _PLAIN_RESULTS and isinstance(result, (Iterator, range)):
        return list(result)
    return result


def run(code: CodeType, namespace: dict[str, Any], *, want_result: bool, traced: bool,
        time_limit: float | None) -> Any:
    """Run compiled restricted code in ``namespace``; code that can loop runs under a line tracer
    that raises once ``time_limit`` has passed (the soft bound: the evaluator's parent holds the hard one)."""
    if not traced or not time_limit or time_limit <= 0:
        return materialise(eval(code, namespace)) if want_result else exec(code, namespace)  # noqa: S102, S307
    deadline = time.monotonic() + time_limit
    expired: list[bool] = []
    tracer = _make_tracer(deadline, time_limit, expired)
    previous_trace = sys.gettrace()
    previous_active = DEADLINE.active
    DEADLINE.active = (deadline, time_limit)
    sys.settrace(tracer)
    try:
        if want_result:
            result = materialise(eval(code, namespace))  # noqa: S307 - restricted code, guarded
        else:
            exec(code, namespace)  # noqa: S102 - restricted code, guarded
            result = None
    finally:
        sys.settrace(previous_trace)
        DEADLINE.active = previous_active
    if expired:
        # The limit fired but the code still completed (the error was swallowed somewhere).
        raise time_limit_error(time_limit)
    return result


def _make_tracer(deadline: float, limit: float, expired: list[bool]) -> Callable[..., Any]:
    """Line tracer for frames of user code only; raises once the deadline has passed.

    "line" fires for every new line and every backward jump (loop iteration), "call" for every
    function/comprehension frame; the one construct that escapes both, a one-line ``while``
    loop, gets an explicit check from the compiler's policy (engine.sandbox.compiler).
    """
    monotonic = time.monotonic

    def local_trace(_frame: FrameType, event: str, _arg: Any) -> Any:
        if event == "line" and monotonic() > deadline:
            expired.append(True)
            raise time_limit_error(limit)
        return local_trace

    def global_trace(frame: FrameType, _event: str, _arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        if monotonic() > deadline:
            expired.append(True)
            raise time_limit_error(limit)
        return local_trace

    return global_trace


def _builtins(external: dict[str, Any], helpers: list[str]) -> dict[str, Any]:
    merged = {**SAFE_BUILTINS, **library.MODULES, **{name: library.helper(name) for name in helpers},
              **GUARDS, "_print_": library.PrintCollector}
    if external:
        merged.update(external)
        if not RESERVED_NAMES.isdisjoint(external):
            merged.update(GUARDS)
    return merged


def _encode_context(context: dict[str, Any], budget: int) -> tuple[str, list[str]]:
    """Task data as a JSON object; variables that cannot be stored are dropped and described."""
    encoder = wire.BoundedEncoder(budget)
    parts = ["{"]
    problems: list[str] = []
    for key, value in context.items():
        if type(key) is not str:
            continue
        before = encoder.size
        try:
            text = encoder.encode(value)
        except wire.UnstorableError as err:
            encoder.size = before
            problems.append(err.message(key))
            continue
        except RecursionError:
            encoder.size = before
            problems.append(f"Variable '{key}' is nested too deeply to be stored in task data")
            continue
        name = encode_key(key)
        encoder.size += len(name) + 2
        if encoder.size > budget:
            raise wire.TooLargeError()
        if len(parts) > 1:
            parts.append(",")
        parts.append(name + ":" + text)
    parts.append("}")
    return "".join(parts), problems


def encode_key(key: str) -> str:
    return encode_basestring_ascii("\x00" + key if key[:1] == "\x00" else key)


def _remove_helpers(context: dict[str, Any], external: dict[str, Any]) -> None:
    for key in list(context):
        if key == "__builtins__" or callable(context[key]) or key in external:
            del context[key]


def _too_large(budget: int, what: str) -> str:
    return f"{what} larger than the limit of {budget} characters of JSON; keep less in task data"


def _refusal(message: str) -> str:
    return _answer(ok=False, type="ScriptSandboxError", sandbox=True, cpu=_cpu_used(), message=message)


def _evaluate(code: CodeType, context: dict[str, Any], external: dict[str, Any], *, traced: bool,
              time_limit: float, budget: int, helpers: list[str]) -> str:
    """An expression's value as JSON, or why there is none."""
    namespace = dict(context)
    namespace["__builtins__"] = _builtins(external, helpers)
    try:
        result = run(code, namespace, want_result=True, traced=traced, time_limit=time_limit)
    except MemoryError:
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever a script raises is an answer, never an exit
        return _failure(exc, data=None)
    del namespace
    try:
        text = wire.BoundedEncoder(budget, timedeltas=True).encode(result)
    except RecursionError:
        return _refusal("The expression's result is nested too deeply to be stored in task data")
    except wire.UnstorableError as err:
        return _refusal(err.message("result", "The expression").replace("'result' ", ""))
    except wire.TooLargeError:
        return _refusal(_too_large(budget, "The expression's result is"))
    return '{"ok":true,"cpu":' + repr(_cpu_used()) + ',"value":' + text + "}"


def _execute(code: CodeType, context: dict[str, Any], external: dict[str, Any], *, traced: bool,
             time_limit: float, budget: int, helpers: list[str]) -> str:
    """The task data a script leaves, as JSON (what it cannot store dropped and named), or its failure."""
    context["__builtins__"] = _builtins(external, helpers)
    failure: BaseException | None = None
    try:
        run(code, context, want_result=False, traced=traced, time_limit=time_limit)
    except MemoryError:
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever a script raises is an answer, never an exit
        failure = exc
    _remove_helpers(context, external)
    try:
        data, problems = _encode_context(context, budget)
    except wire.TooLargeError:
        if failure is not None:
            return _failure(failure, data=None)
        return _refusal(_too_large(budget, "The task data this script leaves is"))
    if failure is not None:
        return _failure(failure, data=data)
    return ('{"ok":true,"cpu":' + repr(_cpu_used()) + ',"printed":' + json.dumps(library.PRINTED.lines)
            + ',"problems":' + json.dumps(problems) + ',"data":' + data + "}")


def handle(request: dict[str, Any]) -> str:
    """One evaluation; always returns an answer (the caller writes it)."""
    time_limit = float(request["time_limit"])
    _bound_cpu(time_limit)
    library.PRINTED.reset()
    run_one = _evaluate if request["op"] == "eval" else _execute
    return run_one(marshal.loads(request["code"]), request["context"], request.get("external") or {},
                   traced=bool(request["traced"]), time_limit=time_limit, budget=int(request["max_bytes"]),
                   helpers=[str(name) for name in request.get("helpers") or []])


def _failure(exc: BaseException, *, data: str | None) -> str:
    head = _answer(ok=False, type=type(exc).__name__, sandbox=isinstance(exc, ScriptSandboxError),
                   message=_message(exc), lineno=_lineno(exc), cpu=_cpu_used(), printed=library.PRINTED.lines)
    return head[:-1] + ',"data":' + (data if data is not None else "null") + "}"


def _asker(read_fd: int, write_fd: int) -> Any:
    """Ask the parent one helper question mid-script; its answer (JSON) or the helper's error."""

    def ask(name: str, args: list[Any]) -> Any:
        try:
            question = json.dumps({"ask": name, "args": args}, ensure_ascii=True, separators=(",", ":"))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name}() takes only JSON values as arguments ({err})") from None
        _write_all(write_fd, wire.frame(question.encode("ascii")))
        header = _read_exact(read_fd, wire.HEADER_SIZE)
        reply = json.loads(_read_exact(read_fd, wire.frame_length(header)))
        if not reply.get("ok"):
            raise LookupError(str(reply.get("message") or f"{name}() failed")[:_MESSAGE_LIMIT])
        return reply.get("value")

    return ask


def serve(read_fd: int = 0, write_fd: int = 1) -> None:
    """Answer requests until the parent closes the pipe."""
    library.ASK_PARENT[:] = [_asker(read_fd, write_fd)]
    while True:
        try:
            header = _read_exact(read_fd, wire.HEADER_SIZE)
            payload = _read_exact(read_fd, wire.frame_length(header))
        except EOFError:
            return
        try:
            try:
                request = wire.load_request(payload)
            except Exception as exc:  # noqa: BLE001 - a value the unpickler refuses
                answer = _answer(ok=False, type="ScriptSandboxError", sandbox=True, cpu=_cpu_used(),
                                 message=f"Task data cannot be handed to the script: {exc}")
            else:
                del payload
                answer = handle(request)
                del request
            out = wire.frame(answer.encode("ascii"))
            del answer
        except MemoryError:
            _write_all(write_fd, _OUT_OF_MEMORY)
            continue
        except BaseException as exc:  # noqa: BLE001 - a failure outside the script itself
            out = wire.frame(_answer(ok=False, type=type(exc).__name__, sandbox=False, cpu=_cpu_used(),
                                     message=_message(exc), internal=True).encode("ascii"))
        _write_all(write_fd, out)


def main() -> None:
    settings = json.loads(sys.argv[-1])
    lock_down(memory_bytes=int(settings["memory_bytes"]), cpu_seconds=int(settings["cpu_seconds"]))
    serve()


if __name__ == "__main__":
    main()
