"""A posted form (a werkzeug MultiDict) back into data shaped by its JSON Schema.

Parsing walks the *schema*, never the posted names, so a form can only produce the properties its
schema declares. Text that is not a valid value yet is kept to be shown again, with its error.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ... import parsing
from .model import COUNT_SUFFIX, CURRENT_SUFFIX, MAX_ITEMS, Submission
from .schema import choice_key, choices_of, join, kind_of, resolve, widget


class _Missing:
    pass


MISSING = _Missing()


@dataclass
class _Reading:
    """One posted form being read: the whole schema, the posted fields, and what did not parse."""

    root: Mapping[str, Any]
    form: Any
    raw: dict[str, str]
    errors: dict[str, list[str]]

    def refuse(self, path: str, text: str | None, message: str) -> _Missing:
        """Keep `text` to show again (when given) with `message` next to its field; no value."""
        if text is not None:
            self.raw[path] = text
        self.errors.setdefault(path, []).append(message)
        return MISSING


def parse(schema: Mapping[str, Any] | None, form: Any) -> Submission:
    """The posted fields (a werkzeug MultiDict) as data shaped by `schema`; empty inputs are left out.

    Text that is not a valid value (``abc`` in a number) is kept in ``raw`` to show again, with an
    error, and left out of the data. Uploaded files are the caller's (they go to attachments first)."""
    schema = dict(schema or {})
    reading = _Reading(schema, form, {}, {})
    data = _parse_object(resolve(schema, schema), "", reading)
    action = None
    requested = form.get("_action", "") if hasattr(form, "get") else ""
    kind, _, target = str(requested).partition(":")
    if kind in ("add", "remove") and target:
        action = (kind, target)
    return Submission(data if isinstance(data, dict) else {}, reading.raw, reading.errors, action)


def _parse_object(node: Mapping[str, Any], path: str, reading: _Reading) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, child in (node.get("properties") or {}).items():
        value = _parse_value(resolve(child, reading.root), join(path, name), reading)
        if value is not MISSING:
            out[name] = value
    return out


def _text(form: Any, path: str) -> str | None:
    value = form.get(path)
    if value is None:
        return None
    return str(value).replace("\r\n", "\n")


def _parse_value(node: Mapping[str, Any], path: str, reading: _Reading) -> Any:
    shown = widget(node)
    if shown == "fieldset":
        value = _parse_object(node, path, reading)
        return value if value else MISSING
    if shown == "array":
        return _parse_array(node, path, reading)
    if shown == "checkbox":
        return reading.form.get(path) in ("true", "on", "1")
    text = _text(reading.form, path + CURRENT_SUFFIX if shown == "file" else path)
    if text is None or text.strip() == "":
        return MISSING
    return _typed(text, path, node, shown=shown, reading=reading)


def _typed(text: str, path: str, node: Mapping[str, Any], *, shown: str, reading: _Reading) -> Any:
    """The value of a non-empty input: JSON, a choice, yes/no, a number, a time or text."""
    kind = kind_of(node)
    if shown == "json" or (shown == "readonly" and kind in ("array", "object")):
        return _json(text, path, reading)
    choices = choices_of(node)
    if choices is not None:
        chosen = [value for value, _label in choices if choice_key(value) == text]
        return chosen[0] if chosen else reading.refuse(path, text, "Choose one of the options")
    if shown == "yesno" or kind == "boolean":
        return text == "true" if text in ("true", "false") else reading.refuse(path, None, "Choose yes or no")
    if kind in ("integer", "number") or shown == "file":
        return _number(text.strip(), kind or "integer", path, reading)
    if shown == "datetime":
        return _to_utc(text.strip(), path, reading)
    return text.strip() if kind == "string" and shown not in ("textarea", "readonly", "hidden") else text


def _json(text: str, path: str, reading: _Reading) -> Any:
    try:
        return parsing.loads_field(text)  # the API's limits: depth, NUL, lone surrogates
    except ValueError:
        return reading.refuse(path, text, "Enter valid JSON")


def _number(text: str, kind: str, path: str, reading: _Reading) -> Any:
    try:
        if kind == "integer":
            value = float(text)
            if not value.is_integer():
                raise ValueError(text)
            return int(value)
        number = float(text)
        if math.isnan(number) or number in (float("inf"), float("-inf")):
            raise ValueError(text)
        return int(number) if re.fullmatch(r"-?\d+", text) else number
    except ValueError:
        return reading.refuse(path, text, "Enter a whole number" if kind == "integer" else "Enter a number")


def _to_utc(text: str, path: str, reading: _Reading) -> Any:
    """A datetime-local value is read as UTC (the pages show every time in UTC) and sent with its zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return reading.refuse(path, text, "Enter a date and time like 2027-03-01T09:00")
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _parse_array(node: Mapping[str, Any], path: str, reading: _Reading) -> Any:
    form = reading.form
    items = resolve(node.get("items"), reading.root)
    choices = choices_of(items)
    if choices is not None:
        picked = set(form.getlist(path)) if hasattr(form, "getlist") else set()
        chosen = [value for value, _ in choices if choice_key(value) in picked]
        return chosen if chosen or form.get(path + COUNT_SUFFIX) is not None else MISSING
    try:
        count = int(form.get(path + COUNT_SUFFIX, "0"))
    except ValueError:
        count = 0
    count = max(0, min(count, MAX_ITEMS))
    if count == 0 and form.get(path + COUNT_SUFFIX) is None:
        return MISSING
    out = []
    simple = widget(items) != "fieldset"
    for index in range(count):
        value = _parse_value(items, join(path, index), reading)
        if value is MISSING:
            if simple:
                continue  # an empty line of a list of values is no value
            value = {}
        out.append(value)
    return out
