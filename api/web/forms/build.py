"""The form of a JSON Schema, filled with values, each error next to its field."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import MAX_ITEMS, Field, Form
from .schema import choice_key, choices_of, join, kind_of, label_of, resolve, widget


@dataclass
class _Filling:
    """What every field of one form is built with: the whole schema, the errors, the text typed so far, and
    the error paths a field took (the rest are shown at the top)."""

    root: Mapping[str, Any]
    errors: Mapping[str, list[str]]
    raw: Mapping[str, str]
    used: set[str]


def build(schema: Mapping[str, Any] | None, values: Mapping[str, Any] | None = None,
          errors: Mapping[str, list[str]] | None = None, raw: Mapping[str, str] | None = None) -> Form:
    """The form of `schema`, filled with `values`, each error of `errors` next to its field."""
    schema = dict(schema or {})
    errors = {k: list(v) if isinstance(v, list | tuple) else [str(v)] for k, v in (errors or {}).items()}
    filling = _Filling(schema, errors, dict(raw or {}), set())
    root = resolve(schema, schema)
    fields = _object_fields(root, "", dict(values or {}), filling)
    leftovers: list[str] = []
    for path, messages in errors.items():
        if path not in filling.used:
            prefix = "" if path in ("_", "", "data") else f"{path}: "
            leftovers.extend(prefix + m for m in messages)
    # An attachment field inside an array may have no item yet (added in the page): the form still uploads.
    has_files = _any_widget(fields, "file") or _asks_for_files(root, schema, depth=0)
    count = sum(len(v) for v in errors.values())
    return Form(root.get("title") if isinstance(root.get("title"), str) else None,
                root.get("description") if isinstance(root.get("description"), str) else None,
                fields, leftovers, has_files, count)


def _any_widget(fields: list[Field], shown: str) -> bool:
    return any(f.widget == shown or _any_widget(f.children, shown) for f in fields)


_FILE_SEARCH_DEPTH = 20


def _asks_for_files(node: Any, root: Mapping[str, Any], *, depth: int) -> bool:
    """Whether the schema has an attachment field anywhere (``$ref`` cycles end at a fixed depth)."""
    node = resolve(node, root)
    if not node or depth > _FILE_SEARCH_DEPTH:
        return False
    if node.get("format") == "attachment-id":
        return True
    children = [*(node.get("properties") or {}).values(), node.get("items")]
    return any(_asks_for_files(c, root, depth=depth + 1) for c in children if isinstance(c, Mapping))


def _object_fields(node: Mapping[str, Any], path: str, values: Mapping[str, Any], filling: _Filling) -> list[Field]:
    required = set(node.get("required") or [])
    out = []
    for name, child in (node.get("properties") or {}).items():
        child_node = resolve(child, filling.root)
        value = values.get(name) if isinstance(values, Mapping) else None
        if value is None and "default" in child_node:
            value = child_node["default"]
        out.append(_field(child_node, join(path, name), name, required=name in required, value=value,
                          filling=filling))
    return out


def _field(node: Mapping[str, Any], path: str, name: str, *, required: bool, value: Any,
           filling: _Filling) -> Field:
    shown = widget(node)
    description = node.get("description") if isinstance(node.get("description"), str) else None
    f = Field(path=path, label=label_of(name, node), widget=shown, help=description, required=required)
    if path in filling.errors:
        f.errors = list(filling.errors[path])
        filling.used.add(path)
    f.value = filling.raw.get(path, value)
    choices = choices_of(node)
    if choices is not None:
        f.choices = [(choice_key(v), label) for v, label in choices]
    if shown == "number":
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if isinstance(node.get(key), int | float):
                f.attrs[attr] = node[key]
        f.attrs["step"] = "1" if kind_of(node) == "integer" else "any"
    elif shown in ("text", "textarea", "email", "url"):
        for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
            if isinstance(node.get(key), int):
                f.attrs[attr] = node[key]
        f.suggestions = _suggestions(node)
    elif shown == "fieldset":
        f.children = _object_fields(node, path, value if isinstance(value, Mapping) else {}, filling)
    elif shown == "array":
        _array(f, node, value, filling)
    return f


def _array(f: Field, node: Mapping[str, Any], value: Any, filling: _Filling) -> None:
    items = resolve(node.get("items"), filling.root)
    choices = choices_of(items)
    if choices is not None:
        f.widget = "checkboxes"
        f.choices = [(choice_key(v), label) for v, label in choices]
        f.value = value if isinstance(value, list) else []
        return
    values = value if isinstance(value, list) else []
    min_items = _whole(node, "minItems", 0)
    max_items = min(_whole(node, "maxItems", MAX_ITEMS), MAX_ITEMS)
    count = max(len(values), min_items, 1 if f.required else 0)
    f.widget = "group-list" if widget(items) == "fieldset" else "list"
    f.item_label = str(items.get("title") or "item").lower() if f.widget == "group-list" else "value"
    f.can_add = count < max_items
    for index in range(count):
        item_value = values[index] if index < len(values) else None
        item = _field(items, join(f.path, index), str(index), required=True, value=item_value, filling=filling)
        item.label = f"{items.get('title') or f.label} {index + 1}"
        item.can_remove = count > min_items
        f.children.append(item)


def _suggestions(node: Mapping[str, Any]) -> list[str]:
    """Values offered while typing (``x-suggestions``, filled from task data when shown): each once."""
    offered = node.get("x-suggestions")
    if not isinstance(offered, list):
        return []
    values = [str(o["const"]) for o in offered if isinstance(o, dict) and isinstance(o.get("const"), str | int)]
    return list(dict.fromkeys(values))


def _whole(node: Mapping[str, Any], key: str, default: int) -> int:
    value = node.get(key)
    return value if isinstance(value, int) else default
