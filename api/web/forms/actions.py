""""Add another" and "Remove" without JavaScript: submit buttons that change the data shown again, not saved."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import MAX_ITEMS, Field
from .schema import join, resolve, schema_at, widget


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
        items = resolve((node or {}).get("items"), schema or {})
        empty: Any = {} if widget(items) == "fieldset" else None
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
    elif kind == "remove" and len(parts) > 1 and parts[-1].isdigit():
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
        return Field(join(target, max(len(items) - 1, 0)) if isinstance(items, list) else target, "", "").id
    return Field(target.rpartition(".")[0] or target, "", "").id


def is_attachment_field(schema: Mapping[str, Any] | None, path: str) -> bool:
    """True when `path` is an attachment input of the form: only those may receive an uploaded file."""
    node = schema_at(schema or {}, path.split("."))
    return node is not None and widget(node) == "file"
