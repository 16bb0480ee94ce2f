"""The documents' gettext catalogues (ecvet/locale/<language>/LC_MESSAGES/documents.po): every fixed text
translated in every language, with the same parts that vary ({0}, {1})."""
from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from ecvet.documents import i18n
from ecvet.documents.catalogue import CATALOGUE, TRANSLATED, po_path

PLACEHOLDER = re.compile(r"\{\d\}")


def _entries(language: str) -> dict[str, str]:
    with po_path(language).open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id and not m.fuzzy}


def test_documents_are_written_in_six_languages() -> None:
    assert i18n.LANGUAGES == ("en", "de", "es", "nl", "fr", "it")


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_fixed_text_is_translated_with_the_same_placeholders(language: str) -> None:
    entries = _entries(language)
    assert set(entries) == set(CATALOGUE)  # every language translates the same texts
    assert [msgid for msgid, text in entries.items() if not text.strip()] == []
    assert [msgid for msgid, text in entries.items()
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))] == []


def test_french_and_italian_keep_what_varies() -> None:
    assert i18n.say("Page 2 of 3", ("fr", "en")) == "Page 2 sur 3 / Page 2 of 3"
    assert i18n.say("Qualification 1: Cook", ("it",)) == "Qualificazione 1: Cook"
    assert i18n.say("achieved", ("it", "en")) == "conseguito / achieved"
