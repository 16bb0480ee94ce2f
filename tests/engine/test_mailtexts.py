"""engine/mailtexts.py: e-mail texts in the recipient's language, English when that is not translated."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import mailtexts
from engine.config import ROOT
from engine.mailtexts import ENGINE, MailCatalogue
from engine.parties import LANGUAGES
from tests.support.mailtexts import msgids_used, problems


@pytest.mark.parametrize(("preferred", "language"), [
    ("de", "de"), ("DE", "de"), ("de-AT", "de"), ("fr_BE", "fr"), ("it", "it"), ("nl", "nl"), ("es", "es"),
    ("en", "en"), (None, "en"), ("", "en"), ("pt", "en"), ("xx-unknown", "en"),
])
def test_the_recipients_language_or_english(preferred: str | None, language: str) -> None:
    assert mailtexts.language_of(preferred) == language


def test_a_text_is_written_in_the_language_with_its_fields_and_falls_back_to_english() -> None:
    assert ENGINE.text("de", "[ECVET] New task: {task} ({process})", task="Unterschreiben {x}", process="p / k") \
        == "[ECVET] Neue Aufgabe: Unterschreiben {x} (p / k)"  # a value with braces is kept as it is
    assert ENGINE.text("pt", "Hello {name},", name="Ana") == "Hello Ana,"
    assert ENGINE.text(None, "Hello {name},", name="Ana") == "Hello Ana,"
    assert ENGINE.text("fr", "A text nobody translated {n}", n=1) == "A text nobody translated 1"


def test_every_text_of_the_task_notices_is_translated_in_all_five_languages_with_its_fields() -> None:
    used = msgids_used(ROOT / "engine" / "notifications.py")
    assert len(used) > 15
    assert problems(ENGINE, used) == []


def test_the_check_finds_a_missing_untranslated_or_mismatched_text(tmp_path: Path) -> None:
    for language in mailtexts.TRANSLATED:
        po = tmp_path / language / "LC_MESSAGES" / "mail.po"
        po.parent.mkdir(parents=True)
        po.write_text('msgid "Hello {name},"\nmsgstr "Hallo {nom},"\n\nmsgid "Bye"\nmsgstr ""\n', encoding="utf-8")
    found = problems(MailCatalogue(tmp_path), {"Hello {name},", "Bye", "New"})
    assert "de: missing 'New'" in found
    assert "it: untranslated 'Bye'" in found
    assert "fr: fields of 'Hello {name},' differ: ['nom'] != ['name']" in found


def test_every_language_a_profile_may_name_has_its_e_mails() -> None:
    assert set(LANGUAGES) == {mailtexts.SOURCE, *mailtexts.TRANSLATED}
