"""Audit entries as a person reads them: a sentence per action from the catalogue, details as labelled
values; never a Python dict (``parties={'sending': {...}}``), a code or a raw id in a sentence."""
from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from .messages import catalogue, field_label, has, t

#: Keys the sentence already says or a person has no use for (ids of rows, the BPMN element).
HIDDEN = {"bpmn_id", "data", "task_id", "instance_id", "claimed_by", "previously_claimed_by", "comment_id"}
_HASH = re.compile(r"^[0-9a-f]{40,}$")
_MAX_ITEMS = 6


class _Fields(dict[str, str]):
    """Fields the event did not record read as a dash instead of failing."""

    def __missing__(self, key: str) -> str:
        return "—"


def _sequence_text(value: list[Any] | tuple[Any, ...]) -> str:
    if all(not isinstance(v, Mapping | list) for v in value):
        return ", ".join(value_text(v) for v in value[:_MAX_ITEMS]) + (" …" if len(value) > _MAX_ITEMS else "")
    return t("audit.entries", count=len(value))


def _scalar_text(value: Any) -> str:
    text = str(value)
    if _HASH.match(text):
        return text[:12] + "…"
    return text.replace("_", " ") if re.fullmatch(r"[a-z]+(_[a-z]+)+", text) else text


def value_text(value: Any) -> str:
    """One recorded value in words: codes humanised, hashes shortened, structures summarised."""
    if value is None or value == "":
        said = "—"
    elif isinstance(value, bool):
        said = t("form.yes") if value else t("form.no")
    elif isinstance(value, Mapping):
        said = ", ".join(field_label(str(k)) for k in list(value)[:_MAX_ITEMS]) or "—"
    elif isinstance(value, list | tuple):
        said = _sequence_text(value)
    else:
        said = _scalar_text(value)
    return said


def sentence(action: str, detail: Mapping[str, Any], *, task: str | None, names: Mapping[int, str]) -> str:
    """The entry's sentence: ``audit.<action>`` from the catalogue, else the action in words."""
    key = f"audit.{action}"
    if not has(key):
        return field_label(action.replace(".", " "))
    fields = _Fields({k: value_text(v) for k, v in detail.items()})
    fields["task"] = task or t("audit.a_task")
    claimed = detail.get("claimed_by")
    fields["colleague"] = names.get(claimed, t("audit.a_colleague")) if isinstance(claimed, int) else "—"
    return catalogue()[key].format_map(fields)


def details(action: str, detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What else the entry recorded, as (label, value) pairs, without what the sentence says."""
    template = catalogue().get(f"audit.{action}", "")
    said = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return [(field_label(k), value_text(v)) for k, v in detail.items()
            if k not in HIDDEN and k not in said and not k.endswith("_id")]
