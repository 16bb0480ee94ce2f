"""Reading a form's JSON Schema: local references, the type and choices of a node, and its widget."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

TEXTAREA_OVER = 300  # a string longer than this is a text area
RADIOS_UP_TO = 3  # choices shown as radios; more are a select
MAX_REF_DEPTH = 20  # $ref followed this deep, no further (a loop of references ends)
#: The widget of a string by its ``format`` (or ``x-widget: textarea``).
STRING_FORMATS = {"textarea": "textarea", "date": "date", "date-time": "datetime", "email": "email",
                  "uri": "url", "url": "url", "iri": "url"}


def resolve(node: Any, root: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """Follow local ``$ref`` (``#/$defs/x``, ``#/definitions/x``); anything else is taken as it is."""
    if not isinstance(node, dict):
        return {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and depth < MAX_REF_DEPTH:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        if isinstance(target, dict):
            merged = {**resolve(target, root, depth + 1), **{k: v for k, v in node.items() if k != "$ref"}}
            return merged
    return node


def kind_of(node: Mapping[str, Any]) -> str | None:
    """The node's JSON type; one of several (beside "null") is no single type."""
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if len(kinds) == 1 else None
    return kind if isinstance(kind, str) else None


def choice_key(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def choices_of(node: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    if isinstance(node.get("enum"), list):
        names = node.get("x-enumNames") or node.get("enumNames")
        values = node["enum"]
        if isinstance(names, list) and len(names) == len(values):
            return [(v, str(n)) for v, n in zip(values, names, strict=True)]
        return [(v, humanise(v)) for v in values if v is not None]
    options = node.get("oneOf") or node.get("anyOf")
    if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
        return [(o["const"], str(o.get("title", o["const"]))) for o in options]
    return None


def humanise(value: Any) -> str:
    """An enum value as a person reads it: 'request_changes' → 'Request changes'."""
    if not isinstance(value, str):
        return str(value)
    words = value.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else value


def widget(node: Mapping[str, Any]) -> str:
    """The input a node is shown as (see the package docstring)."""
    hint = node.get("x-widget")
    kind = kind_of(node)
    if hint == "hidden" or node.get("readOnly"):
        return "hidden" if hint == "hidden" else "readonly"
    choices = choices_of(node)
    if choices is not None and kind in ("string", "integer", "number", None):
        if hint in ("radios", "select"):
            return hint
        return "radios" if len(choices) <= RADIOS_UP_TO else "select"
    if kind == "string":
        return _string_widget(node, hint)
    return _other_widget(node, hint, kind)


def _string_widget(node: Mapping[str, Any], hint: Any) -> str:
    fmt = node.get("format")
    if hint == "textarea":
        return "textarea"
    if isinstance(fmt, str) and fmt in STRING_FORMATS:
        return STRING_FORMATS[fmt]
    max_length = node.get("maxLength")
    return "textarea" if isinstance(max_length, int) and max_length > TEXTAREA_OVER else "text"


def _other_widget(node: Mapping[str, Any], hint: Any, kind: str | None) -> str:
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


def label_of(name: str, node: Mapping[str, Any]) -> str:
    title = node.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    words = re.sub(r"[_\-]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def schema_at(schema: Mapping[str, Any], parts: list[str]) -> dict[str, Any] | None:
    """The (resolved) schema of the field at a path such as ``units.0.code``."""
    node: Any = resolve(schema, schema)
    for part in parts:
        if part.isdigit():
            node = resolve(node.get("items"), schema) if isinstance(node, dict) else None
        else:
            node = resolve((node.get("properties") or {}).get(part), schema) if isinstance(node, dict) else None
        if not node:
            return None
    return node
