"""What a script may use besides the safe builtins: ``print``, a few modules, and helper functions.

Evaluator side (imported by engine.sandbox.child before it locks itself down). Everything here is
bounded like the guards: printed text is cut at :data:`MAX_PRINTED_CHARS`, module functions that could
build a huge value take bounded arguments, ``time.sleep`` is absent. Modules are name spaces of chosen
functions, never the module objects (``json.codecs`` would reach ``open``).

Helper functions (``get_current_user()``...) are stubs: each call is a question written to the parent
process, which answers from the database (engine.scripting); the evaluator never holds a database handle.
"""
from __future__ import annotations

import decimal as _decimal
import json as _json
import random as _random
import time as _time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from types import SimpleNamespace
from typing import Any

from .guards import MAX_SEQUENCE_LENGTH, ScriptSandboxError

#: Printed text kept per evaluation (characters); what goes past it is cut and marked.
MAX_PRINTED_CHARS = 8000
_MAX_LINE_CHARS = 1000
_MAX_JSON_INDENT = 16


class _Printed:
    """What the running evaluation printed (one evaluation at a time per evaluator)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.cut = False

    def reset(self) -> None:
        self.lines, self.size, self.cut = [], 0, False

    def add(self, text: str) -> None:
        for raw in text.splitlines() or [""]:
            if self.cut:
                return
            line = raw if len(raw) <= _MAX_LINE_CHARS else raw[:_MAX_LINE_CHARS] + " [...]"
            if self.size + len(line) > MAX_PRINTED_CHARS:
                self.lines.append(f"[output cut at {MAX_PRINTED_CHARS} characters]")
                self.cut = True
                return
            self.lines.append(line)
            self.size += len(line)


PRINTED = _Printed()


class PrintCollector:
    """RestrictedPython's ``_print_(_getattr_)``: ``print(...)`` in a script writes to :data:`PRINTED`."""

    def __init__(self, _getattr: Any = None) -> None:
        self._unused = _getattr

    def __call__(self) -> str:  # the 'printed' variable (refused at compile time)
        return ""

    def _call_print(self, *objects: Any, sep: Any = " ", end: Any = "\n", file: Any = None, flush: Any = False) -> None:
        if file is not None:
            raise ScriptSandboxError("print(file=...) is not available in scripts")
        del flush
        parts = [(o if isinstance(o, str) else str(o))[: _MAX_LINE_CHARS + 1] for o in objects]
        text = (sep if isinstance(sep, str) else " ").join(parts)
        PRINTED.add(text + ("" if end == "\n" or not isinstance(end, str) else end))


# -- modules -----------------------------------------------------------------------------------------------

class _DatetimeType(type):
    """``isinstance(x, datetime)`` in a script: true for every datetime."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, datetime)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, datetime)


def _make_datetime(*args: Any, **kwargs: Any) -> datetime:
    return datetime(*args, **kwargs)


#: ``datetime`` in scripts is the class (``datetime(2027, 3, 1)``, ``datetime.now()``) and the module
#: spiff-arena scripts expect (``datetime.datetime.now()``, ``datetime.timedelta(days=1)``); every value
#: it makes is a plain ``datetime``, so task data stores it.
ScriptDatetime: Any = _DatetimeType("datetime", (datetime,), {
    "__new__": lambda _cls, *args, **kwargs: _make_datetime(*args, **kwargs),
    "datetime": datetime, "date": date, "time": dtime, "timedelta": timedelta, "timezone": timezone,
    "now": datetime.now, "utcnow": datetime.utcnow, "today": datetime.today,
    "fromisoformat": datetime.fromisoformat, "fromtimestamp": datetime.fromtimestamp,
    "strptime": datetime.strptime, "combine": datetime.combine,
})


def _bounded_count(k: Any) -> None:
    if isinstance(k, int) and k > MAX_SEQUENCE_LENGTH:
        raise ScriptSandboxError(f"more than {MAX_SEQUENCE_LENGTH} items are not allowed in scripts")


_RANDOM = _random.Random()


def _choices(population: Any, weights: Any = None, *, cum_weights: Any = None, k: int = 1) -> list[Any]:
    _bounded_count(k)
    return _RANDOM.choices(population, weights, cum_weights=cum_weights, k=k)


def _sample(population: Any, k: int, *, counts: Any = None) -> list[Any]:
    _bounded_count(k)
    return _RANDOM.sample(population, k, counts=counts)


def _dumps(value: Any, *, indent: Any = None, sort_keys: bool = False, default: Any = None) -> str:
    if isinstance(indent, int) and indent > _MAX_JSON_INDENT:
        raise ScriptSandboxError(f"json.dumps indent over {_MAX_JSON_INDENT} is not allowed in scripts")
    if isinstance(indent, str) and len(indent) > _MAX_JSON_INDENT:
        raise ScriptSandboxError(f"json.dumps indent over {_MAX_JSON_INDENT} characters is not allowed in scripts")
    return _json.dumps(value, indent=indent, sort_keys=sort_keys, default=default)


MODULES: dict[str, Any] = {
    "datetime": ScriptDatetime,
    "time": SimpleNamespace(time=_time.time, time_ns=_time.time_ns, monotonic=_time.monotonic, gmtime=_time.gmtime,
                            localtime=_time.localtime, mktime=_time.mktime, strftime=_time.strftime,
                            strptime=_time.strptime, timezone=_time.timezone),
    "random": SimpleNamespace(random=_RANDOM.random, randint=_RANDOM.randint, randrange=_RANDOM.randrange,
                              choice=_RANDOM.choice, choices=_choices, sample=_sample, shuffle=_RANDOM.shuffle,
                              uniform=_RANDOM.uniform, gauss=_RANDOM.gauss),
    "json": SimpleNamespace(dumps=_dumps, loads=_json.loads, JSONDecodeError=_json.JSONDecodeError),
    "decimal": SimpleNamespace(Decimal=_decimal.Decimal, ROUND_HALF_UP=_decimal.ROUND_HALF_UP,
                               ROUND_HALF_EVEN=_decimal.ROUND_HALF_EVEN, ROUND_DOWN=_decimal.ROUND_DOWN,
                               ROUND_UP=_decimal.ROUND_UP, InvalidOperation=_decimal.InvalidOperation),
    "Decimal": _decimal.Decimal,
}


# -- helper functions answered by the parent ----------------------------------------------------------------

#: Set by the evaluator to the function that asks the parent (name, arguments) -> answer.
ASK_PARENT: list[Callable[[str, list[Any]], Any]] = []


def helper(name: str) -> Callable[..., Any]:
    """The stub a script calls for the parent's helper ``name`` (arguments must be JSON values)."""

    def ask(*args: Any) -> Any:
        if not ASK_PARENT:
            raise ScriptSandboxError(f"{name}() is not available here")
        return ASK_PARENT[0](name, list(args))

    ask.__name__ = name
    return ask
