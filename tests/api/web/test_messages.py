"""api/web/messages.py: every key the pages use is in the catalogue, fields are filled in, keys read as words."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.web import inbox, messages

API = Path(messages.__file__).resolve().parent.parent
USED = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def used_keys() -> set[str]:
    found: set[str] = set()
    for path in [*API.glob("templates/**/*.html"), *API.glob("web/*.py")]:
        found |= set(USED.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    keys = used_keys()
    assert "work.claim" in keys
    assert sorted(k for k in keys if not k.endswith(".") and not messages.has(k)) == []
    for choices in (inbox.STATES, inbox.OVERDUE, inbox.ORDERS):
        assert all(messages.has(key) for key in choices.values())
    assert all(messages.has(f"task.state.{state}") for state in ("ready", "completed", "cancelled"))


def test_fields_are_filled_in_and_a_missing_key_is_an_error() -> None:
    assert messages.t("work.assigned", name="Marta Gil") == "Marta Gil works on this task now."
    with pytest.raises(KeyError):
        messages.t("no.such.key")


def test_keys_without_a_schema_title_read_as_words() -> None:
    assert messages.field_label("ecvet_points") == "ECVET points"
    assert messages.field_label("due_date") == "Due date"


@pytest.mark.parametrize(("noun", "expected"), [
    ("item", "an item"), ("assessor", "an assessor"), ("unit", "a unit"), ("learning outcome", "a learning outcome"),
    ("ECVET point", "an ECVET point"), ("user", "a user"), ("hour", "an hour"),
])
def test_the_indefinite_article_fits_the_word(noun: str, expected: str) -> None:
    assert messages.with_article(noun) == expected
