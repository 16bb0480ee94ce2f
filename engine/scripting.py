"""Sandboxed script engine: BPMN scripts, conditions, DMN and timer expressions as restricted Python.

Source is compiled with RestrictedPython (engine.sandbox.compiler, cached); it runs in an evaluator process of
engine.sandbox.pool, which holds the hard bounds on CPU, wall-clock time and memory, unless the
expression is proven bounded (engine.sandbox.bounded) and runs in-process. Service tasks call our own
trusted connectors and stay in-process.
"""
from __future__ import annotations

import json
import pickle
import re
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .config import settings
from .sandbox import bounded, pool, wire
from .sandbox.compiler import Compiled, clean_expression, clean_script, compile_source
from .sandbox.guards import (
    GUARD_NAMES,
    MAX_INT_BITS,
    MAX_RANGE,
    MAX_SEQUENCE_LENGTH,
    SCRIPT_FILENAME,
    ScriptSandboxError,
)

__all__ = [
    "MAX_INT_BITS",
    "MAX_RANGE",
    "MAX_SEQUENCE_LENGTH",
    "SCRIPT_FILENAME",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptError",
    "ScriptSandboxError",
]

# --------------------------------------------------------------------------------------------------
# Errors an evaluator reports
# --------------------------------------------------------------------------------------------------


class ScriptError(Exception):
    """An error raised inside an evaluator, carried back as text: its type name, message and line.

    For the common builtin errors the class raised here is a subclass of that builtin as well (a
    NameError stays a NameError for SpiffWorkflow's "did you mean" hint), always named as reported.
    """

    type_name = "ScriptError"

    def __init__(self, message: str, *, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno

    def __str__(self) -> str:
        return self.message


_BUILTIN_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        ArithmeticError, AssertionError, AttributeError, IndexError, KeyError, LookupError, NameError,
        OverflowError, RecursionError, RuntimeError, StopIteration, TypeError, UnboundLocalError,
        UnicodeError, ValueError, ZeroDivisionError, Exception,
    )
}
_ERROR_CLASSES: dict[str, type[ScriptError]] = {}
_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def script_error(type_name: str, message: str, lineno: int | None) -> ScriptError:
    """The parent-side exception for an error reported by an evaluator (names are only ever text)."""
    if not _TYPE_NAME.match(type_name):
        type_name = "ScriptError"
    cls = _ERROR_CLASSES.get(type_name)
    if cls is None:
        builtin = _BUILTIN_ERRORS.get(type_name)
        bases: tuple[type, ...] = (ScriptError, builtin) if builtin is not None else (ScriptError,)
        cls = type(type_name, bases, {"type_name": type_name, "__module__": __name__})
        if builtin is not None:
            _ERROR_CLASSES[type_name] = cls
    return cls(message, lineno=lineno)


# --------------------------------------------------------------------------------------------------
# Helper functions and printed output: what a script reaches of the run it belongs to
# --------------------------------------------------------------------------------------------------

#: (operator, task data) -> the connector of an operator nobody registered, or None.
ServiceFallback = Callable[[str, Mapping[str, Any]], Callable[..., Any] | None]

#: Helper functions scripts may call, by name (SpiffWorkflow's CustomScriptTest pattern): each runs in
#: this process, called as ``fn(call, *args)`` with the script's JSON arguments, and returns a JSON value.
HELPERS: dict[str, Callable[..., Any]] = {}


def helper(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a helper function scripts call by ``name`` (the evaluator only holds a stub that asks)."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        HELPERS[name] = fn
        return fn

    return register


@dataclass
class HelperCall:
    """What a helper knows of the call: the run's context (session, instance, actor) and the task."""

    context: Mapping[str, Any]
    task: Any


@dataclass
class Printed:
    """What one script task printed: for the instance log."""

    task_id: str
    bpmn_id: str | None
    lines: list[str]


class _Run(threading.local):
    """The instance run on this thread, if any (set by :func:`running`)."""

    context: Mapping[str, Any] | None = None
    task: Any = None
    printed: list[Printed] | None = None


_RUN = _Run()


@contextmanager
def running(**context: Any) -> Iterator[list[Printed]]:
    """Scripts run in this block may call helpers with ``context``; yields what they print."""
    previous = (_RUN.context, _RUN.task, _RUN.printed)
    printed: list[Printed] = []
    _RUN.context, _RUN.task, _RUN.printed = context, None, printed
    try:
        yield printed
    finally:
        _RUN.context, _RUN.task, _RUN.printed = previous


def _answer_helper(name: str, args: Any) -> dict[str, Any]:
    fn = HELPERS.get(name)
    if fn is None or _RUN.context is None:
        return {"ok": False, "message": f"{name}() is not available here"}
    try:
        value = fn(HelperCall(_RUN.context, _RUN.task), *(args if isinstance(args, list) else []))
        json.dumps(value)
    except Exception as exc:  # noqa: BLE001 - a helper's failure is the script's error, never the server's
        return {"ok": False, "message": f"{name}(): {exc}"}
    return {"ok": True, "value": value}


def _keep_printed(answer: Mapping[str, Any]) -> None:
    lines = answer.get("printed")
    if not lines or not isinstance(lines, list) or _RUN.printed is None:
        return
    task = _RUN.task
    _RUN.printed.append(Printed(str(task.id) if task is not None else "", getattr(getattr(task, "task_spec", None),
                                "bpmn_id", None), [str(line) for line in lines]))


# --------------------------------------------------------------------------------------------------
# Environment and engine
# --------------------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"a {type(value).__name__} cannot be converted to JSON")


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs scripts and expressions in evaluator processes (or proven-bounded ones in-process).

    Same context semantics as Spiff's ``TaskDataEnvironment``: ``execute`` writes variables into
    the task data dict it is given (JSON-native, at most ``max_data_bytes`` characters of JSON),
    ``evaluate`` never changes it, ``external_context`` is visible to the code but never left in
    task data.
    """

    def __init__(
        self,
        *,
        time_limit: float | None = 1.0,
        services: Mapping[str, Callable[..., Any]] | None = None,
        max_data_bytes: int | None = None,
        evaluators: pool.EvaluatorPool | None = None,
        fallback: ServiceFallback | None = None,
    ) -> None:
        super().__init__({})  # type: ignore[no-untyped-call]  # SpiffWorkflow's __init__ has no annotations
        self.time_limit = time_limit if time_limit and time_limit > 0 else 1.0
        # Kept by reference: connectors registered later (start-up configuration) are seen.
        self.services: Mapping[str, Callable[..., Any]] = services if services is not None else {}
        # The connector of an operator nobody registered (spiff-arena's connector proxy), if any.
        self.fallback = fallback
        self.max_data_bytes = max_data_bytes if max_data_bytes is not None else settings().script_max_data_bytes
        self._evaluators = evaluators

    @property
    def evaluators(self) -> pool.EvaluatorPool:
        return self._evaluators if self._evaluators is not None else pool.shared()

    # -- public API (called by Spiff) ------------------------------------------------------------

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Evaluate a condition/expression against task data without changing it."""
        compiled = compile_source(clean_expression(expression), "eval")
        self._refuse_reserved(context)
        if compiled.bounded is not None:
            try:
                return bounded.evaluate(compiled.bounded, context, external_context, self.max_data_bytes)
            except ScriptSandboxError:
                raise
            except Exception as exc:  # noqa: BLE001 - the expression's own error, reported as an evaluator would
                raise script_error(type(exc).__name__, str(exc), None) from exc
        answer = self._dispatch("eval", compiled, context, external_context)
        if not answer["ok"]:
            raise self._error(answer)
        return answer.get("value")

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> bool:
        """Run a script task: its variables land in ``context`` (the task data), kept JSON-native.

        A failed script leaves its partial writes (Spiff semantics) unless they are over the size
        limit; a script stopped by a hard bound leaves the task data as it was.
        """
        external = external_context or {}
        self.check_for_overwrite(context, external)
        compiled = compile_source(clean_script(script), "exec")
        self._refuse_reserved(context)
        if compiled.empty:
            return True
        answer = self._dispatch("exec", compiled, context, external)
        _keep_printed(answer)
        data = answer.get("data")
        if answer["ok"] and not isinstance(data, dict):
            raise ScriptSandboxError("The script evaluator answered without task data")
        if isinstance(data, dict):
            context.clear()
            context.update(data)
        if not answer["ok"]:
            raise self._error(answer)
        problems = answer.get("problems")
        if problems:
            raise ScriptSandboxError("; ".join(str(p) for p in problems)[:4000])
        return True

    def call_service(self, context: Any, **kwargs: Any) -> str:  # noqa: ARG002 - SpiffWorkflow's signature
        """Dispatch a service task to a registered connector; returns JSON text as Spiff expects.

        SpiffWorkflow passes ``operation_name``, ``operation_params`` (and ``task_data``) by name.
        Connectors are our own trusted code: they run in-process, called with the evaluated
        parameters as keyword arguments, and return any JSON-serialisable value (dates become ISO strings).
        """
        operation_name = str(kwargs.get("operation_name"))
        operation_params: Mapping[str, Any] = kwargs.get("operation_params") or {}
        connector = self.services.get(operation_name)
        if connector is None and self.fallback is not None:
            connector = self.fallback(operation_name, kwargs.get("task_data") or context or {})
            if connector is None:
                raise ScriptSandboxError(f"Unknown service '{operation_name}': no connector here has it and no "
                                         f"connector proxy is configured (ECVET_CONNECTOR_PROXY_URL)")
        if connector is None:
            known = ", ".join(sorted(self.services)) or "none"
            raise ScriptSandboxError(f"Unknown service '{operation_name}' (registered services: {known})")
        params = {
            name: (param["value"] if isinstance(param, Mapping) and "value" in param else param)
            for name, param in operation_params.items()
        }
        result = connector(**params)
        try:
            return json.dumps(result, default=_json_default)
        except (TypeError, ValueError) as err:
            raise ScriptSandboxError(
                f"Service '{operation_name}' returned data that cannot be stored in task data: {err}"
            ) from err

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        """Fail fast when task data shadows external context (same rule and message as TaskDataEnvironment)."""
        overwrites = set(self.globals).intersection(context)
        overwrites.update(set(external_context).intersection(context))
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {overwrites}"
            )

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _refuse_reserved(context: Mapping[str, Any]) -> None:
        clash = GUARD_NAMES.intersection(context)
        if clash:
            raise ScriptSandboxError(f"Task data uses reserved name(s): {', '.join(sorted(clash))}")

    def _dispatch(
        self, op: str, compiled: Compiled, context: Mapping[str, Any], external: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        request = {
            "op": op, "code": compiled.marshalled, "traced": compiled.can_loop, "time_limit": self.time_limit,
            "max_bytes": self.max_data_bytes, "context": dict(context), "external": dict(external or {}),
            "helpers": sorted(HELPERS),
        }
        try:
            payload = wire.dump_request(request)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            raise ScriptSandboxError(f"Task data cannot be handed to the script: {err}") from err
        # The answer holds task data (at most max_data_bytes) plus messages; anything far larger is
        # not an answer this code would write.
        return self.evaluators.evaluate(payload, time_limit=self.time_limit,
                                        max_answer=2 * self.max_data_bytes + 65536, on_ask=_answer_helper)

    @staticmethod
    def _error(answer: Mapping[str, Any]) -> Exception:
        message = str(answer.get("message") or "")[:4000]
        lineno = answer.get("lineno") if isinstance(answer.get("lineno"), int) else None
        type_name = str(answer.get("type") or "ScriptError")
        if answer.get("sandbox"):
            return ScriptSandboxError(message, lineno=lineno)
        return script_error(type_name, message, lineno)


class SandboxedScriptEngine(PythonScriptEngine):
    """Spiff script engine using SandboxedEnvironment, with service errors that keep their message."""

    def __init__(
        self,
        services: Mapping[str, Callable[..., Any]] | None = None,
        *,
        time_limit: float | None = 1.0,
        environment: SandboxedEnvironment | None = None,
        fallback: ServiceFallback | None = None,
    ) -> None:
        environment = environment or SandboxedEnvironment(time_limit=time_limit, services=services,
                                                          fallback=fallback)
        super().__init__(environment)  # type: ignore[no-untyped-call]  # SpiffWorkflow's __init__ has no annotations

    def validate(self, expression: str) -> None:
        """Compile with the sandbox policy: SyntaxError for bad syntax (DMN relies on it),
        ScriptSandboxError for forbidden constructs, so deploy-time checks report both."""
        compile_source(clean_script(expression), "exec")

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """As Spiff's; helpers and printed output know which task ran the script."""
        previous, _RUN.task = _RUN.task, task
        try:
            return super().execute(task, script, external_context)  # type: ignore[no-untyped-call]
        finally:
            _RUN.task = previous

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """As Spiff's, but the incident message carries the cause, not only the expression."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {type(err).__name__}: {err}",
                task=task,
                exception=err,
            ) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Call a connector; failures become WorkflowTaskException with the connector's own message
        (Spiff 3.2.0 turns every service error into ``NameError: name 'script' is not defined``)."""
        name = kwargs.get("operation_name")
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException as err:
            err.add_note(f"Service '{name}' failed")
            raise
        except ScriptSandboxError as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err
        except Exception as err:
            raise WorkflowTaskException(
                f"Service '{name}' failed: {type(err).__name__}: {err}", task=task, exception=err
            ) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """As Spiff's, but safe for non-string exception args (Spiff crashes on ``KeyError(5)``)."""
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        if isinstance(err, SpiffWorkflowException):
            err.line_number = line_number  # type: ignore[attr-defined]
            err.error_line = error_line  # type: ignore[attr-defined]
            err.add_note(f"Python script error on line {line_number}: '{error_line}'")
            return err
        detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        return WorkflowTaskException(
            detail, task=task, exception=err, line_number=line_number, error_line=error_line
        )

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """Locate the failing line in our '<script>' frames (Spiff looks for '<string>')."""
        line_number = 0
        if isinstance(err, SyntaxError):
            line_number = err.lineno or 0
        elif isinstance(err, (ScriptSandboxError, ScriptError)) and err.lineno:
            line_number = err.lineno
        else:
            for frame_summary in traceback.extract_tb(err.__traceback__):
                if frame_summary.filename == SCRIPT_FILENAME and frame_summary.lineno:
                    line_number = frame_summary.lineno
        lines = clean_script(script).splitlines()
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line
