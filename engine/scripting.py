"""Sandboxed script engine: restricted, time-bounded Python for BPMN scripts, conditions, DMN and timers."""
from __future__ import annotations

import ast
import copy
import functools
import json
import math
import operator
import re
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from types import CodeType, FrameType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

__all__ = [
    "MAX_INT_BITS",
    "MAX_RANGE",
    "MAX_SEQUENCE_LENGTH",
    "SCRIPT_FILENAME",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptSandboxError",
]

#: Filename given to compiled user code; the tracer only watches frames from this "file".
SCRIPT_FILENAME = "<script>"
#: Largest integer a script may produce with ``**``, ``*`` or ``<<`` (about 3000 decimal digits).
MAX_INT_BITS = 10_000
#: Longest str/bytes/list/tuple a script may build with ``*``, ``+``, padding or joining.
MAX_SEQUENCE_LENGTH = 1_000_000
#: Longest ``range()`` a script may create.
MAX_RANGE = 100_000
#: ``round(x, n)`` with a huge negative ``n`` computes ``10**-n`` for ints; keep ``n`` small.
_MAX_ROUND_DIGITS = 400
#: strftime formats: glibc honours field widths (``%999999Y``), so keep them short.
_MAX_DATE_FORMAT_LENGTH = 200
_MAX_DATE_FORMAT_WIDTH = 999
_COMPILE_CACHE_SIZE = 4096


class ScriptSandboxError(Exception):
    """A script tried something the sandbox forbids; the message is meant for the process owner."""

    def __init__(self, message: str, *, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno


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
        if attr.startswith("_") or attr in INSPECT_ATTRIBUTES or attr.endswith("__roles__"):
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

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        # f"{x:>{n}}": check the width before formatting (a huge width is one C-level allocation).
        call = self._call("_format_", [node.value, node.format_spec, ast.Constant(node.conversion)], node)
        new = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new


_LINE_RE = re.compile(r"^Line (\d+): ")


# Code without these nodes runs a bounded number of opcodes, each bounded by the guards, so it
# needs no tracing; anything that can loop or recurse in bytecode is traced.
_LOOPING_NODES = (
    ast.While, ast.For, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
    ast.FunctionDef,
)


@functools.lru_cache(maxsize=_COMPILE_CACHE_SIZE)
def _compile(source: str, mode: str) -> tuple[CodeType, bool]:
    """Compile once per distinct source: conditions and scripts run far more often than they change.

    Returns the code and whether it can loop (and so must run under the time-limit tracer).
    """
    tree = ast.parse(source, filename=SCRIPT_FILENAME, mode=mode)  # a real SyntaxError, as Spiff expects
    can_loop = any(isinstance(node, _LOOPING_NODES) for node in ast.walk(tree))
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(tree, filename=SCRIPT_FILENAME, policy=SandboxPolicy)
    if result.errors:
        messages = list(dict.fromkeys(result.errors))
        match = _LINE_RE.match(messages[0])
        raise ScriptSandboxError("; ".join(messages), lineno=int(match.group(1)) if match else None)
    assert result.code is not None
    return result.code, can_loop


def _clean_expression(expression: str) -> str:
    return expression.strip()


def _clean_script(script: str | None) -> str:
    return textwrap.dedent(script or "").strip("\n")


# --------------------------------------------------------------------------------------------------
# Runtime guards
# --------------------------------------------------------------------------------------------------

_state = threading.local()  # (deadline, limit) of the sandbox run active in this thread
_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _too_long(what: str = "result") -> ScriptSandboxError:
    return ScriptSandboxError(
        f"Calculation refused: {what} too long (more than {MAX_SEQUENCE_LENGTH} items)"
    )


def _too_large() -> ScriptSandboxError:
    return ScriptSandboxError(f"Calculation refused: number too large (more than {MAX_INT_BITS} bits)")


def _time_limit_error(limit: float) -> ScriptSandboxError:
    return ScriptSandboxError(f"Script exceeded its time limit of {float(limit)} s")


def _check_deadline() -> None:
    active = getattr(_state, "active", None)
    if active is not None and time.monotonic() > active[0]:
        raise _time_limit_error(active[1])


def _logical_size(value: Any, budget: int) -> int:
    """Count items reachable through nested containers, stopping once past ``budget``.

    ``[[0] * 10**6] * 10**6`` is small in memory but enormous once converted to text or JSON.
    """
    total = 0
    stack = [value]
    while stack and total <= budget:
        item = stack.pop()
        total += 1
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return total


def _check_repeat(seq: Any, times: int) -> None:
    if times <= 0:
        return
    if len(seq) * times > MAX_SEQUENCE_LENGTH:
        raise _too_long()
    if isinstance(seq, (list, tuple)) and seq:
        budget = MAX_SEQUENCE_LENGTH // times
        if sum(_logical_size(item, budget) for item in seq) > budget:
            raise _too_long()


def _check_mul(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int):
        if a and b and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _too_large()
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_repeat(a, b)
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        _check_repeat(b, a)


def _check_add(a: Any, b: Any) -> None:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES) and len(a) + len(b) > MAX_SEQUENCE_LENGTH:
        raise _too_long()


def _check_pow(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
        if b * math.log2(abs(a)) > MAX_INT_BITS:
            raise _too_large()


def _check_lshift(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise _too_large()


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _check_mod(a: Any, b: Any) -> None:
    if isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        for width, precision in _PERCENT_SPEC.findall(text):
            for number in (width, precision):
                if number == "*":
                    raise ScriptSandboxError("'*' widths in % formatting are not allowed in scripts")
                if number and int(number) > MAX_SEQUENCE_LENGTH:
                    raise _too_long("formatted text")


def _add(a: Any, b: Any) -> Any:
    _check_add(a, b)
    return a + b


def _mul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return a * b


def _pow(a: Any, b: Any) -> Any:
    _check_pow(a, b)
    return a**b


def _lshift(a: Any, b: Any) -> Any:
    _check_lshift(a, b)
    return a << b


def _mod(a: Any, b: Any) -> Any:
    _check_mod(a, b)
    return a % b


_INPLACE_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "+=": _check_add,
    "*=": _check_mul,
    "**=": _check_pow,
    "<<=": _check_lshift,
    "%=": _check_mod,
}
_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "@=": operator.imatmul,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    check = _INPLACE_CHECKS.get(op)
    if check is not None:
        check(x, y)
    return _INPLACE_OPS[op](x, y)


def _check_format_spec(value: Any, spec: str) -> None:
    if len(spec) > _MAX_DATE_FORMAT_LENGTH:
        raise _too_long("format specification")
    limit = _MAX_DATE_FORMAT_WIDTH if "%" in spec else MAX_SEQUENCE_LENGTH
    if any(int(digits) > limit for digits in _DIGITS.findall(spec)):
        raise _too_long("formatted text")


def _format(value: Any, spec: Any, conversion: int) -> str:
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    spec = str(spec)
    _check_format_spec(value, spec)
    return format(value, spec)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _check_method_call(obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse method calls whose result would be huge; returns the (possibly materialised) args."""
    if name in ("ljust", "rjust", "center", "zfill"):
        width = _arg(args, kwargs, 0, "width", 0)
        if isinstance(width, int) and width > MAX_SEQUENCE_LENGTH:
            raise _too_long()
    elif name == "expandtabs" and isinstance(obj, (str, bytes, bytearray)):
        tabsize = _arg(args, kwargs, 0, "tabsize", 8)
        tab = "\t" if isinstance(obj, str) else b"\t"
        if isinstance(tabsize, int) and len(obj) + obj.count(tab) * max(tabsize, 0) > MAX_SEQUENCE_LENGTH:
            raise _too_long()
    elif name == "replace" and isinstance(obj, (str, bytes, bytearray)) and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, (str, bytes, bytearray)) and isinstance(new, (str, bytes, bytearray)):
            count = obj.count(old) if old else len(obj) + 1
            limit = _arg(args, kwargs, 2, "count", -1)
            if isinstance(limit, int) and limit >= 0:
                count = min(count, limit)
            if len(obj) + count * (len(new) - len(old)) > MAX_SEQUENCE_LENGTH:
                raise _too_long()
    elif name == "join" and isinstance(obj, (str, bytes, bytearray)) and args:
        items = list(args[0])
        size = sum(len(item) for item in items if isinstance(item, (str, bytes, bytearray)))
        if size + len(obj) * max(len(items) - 1, 0) > MAX_SEQUENCE_LENGTH:
            raise _too_long()
        return (items, *args[1:])
    elif name == "translate" and isinstance(obj, str) and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        if len(obj) * longest > MAX_SEQUENCE_LENGTH:
            raise _too_long()
    elif name == "to_bytes":
        length = _arg(args, kwargs, 0, "length", 1)
        if isinstance(length, int) and length > MAX_SEQUENCE_LENGTH:
            raise _too_long()
    elif name == "extend" and isinstance(obj, list) and args:
        items = args[0] if hasattr(args[0], "__len__") else list(args[0])
        if len(obj) + len(items) > MAX_SEQUENCE_LENGTH:
            raise _too_long()
        return (items, *args[1:])
    elif name == "strftime":
        fmt = _arg(args, kwargs, 0, "format", "")
        if isinstance(fmt, str):
            if len(fmt) > _MAX_DATE_FORMAT_LENGTH or any(
                int(d) > _MAX_DATE_FORMAT_WIDTH for d in _DIGITS.findall(fmt)
            ):
                raise _too_long("date format")
    return args


_SIZE_CHECKED_METHODS = frozenset(
    {"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate", "to_bytes",
     "extend", "strftime"}
)
_STR_FORMAT_METHODS = frozenset({"format", "format_map"})


def _getattr(obj: Any, name: str) -> Any:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in INSPECT_ATTRIBUTES:
        raise ScriptSandboxError(f"Access to '{name}' is not allowed in scripts")
    if name in _STR_FORMAT_METHODS and (
        isinstance(obj, str) or (isinstance(obj, type) and issubclass(obj, str))
    ):
        raise ScriptSandboxError("str.format is not allowed in scripts; use an f-string instead")
    if name in _SIZE_CHECKED_METHODS:
        if isinstance(obj, type):
            raise ScriptSandboxError(
                f"'{obj.__name__}.{name}' is not allowed in scripts; call .{name}() on a value instead"
            )
        method = getattr(obj, name)

        def checked(*args: Any, **kwargs: Any) -> Any:
            args = _check_method_call(obj, name, args, kwargs)
            return method(*args, **kwargs)

        return checked
    return getattr(obj, name)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _write(obj: Any) -> Any:
    if isinstance(obj, (dict, list)):
        return obj
    raise ScriptSandboxError(
        f"Changing a {type(obj).__name__} is not allowed in scripts; only dicts and lists can be modified"
    )


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _safe_range(*args: Any) -> range:
    """range() refusing more than MAX_RANGE items."""
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise ScriptSandboxError(f"range() of more than {MAX_RANGE} items is not allowed in scripts")
    return result


def _safe_sum(iterable: Any, /, start: Any = 0) -> Any:
    """sum() of numbers only: summing lists is quadratic in C and cannot be interrupted."""
    if not isinstance(start, (int, float, complex)):
        raise ScriptSandboxError("sum() can only add numbers in scripts")
    return sum(iterable, start)


def _safe_round(number: Any, ndigits: Any = None) -> Any:
    """round() refusing absurd ndigits (round(5, -10**9) computes 10**10**9)."""
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > _MAX_ROUND_DIGITS:
        raise ScriptSandboxError(f"round() with more than {_MAX_ROUND_DIGITS} digits is not allowed")
    return round(number, ndigits)


_SAFE_BUILTINS: dict[str, Any] = {
    "True": True,
    "False": False,
    "None": None,
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "dict": dict,
    "divmod": divmod,
    "enumerate": enumerate,
    "filter": filter,
    "float": float,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": list,
    "map": map,
    "max": max,
    "min": min,
    "range": _safe_range,
    "reversed": reversed,
    "round": _safe_round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "sum": _safe_sum,
    "tuple": tuple,
    "zip": zip,
    "next": next,
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    # Exceptions, so scripts can raise a meaningful error or handle a bad conversion.
    "Exception": Exception,
    "ArithmeticError": ArithmeticError,
    "KeyError": KeyError,
    "IndexError": IndexError,
    "LookupError": LookupError,
    "TypeError": TypeError,
    "ValueError": ValueError,
    "ZeroDivisionError": ZeroDivisionError,
}

_UNAVAILABLE = (
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr", "globals", "locals",
    "vars", "dir", "type", "object", "super", "input", "breakpoint", "help", "exit", "quit", "memoryview",
    "classmethod", "staticmethod", "property", "id", "iter", "pow", "bytes", "bytearray",
)


def _unavailable(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ScriptSandboxError(f"{name}() is not available in scripts")

    return refuse


# Placeholders give a clear message instead of NameError; task data with the same name wins.
_SAFE_BUILTINS.update({name: _unavailable(name) for name in _UNAVAILABLE})

_GUARDS: dict[str, Any] = {
    "_getattr_": _getattr,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    "_add_": _add,
    "_mul_": _mul,
    "_pow_": _pow,
    "_lshift_": _lshift,
    "_mod_": _mod,
    "_format_": _format,
    "_check_": _check_deadline,
}
_GUARD_NAMES = frozenset(_GUARDS)
_RESERVED_NAMES = _GUARD_NAMES | {"__builtins__"}


# --------------------------------------------------------------------------------------------------
# Task data must stay JSON-native
# --------------------------------------------------------------------------------------------------

_PLAIN_RESULTS = frozenset({bool, int, float, str, type(None), list, dict})
_LAZY_TYPES = (range, map, filter, zip, enumerate, reversed, Iterator)
_HINTS: dict[str, str] = {
    "Decimal": "use str or float",
    "timedelta": "use .total_seconds() or str",
    "bytes": "use str",
    "bytearray": "use str",
    "complex": "use two floats",
}


class _Unstorable(Exception):
    def __init__(self, path: str, value: Any, problem: str | None = None) -> None:
        super().__init__(path)
        self.path = path
        self.value = value
        self.problem = problem


def _describe(value: Any) -> tuple[str, str]:
    if isinstance(value, type):
        return "a class", "classes cannot be stored"
    if callable(value):
        return "a function", "functions cannot be stored"
    if isinstance(value, _LAZY_TYPES):
        name = type(value).__name__
        return f"a {name} object", "wrap it in list(...)"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}", _HINTS.get(name, "use str, a number, a list or a dict")


def _to_storable(value: Any, path: str, active: set[int], extra: tuple[type, ...]) -> Any:
    """Return ``value`` in JSON-native form (sets/tuples become lists), or raise _Unstorable."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if extra and isinstance(value, extra):
        return value
    if isinstance(value, (list, dict)):
        if id(value) in active:
            raise _Unstorable(path, value, "a circular reference (it contains itself)")
        active.add(id(value))
        try:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    new = _to_storable(item, f"{path}[{index}]", active, extra)
                    if new is not item:
                        value[index] = new
            else:
                for key, item in list(value.items()):
                    if not isinstance(key, str):
                        raise _Unstorable(
                            path, value,
                            f"a dict key {key!r} ({type(key).__name__}); task data keys must be strings, "
                            "use str(key)",
                        )
                    new = _to_storable(item, f"{path}[{key!r}]", active, extra)
                    if new is not item:
                        value[key] = new
        finally:
            active.discard(id(value))
        return value
    if isinstance(value, tuple):
        return [_to_storable(item, f"{path}[{i}]", active, extra) for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [_to_storable(item, f"{path}[...]", active, extra) for item in value]
        try:
            items.sort()
        except TypeError:
            pass
        return items
    raise _Unstorable(path, value)


def _unstorable_message(name: str, err: _Unstorable) -> str:
    where = "" if err.path == name else f" at {err.path}"
    if err.problem:
        return f"Variable '{name}' holds {err.problem}{where}, which cannot be stored in task data"
    desc, hint = _describe(err.value)
    return f"Variable '{name}' holds {desc}{where}, which cannot be stored in task data; {hint}"


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
    """Runs scripts and expressions with RestrictedPython, guards and a wall-clock limit.

    Same context semantics as Spiff's ``TaskDataEnvironment``: ``execute`` writes variables into
    the task data dict it is given, ``evaluate`` never changes it, helpers (``environment_globals``)
    and ``external_context`` are visible to the code but never left in task data.
    """

    def __init__(
        self,
        environment_globals: Mapping[str, Any] | None = None,
        *,
        time_limit: float | None = 1.0,
        services: Mapping[str, Callable[..., Any]] | None = None,
        storable_types: tuple[type, ...] = (datetime, date),
    ) -> None:
        super().__init__(dict(environment_globals or {}))
        self.time_limit = time_limit
        # Kept by reference: connectors registered later (start-up configuration) are seen.
        self.services: Mapping[str, Callable[..., Any]] = services if services is not None else {}
        self.storable_types = storable_types
        self._builtins_cache: dict[str, Any] | None = None
        self._globals_seen: dict[str, Any] = {}

    # -- public API (called by Spiff) ------------------------------------------------------------

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Evaluate a condition/expression against task data without changing it."""
        code, can_loop = _compile(_clean_expression(expression), "eval")
        self._refuse_reserved(context)
        namespace = dict(context)
        namespace["__builtins__"] = self._builtins(external_context)
        return self._run(code, namespace, want_result=True, traced=can_loop)

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> bool:
        """Run a script task: its variables land in ``context`` (the task data), kept JSON-native."""
        external = external_context or {}
        self.check_for_overwrite(context, external)
        code, can_loop = _compile(_clean_script(script), "exec")
        self._refuse_reserved(context)
        context["__builtins__"] = self._builtins(external)
        succeeded = False
        try:
            self._run(code, context, want_result=False, traced=can_loop)
            succeeded = True
        finally:
            self._remove_helpers(context, external)
            if not succeeded:
                # The task goes to ERROR with its partial writes (Spiff semantics); make sure
                # they can still be persisted so the incident can be recorded.
                self._make_storable(context, strict=False)
        self._make_storable(context, strict=True)
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

        Connectors are called with the evaluated parameters as keyword arguments and return any
        JSON-serialisable value (dates become ISO strings).
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
        """Fail fast when task data shadows a helper (same rule and message as TaskDataEnvironment)."""
        overwrites = set(self.globals).intersection(context)
        overwrites.update(set(external_context).intersection(context))
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {overwrites}"
            )

    # -- internals ---------------------------------------------------------------------------------

    def _builtins(self, external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        base = self._builtins_cache
        if base is None or self._globals_seen != self.globals:
            self._globals_seen = dict(self.globals)
            base = {**_SAFE_BUILTINS, **self.globals, **_GUARDS}
            self._builtins_cache = base
        if not external_context:
            return base
        merged = dict(base)
        merged.update(external_context)
        if not _RESERVED_NAMES.isdisjoint(external_context):
            merged.update(_GUARDS)
        return merged

    @staticmethod
    def _refuse_reserved(context: Mapping[str, Any]) -> None:
        clash = _GUARD_NAMES.intersection(context)
        if clash:
            raise ScriptSandboxError(f"Task data uses reserved name(s): {', '.join(sorted(clash))}")

    def _run(self, code: CodeType, namespace: dict[str, Any], *, want_result: bool, traced: bool) -> Any:
        limit = self.time_limit
        if not traced or not limit or limit <= 0:
            return self._materialise(eval(code, namespace)) if want_result else exec(code, namespace)
        deadline = time.monotonic() + limit
        expired: list[bool] = []
        tracer = _make_tracer(deadline, limit, expired)
        previous_trace = sys.gettrace()
        previous_active = getattr(_state, "active", None)
        _state.active = (deadline, limit)
        sys.settrace(tracer)
        try:
            if want_result:
                result = self._materialise(eval(code, namespace))
            else:
                exec(code, namespace)
                result = None
        finally:
            sys.settrace(previous_trace)
            _state.active = previous_active
        if expired:
            # The limit fired but the code still completed (the error was swallowed somewhere).
            raise _time_limit_error(limit)
        return result

    @staticmethod
    def _materialise(result: Any) -> Any:
        # A lazy iterator would otherwise run user code later, outside the time limit.
        if type(result) not in _PLAIN_RESULTS and isinstance(result, Iterator):
            return list(result)
        return result

    def _remove_helpers(self, context: dict[str, Any], external_context: Mapping[str, Any]) -> None:
        for key in list(context):
            value = context[key]
            if key == "__builtins__" or callable(value) or key in self.globals or key in external_context:
                del context[key]

    def _make_storable(self, context: dict[str, Any], *, strict: bool) -> None:
        problems: list[str] = []
        for key in list(context):
            value = context[key]
            try:
                new = _to_storable(value, key, set(), self.storable_types)
            except _Unstorable as err:
                problems.append(_unstorable_message(key, err))
                del context[key]  # keep the rest of the data persistable
            except RecursionError:
                problems.append(f"Variable '{key}' is nested too deeply to be stored in task data")
                del context[key]
            else:
                if new is not value:
                    context[key] = new
        if problems and strict:
            raise ScriptSandboxError("; ".join(problems))


def _make_tracer(deadline: float, limit: float, expired: list[bool]) -> Callable[..., Any]:
    """Line tracer for frames of user code only; raises once the deadline has passed.

    "line" fires for every new line and every backward jump (loop iteration), "call" for every
    function/comprehension frame; the one construct that escapes both, a one-line ``while``
    loop, gets an explicit check from SandboxPolicy.visit_While.
    """
    monotonic = time.monotonic

    def local_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and monotonic() > deadline:
            expired.append(True)
            raise _time_limit_error(limit)
        return local_trace

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        if monotonic() > deadline:
            expired.append(True)
            raise _time_limit_error(limit)
        return local_trace

    return global_trace


class SandboxedScriptEngine(PythonScriptEngine):
    """Spiff script engine using SandboxedEnvironment, with service errors that keep their message."""

    def __init__(
        self,
        services: Mapping[str, Callable[..., Any]] | None = None,
        *,
        time_limit: float | None = 1.0,
        helpers: Mapping[str, Any] | None = None,
        environment: SandboxedEnvironment | None = None,
    ) -> None:
        super().__init__(
            environment or SandboxedEnvironment(helpers, time_limit=time_limit, services=services)
        )

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
        elif isinstance(err, ScriptSandboxError) and err.lineno:
            line_number = err.lineno
        else:
            for frame_summary in traceback.extract_tb(err.__traceback__):
                if frame_summary.filename == SCRIPT_FILENAME and frame_summary.lineno:
                    line_number = frame_summary.lineno
        lines = _clean_script(script).splitlines()
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line
