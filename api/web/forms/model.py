"""A generated form as the template (``macros/form.html``) reads it: the form, its fields, a posted form."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .schema import choice_key

MAX_ITEMS = 200
COUNT_SUFFIX = ".__count"
CURRENT_SUFFIX = ".__current"  # an attachment field's id so far, sent beside its file input


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
    suggestions: list[str] = field(default_factory=list)  # offered while typing (a datalist), not binding
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
            return choice in {choice_key(v) for v in self.value}
        return self.value is not None and choice_key(self.value) == choice


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


def _datetime_local(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="minutes")
