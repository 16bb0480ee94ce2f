"""Runtime guards of the script sandbox: what restricted code may call, size checks, the time limit.

Running code under them is the evaluator's (engine.sandbox.child.run).

Imported by the evaluator processes (engine.sandbox.child), so it imports only the standard library
and RestrictedPython's guard helpers: no SpiffWorkflow, no SQLAlchemy, nothing holding secrets.
"""
from __future__ import annotations

import math
import operator
import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
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

class _Deadline(threading.local):
    """(deadline, limit) of the sandbox run active in this thread; None outside one."""

    active: tuple[float, float] | None = None


#: Set by the evaluator's runner (engine.sandbox.child.run) around each traced run.
DEADLINE = _Deadline()
_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _too_long(what: str = "result") -> ScriptSandboxError:
    return ScriptSandboxError(
        f"Calculation refused: {what} too long (more than {MAX_SEQUENCE_LENGTH} items)"
    )


def _too_large() -> ScriptSandboxError:
    return ScriptSandboxError(f"Calculation refused: number too large (more than {MAX_INT_BITS} bits)")


def time_limit_error(limit: float) -> ScriptSandboxError:
    """The error a script past its time limit stops with (the same text on every path)."""
    return ScriptSandboxError(f"Script exceeded its time limit of {float(limit)} s")


def _check_deadline() -> None:
    active = DEADLINE.active
    if active is not None and time.monotonic() > active[0]:
        raise time_limit_error(active[1])


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


def _check_format_spec(spec: str) -> None:
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
    _check_format_spec(spec)
    text = format(value, spec)
    if len(text) > MAX_SEQUENCE_LENGTH:
        raise _too_long("formatted text")
    return text


def _fstring(*parts: str) -> str:
    """An f-string's pieces (each already checked by _format), refused when the whole is too long."""
    if sum(len(part) for part in parts) > MAX_SEQUENCE_LENGTH:
        raise _too_long("formatted text")
    return "".join(parts)


Args = tuple[Any, ...]
_TEXT = (str, bytes, bytearray)


def _arg(args: Args, kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _occurrences(text: Any, part: Any) -> int:
    """``text.count(part)`` for any of str, bytes and bytearray (a wrong mix raises as the method would)."""
    return int(text.count(part))


def _refuse_over(size: int, what: str = "result") -> None:
    if size > MAX_SEQUENCE_LENGTH:
        raise _too_long(what)


def _check_padding(_obj: Any, args: Args, kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 0, "width", 0)
    if isinstance(width, int):
        _refuse_over(width)


def _check_expandtabs(obj: Any, args: Args, kwargs: dict[str, Any]) -> None:
    tabsize = _arg(args, kwargs, 0, "tabsize", 8)
    if isinstance(obj, _TEXT) and isinstance(tabsize, int):
        tab = "\t" if isinstance(obj, str) else b"\t"
        _refuse_over(len(obj) + _occurrences(obj, tab) * max(tabsize, 0))


def _check_replace(obj: Any, args: Args, kwargs: dict[str, Any]) -> None:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    if not (isinstance(obj, _TEXT) and isinstance(old, _TEXT) and isinstance(new, _TEXT)):
        return
    count = _occurrences(obj, old) if old else len(obj) + 1
    limit = _arg(args, kwargs, 2, "count", -1)
    if isinstance(limit, int) and limit >= 0:
        count = min(count, limit)
    _refuse_over(len(obj) + count * (len(new) - len(old)))


def _check_join(obj: Any, args: Args, _kwargs: dict[str, Any]) -> Args | None:
    if not (isinstance(obj, _TEXT) and args):
        return None
    items = list(args[0])  # materialised once: a generator would be consumed by the check
    size = sum(len(item) for item in items if isinstance(item, _TEXT))
    _refuse_over(size + len(obj) * max(len(items) - 1, 0))
    return (items, *args[1:])


def _check_translate(obj: Any, args: Args, _kwargs: dict[str, Any]) -> None:
    if isinstance(obj, str) and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _refuse_over(len(obj) * longest)


def _check_to_bytes(_obj: Any, args: Args, kwargs: dict[str, Any]) -> None:
    length = _arg(args, kwargs, 0, "length", 1)
    if isinstance(length, int):
        _refuse_over(length)


def _check_extend(obj: Any, args: Args, _kwargs: dict[str, Any]) -> Args | None:
    if not (isinstance(obj, list) and args):
        return None
    items = args[0] if hasattr(args[0], "__len__") else list(args[0])
    _refuse_over(len(obj) + len(items))
    return (items, *args[1:])


def _check_strftime(_obj: Any, args: Args, kwargs: dict[str, Any]) -> None:
    fmt = _arg(args, kwargs, 0, "format", "")
    if isinstance(fmt, str) and (
        len(fmt) > _MAX_DATE_FORMAT_LENGTH or any(int(d) > _MAX_DATE_FORMAT_WIDTH for d in _DIGITS.findall(fmt))
    ):
        raise _too_long("date format")


#: Methods whose result may be huge, with the check that refuses it before it is built. A check may
#: return the arguments to call with instead (an iterable materialised once for the check).
_METHOD_CHECKS: dict[str, Callable[[Any, Args, dict[str, Any]], Args | None]] = {
    "ljust": _check_padding, "rjust": _check_padding, "center": _check_padding, "zfill": _check_padding,
    "expandtabs": _check_expandtabs, "replace": _check_replace, "join": _check_join,
    "translate": _check_translate, "to_bytes": _check_to_bytes, "extend": _check_extend,
    "strftime": _check_strftime,
}


def _check_method_call(obj: Any, name: str, args: Args, kwargs: dict[str, Any]) -> Args:
    """Refuse method calls whose result would be huge; returns the (possibly materialised) args."""
    check = _METHOD_CHECKS.get(name)
    replaced = check(obj, args, kwargs) if check is not None else None
    return args if replaced is None else replaced


_SIZE_CHECKED_METHODS = frozenset(_METHOD_CHECKS)
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
    "True": True, "False": False, "None": None,
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "divmod": divmod, "enumerate": enumerate,
    "filter": filter, "float": float, "int": int, "isinstance": isinstance, "len": len, "list": list,
    "map": map, "max": max, "min": min, "range": _safe_range, "reversed": reversed, "round": _safe_round,
    "set": set, "sorted": sorted, "str": str, "sum": _safe_sum, "tuple": tuple, "zip": zip, "next": next,
    "datetime": datetime, "date": date, "timedelta": timedelta, "timezone": timezone,
    # Exceptions, so scripts can raise a meaningful error or handle a bad conversion.
    "Exception": Exception, "ArithmeticError": ArithmeticError, "KeyError": KeyError, "IndexError": IndexError,
    "LookupError": LookupError, "TypeError": TypeError, "ValueError": ValueError,
    "ZeroDivisionError": ZeroDivisionError,
}

_UNAVAILABLE = (
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr", "globals", "locals",
    "vars", "dir", "type", "object", "super", "input", "breakpoint", "help", "exit", "quit", "memoryview",
    "classmethod", "staticmethod", "property", "id", "iter", "pow", "bytes", "bytearray",
)


def _unavailable(name: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
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
