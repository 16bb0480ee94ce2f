"""Sandboxed script engine: BPMN scripts, conditions, DMN and timer expressions as restricted Python.

Source is compiled here with RestrictedPython (cached); it runs in an evaluator process of
engine.sandbox.pool, which holds the hard bounds on CPU, wall-clock time and memory, unless the
expression is proven bounded (engine.sandbox.bounded) and runs in-process. Service tasks call our own
trusted connectors and stay in-process.
"""
from __future__ import annotations

import ast
import copy
import functools
import json
import marshal
import pickle
import re
import textwrap
import traceback
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import CodeType
from typing import Any, NamedTuple

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import (
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .config import settings
from .sandbox import bounded, pool, wire
from .sandbox.guards import (
    GUARD_NAMES,
    MAX_INT_BITS,
    MAX_RANGE,
    MAX_SEQUENCE_LENGTH,
    SCRIPT_FILENAME,
    ScriptSandboxError,
    forbidden_attribute,
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

_COMPILE_CACHE_SIZE = 4096


# --------------------------------------------------------------------------------------------------
# Compile-time policy
# --------------------------------------------------------------------------------------------------

# Guard functions live in the script's builtins under these names; user code cannot name anything
# starting with "_", so it can neither call nor shadow them.
_BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}
_SIMPLE_NODES = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.UnaryOp, ast.Slice)


def _is_simple(node: ast.AST | None) -> bool:
    """Side-effect-free expressions that may safely be evaluated twice (``a['k'] += 1``)."""
    if node is None:
        return True
    if not isinstance(node, _SIMPLE_NODES):
        return False
    return all(_is_simple(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython policy with clearer messages and guards against single-opcode blow-ups."""

    def _call(self, name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
        call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
        copy_locations(call, like)
        return call

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is not None and name.startswith("_") and name != "_":
            self.error(node, f"Names starting with '_' are not allowed in scripts ('{name}')")
            return
        super().check_name(node, name, allow_magic_methods)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in ("print", "printed"):
            self.error(node, "print is not allowed in scripts; store results in variables instead")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if forbidden_attribute(attr):
            self.error(node, f"Access to '{attr}' is not allowed in scripts")
            self.node_contents_visit(node)  # keep collecting errors in the rest of the expression
            return node
        return super().visit_Attribute(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import is not allowed in scripts")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import is not allowed in scripts")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in scripts")
        return node

    def visit_With(self, node: ast.With) -> Any:
        self.error(node, "with statements are not allowed in scripts")
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        # The time limit is raised from a trace function, which switches tracing off. Every
        # handler and finally block therefore re-checks the deadline first, so a script cannot
        # swallow the time-limit error and keep running untraced.
        node = self.node_contents_visit(node)
        for handler in node.handlers:
            handler.body.insert(0, self._check_stmt(handler))
        if node.finalbody:
            node.finalbody.insert(0, self._check_stmt(node.finalbody[0]))
        return node

    def visit_While(self, node: ast.While) -> Any:
        # ``while True: pass`` jumps back to the same instruction and so emits no "line" trace event;
        # a deadline check at the top of every while body keeps line tracing sufficient (opcode
        # tracing would make every loop several times slower).
        node = self.node_contents_visit(node)
        node.body.insert(0, self._check_stmt(node))
        return node

    def _check_stmt(self, like: ast.AST) -> ast.Expr:
        stmt = ast.Expr(self._call("_check_", [], like))
        copy_locations(stmt, like)
        return stmt

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return self._call(guard, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if isinstance(target, ast.Subscript) and _is_simple(target.value) and _is_simple(target.slice):
            # a[k] op= v  ->  _write_(a)[k] = _inplacevar_(op, _getitem_(a, k), v)
            load = copy.deepcopy(target)
            load.ctx = ast.Load()
            new_target = self.visit(target)
            new_load = self.visit(load)
            value = self.visit(node.value)
            call = self._call(
                "_inplacevar_", [ast.Constant(IOPERATOR_TO_STR[type(node.op)]), new_load, value], node
            )
            assign = ast.Assign(targets=[new_target], value=call)
            copy_locations(assign, node)
            return assign
        return super().visit_AugAssign(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        # f"{a}{a}{a}" is one C-level join: every piece goes through _format_ (width and size checks)
        # and the whole through _fstring_, so the result is refused before it is built.
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = self.visit(value.format_spec) if value.format_spec is not None else ast.Constant("")
                copy_locations(spec, value)
                parts.append(self._call("_format_", [self.visit(value.value), spec,
                                                     ast.Constant(value.conversion)], value))
            else:
                parts.append(value)
        return self._call("_fstring_", parts, node)


_LINE_RE = re.compile(r"^Line (\d+): ")


# Code without these nodes runs a bounded number of opcodes, each bounded by the guards, so it
# needs no tracing; anything that can loop or recurse in bytecode is traced.
_LOOPING_NODES = (
    ast.While, ast.For, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
    ast.FunctionDef,
)


class Compiled(NamedTuple):
    """One script or expression, compiled once: restricted code for an evaluator, or bounded code."""

    code: CodeType
    can_loop: bool  # runs under the time-limit tracer in the evaluator
    marshalled: bytes  # what an evaluator receives (it never compiles untrusted source itself)
    bounded: CodeType | None  # proven-bounded expression: evaluated in-process
    empty: bool  # nothing to run


@functools.lru_cache(maxsize=_COMPILE_CACHE_SIZE)
def _compile(source: str, mode: str) -> Compiled:
    """Compile once per distinct source: conditions and scripts run far more often than they change."""
    tree = ast.parse(source, filename=SCRIPT_FILENAME, mode=mode)  # a real SyntaxError, as Spiff expects
    can_loop = any(isinstance(node, _LOOPING_NODES) for node in ast.walk(tree))
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(tree, filename=SCRIPT_FILENAME, policy=SandboxPolicy)
    if result.errors:
        messages = list(dict.fromkeys(result.errors))
        match = _LINE_RE.match(messages[0])
        raise ScriptSandboxError("; ".join(messages), lineno=int(match.group(1)) if match else None)
    assert result.code is not None
    bounded_code = bounded.compile_bounded(source) if mode == "eval" else None
    empty = mode == "exec" and not ast.parse(source, mode="exec").body
    return Compiled(result.code, can_loop, marshal.dumps(result.code), bounded_code, empty)


def _clean_expression(expression: str) -> str:
    return expression.strip()


def _clean_script(script: str | None) -> str:
    return textwrap.dedent(script or "").strip("\n")
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
    ) -> None:
        super().__init__({})
        self.time_limit = time_limit if time_limit and time_limit > 0 else 1.0
        # Kept by reference: connectors registered later (start-up configuration) are seen.
        self.services: Mapping[str, Callable[..., Any]] = services if services is not None else {}
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
        compiled = _compile(_clean_expression(expression), "eval")
        self._refuse_reserved(context)
        if compiled.bounded is not None:
            return bounded.evaluate(compiled.bounded, context, external_context, self.max_data_bytes)
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
        compiled = _compile(_clean_script(script), "exec")
        self._refuse_reserved(context)
        if compiled.empty:
            return True
        answer = self._dispatch("exec", compiled, context, external)
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

    def call_service(
        self,
        context: dict[str, Any],
        operation_name: str,
        operation_params: Mapping[str, Any] | None = None,
        task_data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> str:
        """Dispatch a service task to a registered connector; returns JSON text as Spiff expects.

        Connectors are our own trusted code: they run in-process, called with the evaluated
        parameters as keyword arguments, and return any JSON-serialisable value (dates become ISO strings).
        """
        connector = self.services.get(operation_name)
        if connector is None:
            known = ", ".join(sorted(self.services)) or "none"
            raise ScriptSandboxError(f"Unknown service '{operation_name}' (registered services: {known})")
        params = {
            name: (param["value"] if isinstance(param, Mapping) and "value" in param else param)
            for name, param in (operation_params or {}).items()
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
        }
        try:
            payload = wire.dump_request(request)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            raise ScriptSandboxError(f"Task data cannot be handed to the script: {err}") from err
        # The answer holds task data (at most max_data_bytes) plus messages; anything far larger is
        # not an answer this code would write.
        return self.evaluators.evaluate(payload, time_limit=self.time_limit,
                                        max_answer=2 * self.max_data_bytes + 65536)

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
    ) -> None:
        super().__init__(environment or SandboxedEnvironment(time_limit=time_limit, services=services))

    def validate(self, expression: str) -> None:
        """Compile with the sandbox policy: SyntaxError for bad syntax (DMN relies on it),
        ScriptSandboxError for forbidden constructs, so deploy-time checks report both."""
        _compile(_clean_script(expression), "exec")

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
        lines = _clean_script(script).splitlines()
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line
