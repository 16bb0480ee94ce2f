"""ecvet/mail.py: the domain's e-mails (MoU escalation, Europass Mobility sign-off) in the recipient's
language, English when that is unset or not translated."""
from __future__ import annotations

from datetime import UTC, datetime

from ecvet.europass import sign_off
from ecvet.europass.models import EuropassMobility
from ecvet.mail import MAIL
from ecvet.partnership import deadlines
from ecvet.partnership.models import Mou
from engine.config import ROOT
from engine.models import Organisation, User
from tests.support.mailtexts import msgids_used, problems

USERS = ("ecvet/partnership/deadlines.py", "ecvet/europass/sign_off.py", "ecvet/privacy/answer.py")


def test_every_text_of_the_domains_mails_is_translated_in_all_five_languages_with_its_fields() -> None:
    used = set().union(*(msgids_used(ROOT / path) for path in USERS))
    assert len(used) > 10
    assert problems(MAIL, used) == []


def person(language: str | None) -> User:
    return User(name="Jana", email="jana@school.example", language=language)


def escalation(language: str | None) -> tuple[str, str]:
    mou = Mou(id=7, business_key="MOU-2027-7")
    mail = deadlines._mail(person(language), mou, Organisation(name="IHK Köln"),  # noqa: SLF001 - one message
                           datetime(2027, 3, 29, 9, 0, tzinfo=UTC), 2)
    return mail.subject, mail.body


def europass(language: str | None) -> tuple[str, str]:
    row = EuropassMobility(id=3, mobility_id=5, content_hash="ab12", content={
        "europass_mobility_number": "EM-2027-3", "holder": {"name": "Lea Braun"},
        "host_organisation": {"name": "Hotel Sol"}, "sending_organisation": {"name": "Berufsschule"}})
    mail = sign_off.compose(person(language), row)
    return mail.subject, mail.body


def test_an_escalation_to_a_german_reader_is_german_in_subject_and_body() -> None:
    subject, body = escalation("de")
    assert subject == "[ECVET] ESKALIERT: Die Genehmigung der Vereinbarung (MoU) MOU-2027-7 durch IHK Köln ist " \
        "überfällig"
    assert body.startswith("Hallo Jana,\n\nIHK Köln musste Version 2 der Vereinbarung (MoU) MOU-2027-7 bis "
                           "2027-03-29 09:00 UTC genehmigen oder ablehnen")
    assert "Die Genehmigungsaufgabe bleibt offen." in body
    assert "Please" not in body
    assert "This message" not in body


def test_a_europass_sign_off_to_a_german_reader_is_german_in_subject_and_body() -> None:
    subject, body = europass("de")
    assert subject == "[ECVET] Europass Mobilität zur Freigabe: EM-2027-3 (Lea Braun)"
    assert body.splitlines()[:3] == ["Hallo Jana,", "", "Der Europass Mobilität EM-2027-3 von Lea Braun wurde "
                                     "ausgestellt und wartet auf die Freigabe der aufnehmenden Einrichtung "
                                     "(Hotel Sol) und der entsendenden Einrichtung (Berufsschule)."]
    assert "SHA-256 des Textes: ab12" in body
    assert "Öffnen: " in body
    assert "/mobilities/5/europass-mobility" in body


def test_every_language_writes_its_own_words_and_an_unknown_or_unset_one_writes_english() -> None:
    english = escalation("en"), europass("en")
    assert english[0][0] == "[ECVET] ESCALATED: approval of MoU MOU-2027-7 by IHK Köln is overdue"
    assert english[1][0] == "[ECVET] Europass Mobility to sign off: EM-2027-3 (Lea Braun)"
    assert english[1][1].startswith("Hello Jana,\n\nThe Europass Mobility EM-2027-3 of Lea Braun has been issued")
    for unknown in (None, "pt", "xx"):
        assert (escalation(unknown), europass(unknown)) == english
    for language in ("de", "es", "nl", "fr", "it"):
        written = escalation(language), europass(language)
        for mine, theirs in zip(written, english, strict=True):
            assert mine[0] != theirs[0]
            for line, source in zip(mine[1].splitlines(), theirs[1].splitlines(), strict=True):
                assert line != source or line == "", (language, line)
