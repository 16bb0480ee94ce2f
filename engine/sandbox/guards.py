"""Runtime guards of the script sandbox: what restricted code may call, size checks, the time limit.

Imported by the evaluator processes (engine.sandbox.child), so it imports only the standard library
and RestrictedPython's guard helpers: no SpiffWorkflow, no SQLAlchemy, nothing holding secrets.
"""
from __future__ import annotations

import math
import operator
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from types import CodeType, FrameType
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

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


class ScriptSandboxError(Exception):
    """A script tried something the sandbox forbids; the message is meant for the process owner."""

    def __init__(self, message: str, *, lineno: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lineno = lineno


#: Attributes no script may read: RestrictedPython's frame/code attributes, plus ``mro``, which hands
#: out ``object`` and ``BaseException`` (``KeyError.mro()[-2]('x')`` escaped every handler).
FORBIDDEN_ATTRIBUTES = INSPECT_ATTRIBUTES | {"mro"}


def forbidden_attribute(name: str) -> bool:
    return name.startswith("_") or name in FORBIDDEN_ATTRIBUTES or name.endswith("__roles__")


# --------------------------------------------------------------------------------------------------
# Guards called by restricted code
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
        # '%s' * 10 % (big,) * 10: the result is at least as long as everything formatted into it.
        values = b if isinstance(b, tuple) else (b,)
        budget = MAX_SEQUENCE_LENGTH - len(a)
        if budget < 0 or sum(_logical_size(v, budget) for v in values) > budget:
            raise _too_long("formatted text")
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
    if isinstance(value, (list, tuple, dict, set, frozenset)) and _logical_size(value, MAX_SEQUENCE_LENGTH) > \
            MAX_SEQUENCE_LENGTH:
        raise _too_long("formatted text")
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    spec = str(spec)
    _check_format_spec(value, spec)
    text = format(value, spec)
    if len(text) > MAX_SEQUENCE_LENGTH:
        raise _too_long("formatted text")
    return text


def _fstring(*parts: str) -> str:
    """An f-string's pieces (each already checked by _format), refused when the whole is too long."""
    if sum(len(part) for part in parts) > MAX_SEQUENCE_LENGTH:
        raise _too_long("formatted text")
    return "".join(parts)


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
    if forbidden_attribute(name):
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
    "_fstring_": _fstring,
    "_check_": _check_deadline,
}
GUARDS = _GUARDS
SAFE_BUILTINS = _SAFE_BUILTINS
GUARD_NAMES = frozenset(_GUARDS)
RESERVED_NAMES = GUARD_NAMES | {"__builtins__"}


# --------------------------------------------------------------------------------------------------
# Running restricted code under the time limit
# --------------------------------------------------------------------------------------------------

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
        return materialise(eval(code, namespace)) if want_result else exec(code, namespace)
    deadline = time.monotonic() + time_limit
    expired: list[bool] = []
    tracer = _make_tracer(deadline, time_limit, expired)
    previous_trace = sys.gettrace()
    previous_active = getattr(_state, "active", None)
    _state.active = (deadline, time_limit)
    sys.settrace(tracer)
    try:
        if want_result:
            result = materialise(eval(code, namespace))
        else:
            exec(code, namespace)
            result = None
    finally:
        sys.settrace(previous_trace)
        _state.active = previous_active
    if expired:
        # The limit fired but the code still completed (the error was swallowed somewhere).
        raise _time_limit_error(time_limit)
    return result



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

