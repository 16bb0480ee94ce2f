"""Task forms generated on the server from their JSON Schema, and the posted fields parsed back into data.

Rendering builds a tree of :class:`Field` (one per schema node) that ``macros/form.html`` turns into
labelled inputs; parsing walks the *schema* (never the posted names), so a form can only produce the
properties its schema declares. Input names are the field paths the engine uses in its 422 errors
(``units.0.points``), so each error lands next to its input.

Widgets by schema: ``string`` → text (``textarea`` with ``x-widget: textarea`` or a ``maxLength``
over 300), ``format`` ``date``/``date-time``/``email``/``uri`` → the matching input, ``enum`` (or
``oneOf`` of ``const`` with ``title``) → radios up to three choices, else a select (``x-widget``
``radios``/``select`` decides), ``integer``/``number`` → number, ``boolean`` → checkbox, ``object`` →
fieldset, array of objects → repeatable groups, array of simple values → repeatable inputs, array
of ``enum`` → checkboxes, ``{"type": "integer", "format": "attachment-id"}`` → file input,
``readOnly`` → shown as text and sent back unchanged, ``x-widget: hidden`` → hidden input; anything
else (``oneOf`` of objects...) → a JSON text area. "Add another" and "Remove" are submit buttons
(``_action=add:<path>`` / ``remove:<path>.<index>``), so repeatable groups work without JavaScript.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import parsing

MAX_ITEMS = 200
COUNT_SUFFIX = ".__count"
CURRENT_SUFFIX = ".__current"  # an attachment field's id so far, sent beside its file input
TEXTAREA_OVER = 300


@dataclass
class Field:
    """One input (or group of inputs) of a generated form."""

    path: str
    label: str
    widget: str
    help: str | None = None
    required: bool = False
    value: Any = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    can_add: bool = False
    can_remove: bool = False
    item_label: str = "item"

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def help_id(self) -> str:
        return self.id + "-help"

    @property
    def error_id(self) -> str:
        return self.id + "-error"

    @property
    def count_name(self) -> str:
        return self.path + COUNT_SUFFIX

    @property
    def describedby(self) -> str:
        ids = ([self.help_id] if self.help else []) + ([self.error_id] if self.errors else [])
        return " ".join(ids)

    def text(self) -> str:
        """The value as an input shows it."""
        if self.value is None:
            return ""
        if self.widget == "datetime" and isinstance(self.value, str):
            return _datetime_local(self.value)
        if self.widget == "json" or (self.widget == "readonly" and isinstance(self.value, list | dict)):
            return self.value if isinstance(self.value, str) else json.dumps(self.value, indent=2, ensure_ascii=False)
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    def is_chosen(self, choice: str) -> bool:
        if isinstance(self.value, list):
            return choice in {_choice_key(v) for v in self.value}
        return self.value is not None and _choice_key(self.value) == choice


@dataclass
class Form:
    """A whole generated form: its fields, plus errors that belong to no field (shown at the top)."""

    title: str | None
    description: str | None
    fields: list[Field]
    form_errors: list[str]
    has_files: bool
    error_count: int

    def all_errors(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every error, for the summary linking to each field."""
        out: list[tuple[str, str, str]] = []

        def walk(fields: list[Field]) -> None:
            for f in fields:
                out.extend((f.id, f.label, message) for message in f.errors)
                walk(f.children)

        walk(self.fields)
        return out


@dataclass
class Submission:
    """What a posted form parsed into."""

    data: dict[str, Any]
    raw: dict[str, str]  # text the person typed that is not a valid value yet, by path
    errors: dict[str, list[str]]  # parse errors, by path
    action: tuple[str, str] | None  # ("add", path) or ("remove", "path.index")


# --------------------------------------------------------------------------------------------------
# Schema helpers
# --------------------------------------------------------------------------------------------------


def _resolve(node: Any, root: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """Follow local ``$ref`` (``#/$defs/x``, ``#/definitions/x``); anything else is taken as it is."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and depth < 20:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        if isinstance(target, dict):
            merged = {**_resolve(target, root, depth + 1), **{k: v for k, v in node.items() if k != "$ref"}}
            return merged
    return node


def _type(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if len(kinds) == 1 else None
    return kind if isinstance(kind, str) else None


def _choice_key(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _choices(node: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    if isinstance(node.get("enum"), list):
        names = node.get("x-enumNames") or node.get("enumNames")
        values = node["enum"]
        if isinstance(names, list) and len(names) == len(values):
            return [(v, str(n)) for v, n in zip(values, names, strict=True)]
        return [(v, _humanise(v)) for v in values if v is not None]
    options = node.get("oneOf") or node.get("anyOf")
    if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
        return [(o["const"], str(o.get("title", o["const"]))) for o in options]
    return None


def _humanise(value: Any) -> str:
    """An enum value as a person reads it: 'request_changes' → 'Request changes'."""
    if not isinstance(value, str):
        return str(value)
    words = value.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else value


def _widget(node: Mapping[str, Any]) -> str:
    hint = node.get("x-widget")
    kind = _type(node)
    if hint == "hidden":
        return "hidden"
    if node.get("readOnly"):
        return "readonly"
    choices = _choices(node)
    if choices is not None and kind in ("string", "integer", "number", None):
        if hint in ("radios", "select"):
            return hint
        return "radios" if len(choices) <= 3 else "select"
    if kind == "string":
        fmt = node.get("format")
        if hint == "textarea" or fmt == "textarea":
            return "textarea"
        if fmt == "date":
            return "date"
        if fmt == "date-time":
            return "datetime"
        if fmt == "email":
            return "email"
        if fmt in ("uri", "url", "iri"):
            return "url"
        max_length = node.get("maxLength")
        return "textarea" if isinstance(max_length, int) and max_length > TEXTAREA_OVER else "text"
    if kind == "integer" and node.get("format") == "attachment-id":
        return "file"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "yesno" if hint == "radios" else "checkbox"
    if kind == "object" and isinstance(node.get("properties"), dict):
        return "fieldset"
    if kind == "array" and isinstance(node.get("items"), dict):
        return "array"
    return "json"


def _label(name: str, node: Mapping[str, Any]) -> str:
    title = node.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    words = re.sub(r"[_\-]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


# --------------------------------------------------------------------------------------------------
# Building the form
# --------------------------------------------------------------------------------------------------


def build(schema: Mapping[str, Any] | None, values: Mapping[str, Any] | None = None,
          errors: Mapping[str, list[str]] | None = None, raw: Mapping[str, str] | None = None) -> Form:
    """The form of `schema`, filled with `values`, each error of `errors` next to its field."""
    schema = dict(schema or {})
    errors = {k: list(v) if isinstance(v, list | tuple) else [str(v)] for k, v in (errors or {}).items()}
    used: set[str] = set()
    root = _resolve(schema, schema)
    fields = _object_fields(root, schema, "", dict(values or {}), errors, dict(raw or {}), used)
    leftovers: list[str] = []
    for path, messages in errors.items():
        if path not in used:
            prefix = "" if path in ("_", "", "data") else f"{path}: "
            leftovers.extend(prefix + m for m in messages)
    has_files = _any_widget(fields, "file")
    count = sum(len(v) for v in errors.values())
    return Form(root.get("title") if isinstance(root.get("title"), str) else None,
                root.get("description") if isinstance(root.get("description"), str) else None,
                fields, leftovers, has_files, count)


def _any_widget(fields: list[Field], widget: str) -> bool:
    return any(f.widget == widget or _any_widget(f.children, widget) for f in fields)


def _object_fields(node: Mapping[str, Any], root: Mapping[str, Any], path: str, values: Mapping[str, Any],
                   errors: Mapping[str, list[str]], raw: Mapping[str, str], used: set[str]) -> list[Field]:
    required = set(node.get("required") or [])
    out = []
    for name, child in (node.get("properties") or {}).items():
        child_node = _resolve(child, root)
        value = values.get(name) if isinstance(values, Mapping) else None
        if value is None and "default" in child_node:
            value = child_node["default"]
        out.append(_field(child_node, root, _join(path, name), name, name in required, value, errors, raw, used))
    return out


def _field(node: Mapping[str, Any], root: Mapping[str, Any], path: str, name: str, required: bool, value: Any,
           errors: Mapping[str, list[str]], raw: Mapping[str, str], used: set[str]) -> Field:
    widget = _widget(node)
    description = node.get("description") if isinstance(node.get("description"), str) else None
    f = Field(path=path, label=_label(name, node), widget=widget, help=description, required=required)
    if path in errors:
        f.errors = list(errors[path])
        used.add(path)
    f.value = raw.get(path, value)
    choices = _choices(node)
    if choices is not None:
        f.choices = [(_choice_key(v), label) for v, label in choices]
    if widget == "number":
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if isinstance(node.get(key), int | float):
                f.attrs[attr] = node[key]
        f.attrs["step"] = "1" if _type(node) == "integer" else "any"
    elif widget in ("text", "textarea", "email", "url"):
        for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
            if isinstance(node.get(key), int):
                f.attrs[attr] = node[key]
    elif widget == "fieldset":
        f.children = _object_fields(node, root, path, value if isinstance(value, Mapping) else {}, errors, raw,
                                    used)
    elif widget == "array":
        _array(f, node, root, value, errors, raw, used)
    return f


def _array(f: Field, node: Mapping[str, Any], root: Mapping[str, Any], value: Any,
           errors: Mapping[str, list[str]], raw: Mapping[str, str], used: set[str]) -> None:
    items = _resolve(node.get("items"), root)
    choices = _choices(items)
    if choices is not None:
        f.widget = "checkboxes"
        f.choices = [(_choice_key(v), label) for v, label in choices]
        f.value = value if isinstance(value, list) else []
        return
    values = value if isinstance(value, list) else []
    min_items = node.get("minItems") if isinstance(node.get("minItems"), int) else 0
    max_items = min(node.get("maxItems") if isinstance(node.get("maxItems"), int) else MAX_ITEMS, MAX_ITEMS)
    count = max(len(values), min_items, 1 if f.required else 0)
    f.widget = "group-list" if _widget(items) == "fieldset" else "list"
    f.item_label = str(items.get("title") or "item").lower() if f.widget == "group-list" else "value"
    f.can_add = count < max_items
    for index in range(count):
        item_value = values[index] if index < len(values) else None
        item = _field(items, root, _join(f.path, index), str(index), True, item_value, errors, raw, used)
        item.label = f"{items.get('title') or f.label} {index + 1}"
        item.can_remove = count > min_items
        f.children.append(item)


# --------------------------------------------------------------------------------------------------
# Parsing a posted form
# --------------------------------------------------------------------------------------------------


class _Missing:
    pass


MISSING = _Missing()


def parse(schema: Mapping[str, Any] | None, form: Any, files: Any = None) -> Submission:
    """The posted fields (a werkzeug MultiDict) as data shaped by `schema`; empty inputs are left out.

    Text that is not a valid value (``abc`` in a number) is kept in ``raw`` to show again, with an
    error, and left out of the data. `files` (uploads by path) are handled by the caller."""
    schema = dict(schema or {})
    raw: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    root = _resolve(schema, schema)
    data = _parse_object(root, schema, "", form, raw, errors)
    action = None
    requested = form.get("_action", "") if hasattr(form, "get") else ""
    kind, _, target = str(requested).partition(":")
    if kind in ("add", "remove") and target:
        action = (kind, target)
    return Submission(data if isinstance(data, dict) else {}, raw, errors, action)


def _parse_object(node: Mapping[str, Any], root: Mapping[str, Any], path: str, form: Any,
                  raw: dict[str, str], errors: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, child in (node.get("properties") or {}).items():
        value = _parse_value(_resolve(child, root), root, _join(path, name), form, raw, errors)
        if value is not MISSING:
            out[name] = value
    return out


def _text(form: Any, path: str) -> str | None:
    value = form.get(path)
    if value is None:
        return None
    return str(value).replace("\r\n", "\n")


def _parse_value(node: Mapping[str, Any], root: Mapping[str, Any], path: str, form: Any,
                 raw: dict[str, str], errors: dict[str, list[str]]) -> Any:
    widget = _widget(node)
    kind = _type(node)
    if widget == "fieldset":
        value = _parse_object(node, root, path, form, raw, errors)
        return value if value else MISSING
    if widget == "array":
        return _parse_array(node, root, path, form, raw, errors)
    if widget == "checkbox":
        return form.get(path) in ("true", "on", "1")
    text = _text(form, path + CURRENT_SUFFIX if widget == "file" else path)
    if text is None or text.strip() == "":
        return MISSING
    if widget == "json" or (widget == "readonly" and kind in ("array", "object")):
        try:
            return parsing.loads_field(text)  # the API's limits: depth, NUL, lone surrogates
        except ValueError:
            raw[path] = text
            errors.setdefault(path, []).append("Enter valid JSON")
            return MISSING
    choices = _choices(node)
    if choices is not None:
        for value, _label_text in choices:
            if _choice_key(value) == text:
                return value
        raw[path] = text
        errors.setdefault(path, []).append("Choose one of the options")
        return MISSING
    if widget == "yesno" or kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        errors.setdefault(path, []).append("Choose yes or no")
        return MISSING
    if kind in ("integer", "number") or widget == "file":
        return _number(text.strip(), kind or "integer", path, raw, errors)
    if widget == "datetime":
        return _to_utc(text.strip(), path, raw, errors)
    if kind == "string" and widget not in ("textarea", "readonly", "hidden"):
        return text.strip()
    return text


def _number(text: str, kind: str, path: str, raw: dict[str, str], errors: dict[str, list[str]]) -> Any:
    try:
        if kind == "integer":
            value = float(text)
            if not value.is_integer():
                raise ValueError(text)
            return int(value)
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(text)
        return int(number) if re.fullmatch(r"-?\d+", text) else number
    except ValueError:
        raw[path] = text
        errors.setdefault(path, []).append("Enter a whole number" if kind == "integer" else "Enter a number")
        return MISSING


def _to_utc(text: str, path: str, raw: dict[str, str], errors: dict[str, list[str]]) -> Any:
    """A datetime-local value is read as UTC (the pages show every time in UTC) and sent with its zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raw[path] = text
        errors.setdefault(path, []).append("Enter a date and time like 2027-03-01T09:00")
        return MISSING
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _datetime_local(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="minutes")


def _parse_array(node: Mapping[str, Any], root: Mapping[str, Any], path: str, form: Any,
                 raw: dict[str, str], errors: dict[str, list[str]]) -> Any:
    items = _resolve(node.get("items"), root)
    choices = _choices(items)
    if choices is not None:
        picked = set(form.getlist(path)) if hasattr(form, "getlist") else set()
        chosen = [value for value, _ in choices if _choice_key(value) in picked]
        return chosen if chosen or form.get(path + COUNT_SUFFIX) is not None else MISSING
    try:
        count = int(form.get(path + COUNT_SUFFIX, "0"))
    except ValueError:
        count = 0
    count = max(0, min(count, MAX_ITEMS))
    if count == 0 and form.get(path + COUNT_SUFFIX) is None:
        return MISSING
    out = []
    simple = _widget(items) != "fieldset"
    for index in range(count):
        value = _parse_value(items, root, _join(path, index), form, raw, errors)
        if value is MISSING:
            if simple:
                continue  # an empty line of a list of values is no value
            value = {}
        out.append(value)
    return out


# --------------------------------------------------------------------------------------------------
# "Add another" and "Remove" without JavaScript
# --------------------------------------------------------------------------------------------------


def _container(data: Any, path: list[str]) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def apply_action(schema: Mapping[str, Any] | None, data: dict[str, Any], action: tuple[str, str]) -> dict[str, Any]:
    """Add an empty item to, or remove one from, a repeatable group; the data is shown again, not saved."""
    kind, target = action
    parts = target.split(".")
    if kind == "add":
        parent, name = _container(data, parts[:-1]), parts[-1]
        node = schema_at(schema or {}, parts)
        if not isinstance(parent, dict) and not (isinstance(parent, list) and name.isdigit()):
            return data
        items = _resolve((node or {}).get("items"), schema or {})
        empty: Any = {} if _widget(items) == "fieldset" else None
        current = parent.get(name) if isinstance(parent, dict) else parent[int(name)]
        current = list(current) if isinstance(current, list) else []
        declared = schema_at(schema or {}, parts) or {}
        shown = max(len(current), declared.get("minItems") or 0 if isinstance(declared.get("minItems"), int) else 0)
        current.extend([empty] * (shown - len(current)))
        if len(current) < MAX_ITEMS:
            current.append(empty)
        if isinstance(parent, dict):
            parent[name] = current
        else:
            parent[int(name)] = current
    elif kind == "remove" and len(parts) >= 2 and parts[-1].isdigit():
        owner = _container(data, parts[:-1])
        index = int(parts[-1])
        if isinstance(owner, list) and index < len(owner):
            owner.pop(index)
    return data


def focus_after(data: dict[str, Any], action: tuple[str, str]) -> str:
    """The id of the element to focus once an item was added (the new one) or removed (its list)."""
    kind, target = action
    if kind == "add":
        items = _container(data, target.split("."))
        return Field(_join(target, max(len(items) - 1, 0)) if isinstance(items, list) else target, "", "").id
    return Field(target.rpartition(".")[0] or target, "", "").id


def is_attachment_field(schema: Mapping[str, Any] | None, path: str) -> bool:
    """True when `path` is an attachment input of the form: only those may receive an uploaded file."""
    node = schema_at(schema or {}, path.split("."))
    return node is not None and _widget(node) == "file"


def schema_at(schema: Mapping[str, Any], parts: list[str]) -> dict[str, Any] | None:
    """The (resolved) schema of the field at a path such as ``units.0.code``."""
    node: Any = _resolve(schema, schema)
    for part in parts:
        if part.isdigit():
            node = _resolve(node.get("items"), schema) if isinstance(node, dict) else None
        else:
            node = _resolve((node.get("properties") or {}).get(part), schema) if isinstance(node, dict) else None
        if not node:
            return None
    return node
