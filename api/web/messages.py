"""The message catalogue of the pages: every sentence a person reads, by key, in the reader's language.

``t("task.read_document", title=...)`` in Python and templates (a Jinja global). Keys are dotted by
page area; values are ``str.format`` templates with named fields.

* English is the source: ``api/web/catalogue/en.json`` (key -> English text). A new key is added there.
* Every other language is a gettext catalogue, ``api/locale/<language>/LC_MESSAGES/messages.po``, one
  entry per key: ``msgctxt`` the key, ``msgid`` the English text, ``msgstr`` the translation.
  ``ecvet catalogue update`` brings every ``.po`` in line with ``en.json`` (new keys added untranslated,
  keys gone removed, an entry whose English changed marked fuzzy); then fill in the ``msgstr``.
  The ``.po`` files are read directly with Babel once per process (no compiled ``.mo`` a fresh clone
  could lack); an entry that is empty, fuzzy or translates another English text than ``en.json`` has
  now is not used, and the English text shows instead.

A key missing from ``en.json`` is a programming error (KeyError, which the catalogue test catches),
never a code value shown to a person. The reader's language is the one on their profile, else the
browser's ``Accept-Language``, else English (:func:`negotiate`, chosen once per request).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from flask import g, has_request_context
from jinja2 import Environment

from ecvet.documents import i18n as documents_i18n
from engine.parties import LANGUAGES

CATALOGUE_DIR = Path(__file__).with_name("catalogue")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
#: Each language by its own name, as a language chooser shows it.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "es": "Español", "nl": "Nederlands", "fr": "Français",
                  "it": "Italiano"}
TRANSLATED = tuple(language for language in LANGUAGES if language != DEFAULT_LANGUAGE)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def english() -> dict[str, str]:
    """The source: key -> English text."""
    return dict(json.loads((CATALOGUE_DIR / f"{DEFAULT_LANGUAGE}.json").read_text(encoding="utf-8")))


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


@cache
def translations(language: str) -> dict[str, str]:
    """key -> translation of one language, for the entries that translate the English text of today."""
    source = english()
    if language not in TRANSLATED or not po_path(language).exists():
        return {}
    return {str(m.context): str(m.string) for m in read_catalog(language)
            if m.context and m.string and not m.fuzzy and source.get(str(m.context)) == m.id}


def catalogue(language: str | None = None) -> dict[str, str]:
    """The messages of one language (the reader's when none is named), English for what it lacks."""
    return _merged(language or current_language())


@cache
def _merged(language: str) -> dict[str, str]:
    return {**english(), **translations(language)}


def current_language() -> str:
    """The language of this request (chosen by the pages' ``before_request``), English outside one."""
    if has_request_context():
        return str(g.get("language", DEFAULT_LANGUAGE))
    return DEFAULT_LANGUAGE


def document_languages() -> tuple[str, ...]:
    """The languages a document is shown in to this reader: theirs beside English, as the bilingual official
    templates are used (English alone for an English reader)."""
    reader = current_language()
    return (reader, documents_i18n.SOURCE) if reader in documents_i18n.TRANSLATED else (documents_i18n.SOURCE,)


def negotiate(preferred: str | None, accepted: Iterable[str]) -> str:
    """The profile's language, else the first of the browser's languages (``de-AT`` counts as ``de``) we
    speak, else English. `accepted` in the browser's order of preference."""
    if preferred in LANGUAGES:
        return str(preferred)
    for tag in accepted:
        base = tag.replace("_", "-").split("-")[0].strip().lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def t(key: str, /, language: str | None = None, **values: Any) -> str:
    """The sentence `key` with its fields filled in, in `language` (the reader's when none)."""
    return catalogue(language)[key].format(**values)


def has(key: str) -> bool:
    """Whether the catalogue knows `key` (every language has every key: English stands in)."""
    return key in english()


def field_label(key: str, language: str | None = None) -> str:
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
    """`noun` with its indefinite article: "an item", "an assessor", "a unit", "an MoU" (English only:
    other languages phrase "add ..." in their catalogue entry)."""
    word = noun.strip()
    if current_language() != DEFAULT_LANGUAGE:
        return word
    lower = word.lower()
    vowel = lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(_A_BEFORE_VOWEL)
    return f"{'an' if vowel or lower.startswith(_AN_BEFORE_CONSONANT) else 'a'} {word}"


def update_catalogues() -> dict[str, list[str]]:
    """Bring every language's ``.po`` in line with ``en.json``: keys added (untranslated), keys no longer
    in ``en.json`` removed, an entry whose English text changed marked fuzzy. Returns, per language, the
    keys still to translate."""
    source = english()
    todo: dict[str, list[str]] = {}
    for language in TRANSLATED:
        old = {str(m.context): m for m in read_catalog(language) if m.context} if po_path(language).exists() else {}
        fresh = Catalog(locale=language, project="ECVET Flow pages", version="1", charset="utf-8")
        for key, text in source.items():
            known = old.get(key)
            string = str(known.string) if known is not None and known.string else ""
            changed = known is not None and known.id != text
            flags = ["python-brace-format"] if "{" in text else []
            if changed or (known is not None and known.fuzzy):
                flags.append("fuzzy")
            fresh.add(text, string, context=key, flags=flags)
            if not string or "fuzzy" in flags:
                todo.setdefault(language, []).append(key)
        po_path(language).parent.mkdir(parents=True, exist_ok=True)
        with po_path(language).open("wb") as handle:
            write_po(handle, fresh, width=120, omit_header=True, include_previous=False)
    english.cache_clear()
    translations.cache_clear()
    _merged.cache_clear()
    return todo


def status_text(value: object) -> str:
    """A status code (``in_approval``) as the reader's word for it: the catalogue's ``status.<code>``."""
    key = f"status.{value}"
    return t(key) if has(key) else str(value).replace("_", " ")


#: The sentences form validation writes (engine/forms.py, api/web/forms/parse.py), in English, by key;
#: ``{n}`` is the number a sentence carries. The pages say them in the reader's language.
_FIELD_ERRORS = {
    "This field is required": "required", "This field is not part of the form": "not_in_form",
    "Enter an e-mail address, such as name@example.org": "email", "Enter a web address": "url",
    "Enter a date as year-month-day, such as 2027-03-01": "date",
    "Enter a date and time, such as 2027-03-01T09:00:00Z": "datetime",
    "Enter a date and time like 2027-03-01T09:00": "datetime",
    "Enter a web address starting with https://": "https", "Enter a whole number": "integer",
    "Enter a number": "number", "Enter text": "text", "Choose yes or no": "yes_no", "Enter a list": "list",
    "Fill in the group of fields": "group", "Choose one of the options": "choice", "Enter valid JSON": "json",
    "Enter it in the form the field's help describes": "pattern", "Each entry must be different": "unique",
    "Enter a value of the right kind": "kind", "Leave this empty": "empty", "Tick this box to go on": "tick",
    "Choose the value the form asks for": "const", "This value is not accepted here": "not_accepted",
    "Enter it in the form the field asks for": "format",
    "Enter {n} or more": "minimum", "Enter {n} or less": "maximum", "Enter more than {n}": "more_than",
    "Enter less than {n}": "less_than", "Enter at least {n} characters": "min_length",
    "Enter at most {n} characters": "max_length", "Enter at most 1 character": "max_length_one",
    "Add at least {n} entries": "min_items", "Add at least 1 entry": "min_items_one",
    "Keep at most {n} entries": "max_items", "Keep at most 1 entry": "max_items_one",
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def field_error(text: str) -> str:
    """A form validation sentence in the reader's language (``field_error.<key>``); unknown text, and any
    text for an English reader, as it is."""
    if current_language() == DEFAULT_LANGUAGE:
        return text
    number = _NUMBER.search(text)
    shape = _NUMBER.sub("{n}", text, count=1) if number else text
    key = _FIELD_ERRORS.get(text) or _FIELD_ERRORS.get(shape)
    if key is None:
        return text
    return t(f"field_error.{key}", n=number.group(0) if number else "")


def field_errors(errors: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    """Every sentence of a form's errors (field path -> sentences) in the reader's language."""
    return None if errors is None else {path: [field_error(str(m)) for m in said] for path, said in errors.items()}


def value_label(value: Any, key: str) -> Any:
    """A code value in a read-only table cell (column `key`) as words: the catalogue's
    ``value.<key>.<value>`` (``change`` ``replaced`` -> "replaced", ``section`` ``assessment`` ->
    "Assessment arrangements"); any other value as it is."""
    if isinstance(value, str) and has(f"value.{key}.{value}"):
        return t(f"value.{key}.{value}")
    return value


def install(env: Environment) -> None:
    """The catalogue's helpers in a Jinja environment (the app's, or a test's own)."""
    env.globals["t"] = t
    env.globals["current_language"] = current_language
    env.filters["field_label"] = field_label
    env.filters["with_article"] = with_article
    env.filters["status_text"] = status_text
    env.filters["value_label"] = value_label
