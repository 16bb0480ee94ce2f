"""What crosses the boundary between the engine and an evaluator process, and how.

Parent to evaluator: a pickled request, read back with an unpickler that knows a handful of value
types only. Evaluator to parent: JSON text only (never a pickle: the evaluator ran untrusted code),
written by a bounded encoder that stops at the size limit instead of first building a huge result,
so ``b = [a] * 10`` of a million-item ``a`` is refused after a million characters, not 22 MB.
"""
from __future__ import annotations

import io
import math
import pickle
import reprlib
import struct
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from json import loads as json_loads
from json.encoder import encode_basestring_ascii
from typing import Any
from uuid import UUID

#: Deepest nesting a value may have on its way back (Spiff's serializer recurses too).
MAX_DEPTH = 100

# Tagged values: a dict with exactly one of these keys. User keys starting with "\0" are escaped with
# one more "\0", so no dict a script builds can pass for a tag.
_DATE = "\x00d"
_DATETIME = "\x00t"
_TIMEDELTA = "\x00s"
_DATE_JSON = encode_basestring_ascii(_DATE)
_DATETIME_JSON = encode_basestring_ascii(_DATETIME)
_TIMEDELTA_JSON = encode_basestring_ascii(_TIMEDELTA)

_HEADER = struct.Struct(">I")

_HINTS: dict[str, str] = {
    "Decimal": "use str or float",
    "timedelta": "use .total_seconds() or str",
    "bytes": "use str",
    "bytearray": "use str",
    "complex": "use two floats",
}
_LAZY_TYPES = (range, map, filter, zip, enumerate, reversed, Iterator)
_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60


class UnstorableError(Exception):
    """A value that task data cannot hold; ``where`` collects the path from the leaf upwards."""

    def __init__(self, value: Any, problem: str | None = None) -> None:
        super().__init__(problem or type(value).__name__)
        self.value = value
        self.problem = problem
        self.where: list[str] = []

    def path(self, name: str) -> str:
        return name + "".join(reversed(self.where))

    def message(self, name: str, what: str = "Variable") -> str:
        path = self.path(name)
        where = "" if path == name else f" at {path}"
        if self.problem:
            return f"{what} '{name}' holds {self.problem}{where}, which cannot be stored in task data"
        desc, hint = describe(self.value)
        return f"{what} '{name}' holds {desc}{where}, which cannot be stored in task data; {hint}"


class TooLargeError(Exception):
    """The JSON text would pass the size limit; raised before building it."""


def describe(value: Any) -> tuple[str, str]:
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


def short_repr(value: Any) -> str:
    return _short.repr(value)


class BoundedEncoder:
    """JSON text of task data, written piece by piece and refused once it passes ``budget`` characters.

    Tuples become lists, sets sorted lists; dates and datetimes (and, for expression results,
    timedeltas) travel as tags. Anything else raises UnstorableError with the path to it.
    """

    def __init__(self, budget: int, *, timedeltas: bool = False) -> None:
        self.budget = budget
        self.size = 0
        self.timedeltas = timedeltas
        self._active: set[int] = set()

    def encode(self, value: Any) -> str:
        parts: list[str] = []
        self._value(value, parts, 0)
        return "".join(parts)

    def _add(self, parts: list[str], text: str) -> None:
        self.size += len(text)
        if self.size > self.budget:
            raise TooLargeError()
        parts.append(text)

    def _value(self, value: Any, parts: list[str], depth: int) -> None:
        kind = type(value)
        if value is None:
            self._add(parts, "null")
        elif value is True:
            self._add(parts, "true")
        elif value is False:
            self._add(parts, "false")
        elif kind is str:
            if self.size + len(value) + 2 > self.budget:
                raise TooLargeError()
            self._add(parts, encode_basestring_ascii(value))
        elif kind is int:
            self._add(parts, int.__repr__(value))
        elif kind is float:
            self._add(parts, _float(value))
        elif kind is datetime:
            self._add(parts, "{" + _DATETIME_JSON + ":" + encode_basestring_ascii(value.isoformat()) + "}")
        elif kind is date:
            self._add(parts, "{" + _DATE_JSON + ":" + encode_basestring_ascii(value.isoformat()) + "}")
        elif kind is timedelta and self.timedeltas:
            self._add(parts, "{" + _TIMEDELTA_JSON + f":[{value.days},{value.seconds},{value.microseconds}]}}")
        elif kind is dict or kind is list or kind is tuple or kind is set or kind is frozenset:
            self._container(value, parts, depth)
        else:
            raise UnstorableError(value)

    def _container(self, value: Any, parts: list[str], depth: int) -> None:
        if depth >= MAX_DEPTH:
            raise UnstorableError(value, f"data nested more than {MAX_DEPTH} levels deep")
        marker = id(value)
        if marker in self._active:
            raise UnstorableError(value, "a circular reference (it contains itself)")
        self._active.add(marker)
        try:
            if type(value) is dict:
                self._dict(value, parts, depth)
            else:
                self._sequence(value, parts, depth)
        finally:
            self._active.discard(marker)

    def _dict(self, value: dict[Any, Any], parts: list[str], depth: int) -> None:
        self._add(parts, "{")
        for index, (key, item) in enumerate(value.items()):
            if type(key) is not str:
                raise UnstorableError(
                    value,
                    f"a dict key {short_repr(key)} ({type(key).__name__}); task data keys must be "
                    "strings, use str(key)",
                )
            if index:
                self._add(parts, ",")
            if self.size + len(key) + 3 > self.budget:
                raise TooLargeError()
            self._add(parts, encode_basestring_ascii("\x00" + key if key[:1] == "\x00" else key) + ":")
            try:
                self._value(item, parts, depth + 1)
            except UnstorableError as err:
                err.where.append(f"[{short_repr(key)}]")
                raise
        self._add(parts, "}")

    def _sequence(self, value: Any, parts: list[str], depth: int) -> None:
        items: Any = value
        label = None
        if type(value) in (set, frozenset):
            label = "[...]"
            try:
                items = sorted(value)
            except TypeError:
                items = list(value)
        self._add(parts, "[")
        for index, item in enumerate(items):
            if index:
                self._add(parts, ",")
            try:
                self._value(item, parts, depth + 1)
            except UnstorableError as err:
                err.where.append(label or f"[{index}]")
                raise
        self._add(parts, "]")


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == _DATETIME:
            return datetime.fromisoformat(value)
        if key == _DATE:
            return date.fromisoformat(value)
        if key == _TIMEDELTA:
            days, seconds, micros = value
            return timedelta(days=days, seconds=seconds, microseconds=micros)
    for key in obj:
        if key[:1] == "\x00":
            return {(k[1:] if k[:1] == "\x00" else k): v for k, v in obj.items()}
    return obj


def decode(text: str | bytes) -> Any:
    """JSON text from an evaluator back into task data values (tags restored, keys unescaped)."""
    return json_loads(text, object_hook=_hook)


# --------------------------------------------------------------------------------------------------
# Frames and the request pickle
# --------------------------------------------------------------------------------------------------


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    return int(_HEADER.unpack(header)[0])


HEADER_SIZE = _HEADER.size

# The value types task data may hold when it is handed to a script (the parent's own data: JSON,
# dates, and what SpiffWorkflow's serializer restores). Nothing else is ever imported by name.
_ALLOWED_CLASSES: dict[tuple[str, str], Any] = {
    ("datetime", "datetime"): datetime,
    ("datetime", "date"): date,
    ("datetime", "time"): time,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
    ("decimal", "Decimal"): Decimal,
    ("uuid", "UUID"): UUID,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
}


class _RequestUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_CLASSES[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"a {module}.{name} cannot be handed to a script") from None


def dump_request(request: dict[str, Any]) -> bytes:
    return pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)


def load_request(data: bytes) -> Any:
    return _RequestUnpickler(io.BytesIO(data)).load()
