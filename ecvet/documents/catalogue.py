"""The message catalogue of documents: the fixed texts of the templates in English (the source) and their
German, Spanish, Dutch, French and Italian wording, one gettext catalogue per language in
``ecvet/locale/<language>/LC_MESSAGES/documents.po``.

A ``msgid`` is the English text a builder writes; one with ``{0}``, ``{1}`` holds the parts that vary (a
number, a title), which are kept as they are. Texts people typed are never msgids: they stay as typed. A
text without a translation stays English (see :mod:`ecvet.documents.i18n`).

The ``.po`` files are read directly (Babel's ``read_po``) once per process rather than compiled to
``.mo``: there is no build step a fresh clone, a test run or a worktree could miss, and the catalogue is
a dictionary lookup either way (a few hundred texts).
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

#: Languages documents are written in, besides the English source.
TRANSLATED = ("de", "es", "nl", "fr", "it")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "documents"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _translations(language: str) -> dict[str, str]:
    """msgid -> msgstr of one language's catalogue; empty and fuzzy entries are not translations."""
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def _load() -> dict[str, dict[str, str]]:
    by_language = {language: _translations(language) for language in TRANSLATED}
    english = sorted({msgid for texts in by_language.values() for msgid in texts})
    return {msgid: {language: by_language[language][msgid] for language in TRANSLATED
                    if msgid in by_language[language]} for msgid in english}


#: English text -> {language: wording}, for the languages that translate it.
CATALOGUE: dict[str, dict[str, str]] = _load()
