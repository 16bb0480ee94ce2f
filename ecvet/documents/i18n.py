"""Documents in the partners' languages: the fixed texts of a :class:`~ecvet.documents.model.Document`
in one language, or in two side by side ("Lernvereinbarung / Learning Agreement") as the official
templates are used between partners. Only the catalogue's texts change (:mod:`ecvet.documents.catalogue`):
what people typed, names, dates and hashes stay as they are.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from ecvet.documents.catalogue import CATALOGUE, TRANSLATED
from ecvet.documents.model import Document, Section, Signature, Table
from engine.errors import Invalid

SOURCE = "en"
#: Every language a document can be written in.
LANGUAGES = (SOURCE, *TRANSLATED)
#: At most two languages side by side (the partner's and English, as the bilingual templates are).
MAX_LANGUAGES = 2
SEPARATOR = " / "

_PATTERNS = [
    (re.compile("^" + re.escape(key).replace(r"\{0\}", "(.+?)").replace(r"\{1\}", "(.+)") + "$"), key)
    for key in CATALOGUE if "{0}" in key
]


def languages(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The languages asked for (``"de"``, ``"es,en"``), checked; English when none (422 otherwise)."""
    if not value:
        return (SOURCE,)
    asked = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    unknown = [v for v in asked if v not in LANGUAGES]
    if unknown or not asked or len(asked) > MAX_LANGUAGES or len(set(asked)) != len(asked):
        raise Invalid("Unknown or too many languages", errors={"lang": [
            f"One or two different languages of {', '.join(LANGUAGES)}, e.g. es,en"]})
    return tuple(asked)


def _one(english: str, language: str) -> str:
    if language == SOURCE:
        return english
    found = CATALOGUE.get(english)
    if found is not None:
        return found.get(language, english)
    for pattern, key in _PATTERNS:
        match = pattern.match(english)
        if match:
            return CATALOGUE[key].get(language, key).format(*match.groups())
    return english


def say(english: str, langs: Sequence[str]) -> str:
    """`english` in the languages `langs`, joined when they differ; unchanged when not in the catalogue."""
    said: list[str] = []
    for language in langs:
        wording = _one(english, language)
        if wording not in said:
            said.append(wording)
    return SEPARATOR.join(said)


def _value(value: str, langs: Sequence[str]) -> str:
    """A field's value: fixed words (yes, no, achieved...) are the catalogue's, typed text is not."""
    return say(value, langs) if value in CATALOGUE else value


def _section(section: Section, langs: Sequence[str]) -> Section:
    table = section.table
    if table is not None:
        table = Table([say(c, langs) for c in table.columns],
                      [[_value(cell, langs) for cell in row] for row in table.rows])
    return Section(say(section.heading, langs), [(say(label, langs), _value(value, langs))
                                                   for label, value in section.fields], table, section.text)


def localise(document: Document, langs: Sequence[str]) -> Document:
    """The document with its fixed texts in `langs` (see :func:`languages`)."""
    if tuple(langs) == (SOURCE,):
        return document
    signatures = [dataclasses.replace(s, party=_party(s, langs)) for s in document.signatures]
    return dataclasses.replace(document, title=say(document.title, langs),
                               sections=[_section(s, langs) for s in document.sections], signatures=signatures,
                               languages=tuple(langs))


def _party(signature: Signature, langs: Sequence[str]) -> str:
    """"Sending organisation: Berufskolleg Rhein": the role is a fixed text, the name is not."""
    role, sep, name = signature.party.partition(": ")
    return f"{say(role, langs)}{sep}{name}"
