"""The message catalogue of the pages: every sentence a person reads, by key, one JSON file per language.

``t("task.read_document", title=...)`` in Python and templates (a Jinja global). Keys are dotted by
page area; values are ``str.format`` templates with named fields. English is the only language so far
and the fallback of any other; a key missing from the catalogue is a programming error (KeyError, which
the catalogue test catches), never a code value shown to a person.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment

CATALOGUE_DIR = Path(__file__).with_name("catalogue")
DEFAULT_LANGUAGE = "en"


@cache
def catalogue(language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The messages of one language, falling back to English for keys it does not translate."""
    english = json.loads((CATALOGUE_DIR / f"{DEFAULT_LANGUAGE}.json").read_text(encoding="utf-8"))
    path = CATALOGUE_DIR / f"{language}.json"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return dict(english)
    return {**english, **json.loads(path.read_text(encoding="utf-8"))}


def t(key: str, language: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """The sentence `key` with its fields filled in."""
    return catalogue(language)[key].format(**values)


def has(key: str, language: str = DEFAULT_LANGUAGE) -> bool:
    return key in catalogue(language)


def field_label(key: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A data key shown as a heading where no schema titles it: the catalogue's ``field.<key>``, else the
    key in words (``ecvet_points`` -> "ECVET points" from the catalogue, ``due_date`` -> "Due date")."""
    known = catalogue(language).get(f"field.{key}")
    if known is not None:
        return known
    words = str(key).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


# "a unit", "a user", "a European...", "an hour"... are irregular; these cover the words our forms use.
_A_BEFORE_VOWEL = ("uni", "use", "usu", "eu", "one")
_AN_BEFORE_CONSONANT = ("hour", "honour", "ecvet", "eqf", "mou", "nqf")


def with_article(noun: str) -> str:
    """`noun` with its indefinite article: "an item", "an assessor", "a unit", "an MoU"."""
    word = noun.strip()
    lower = word.lower()
    vowel = lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(_A_BEFORE_VOWEL)
    return f"{'an' if vowel or lower.startswith(_AN_BEFORE_CONSONANT) else 'a'} {word}"


def install(env: Environment) -> None:
    """The catalogue's helpers in a Jinja environment (the app's, or a test's own)."""
    env.globals["t"] = t
    env.filters["field_label"] = field_label
    env.filters["with_article"] = with_article
