"""The e-mail catalogues: every text of an e-mail in English (the source) and in German, Spanish, Dutch,
French and Italian, written in the recipient's language (``users.language``, else English).

A catalogue is a set of gettext files ``<locale dir>/<language>/LC_MESSAGES/mail.po`` whose ``msgid`` is
the English text with named fields (``{task}``, ``{due}``) that the code fills in. The engine keeps its own
(the task notices, ``engine/locale``); the domain keeps the texts of its own e-mails next to its documents
(``ecvet/locale``) and reads them through the same class, so no layer reaches up for another's texts.

The ``.po`` files are read with Babel once per process, as the documents' catalogue is: no compile step a
fresh clone or a test run could miss. A text without a translation stays English.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

#: Languages e-mails are written in, besides the English source.
TRANSLATED = ("de", "es", "nl", "fr", "it")
SOURCE = "en"
DOMAIN = "mail"


def language_of(preferred: str | None) -> str:
    """The language to write to a person who prefers `preferred` (a tag such as 'de' or 'de-AT'); English
    when it is unset or not one we translate into."""
    base = (preferred or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in TRANSLATED else SOURCE


class MailCatalogue:
    """The e-mail texts kept under one locale directory."""

    def __init__(self, locale_dir: Path) -> None:
        self.locale_dir = locale_dir

    def po_path(self, language: str) -> Path:
        return self.locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"

    def entries(self, language: str) -> dict[str, str]:
        """msgid -> msgstr of one language's file, empty and fuzzy entries included as ''."""
        with self.po_path(language).open("rb") as handle:
            catalog = read_po(handle, locale=language)
        return {str(m.id): ("" if m.fuzzy else str(m.string or "")) for m in catalog if m.id}

    @cached_property
    def translations(self) -> dict[str, dict[str, str]]:
        """language -> {English text: its wording}, without the untranslated ones."""
        return {language: {msgid: text for msgid, text in self.entries(language).items() if text}
                for language in TRANSLATED}

    def text(self, language: str | None, msgid: str, **fields: Any) -> str:
        """`msgid` in `language` (English when that is not translated) with its fields filled in."""
        wording = self.translations.get(language_of(language), {}).get(msgid, msgid)
        return wording.format(**fields)

    def writer(self, language: str | None) -> MailWriter:
        return MailWriter(self, language_of(language))


class MailWriter:
    """A catalogue bound to one recipient's language: ``_("Hello {name},", name=...)``."""

    def __init__(self, catalogue: MailCatalogue, language: str) -> None:
        self.catalogue = catalogue
        self.language = language

    def __call__(self, msgid: str, **fields: Any) -> str:
        return self.catalogue.text(self.language, msgid, **fields)


#: The engine's own e-mails: the notices of tasks assigned, nearly due and overdue.
ENGINE = MailCatalogue(Path(__file__).resolve().parent / "locale")
