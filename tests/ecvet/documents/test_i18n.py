"""Documents in the partners' languages (ecvet/documents/i18n.py): the template's fixed texts in German,
Spanish or Dutch, or two languages side by side; typed text, names and hashes as they are; the PDF too."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
import pytest

from ecvet.documents import i18n, pdf, service
from ecvet.documents.catalogue import CATALOGUE, TRANSLATED
from ecvet.documents.model import Document
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Invalid
from tests.support.ecvet_worlds import make_lifecycle_world
from tests.support.learning_agreement_case import TEMPLATE_CONTENT, Case, make_case

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _agreement(case: Case, langs: tuple[str, ...]) -> Document:
    la_id = case.prepare(TEMPLATE_CONTENT)
    with case.db.transaction(write=False) as s:
        return service.build(s, actor=case.sending.actor, kind="learning-agreement", record_id=la_id,
                             languages=langs)


def _labels(document: Document) -> list[str]:
    return [document.title, *(s.heading for s in document.sections),
            *(label for s in document.sections for label, _ in s.fields),
            *(c for s in document.sections if s.table for c in s.table.columns)]


def test_the_learning_agreement_in_spanish_keeps_what_people_typed(db: Database) -> None:
    document = _agreement(make_case(db), ("es",))
    assert document.title == "Acuerdo de Aprendizaje"
    assert document.languages == ("es",)
    assessment = {label: value for s in document.sections if s.heading == "Evaluación" for label, value in s.fields}
    assert assessment["Dónde"] == "Hotel kitchen in Brussels"  # typed: as typed
    annexes = {label: value for s in document.sections if s.heading == "Anexos" for label, value in s.fields}
    assert annexes["CV Europass"] == "sí"
    assert document.as_json()["languages"] == ["es"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_fixed_text_of_the_learning_agreement_is_translated(db: Database, language: str) -> None:
    english = _agreement(make_case(db), ("en",))
    translated = _agreement(make_case(db), (language,))
    untranslated = [label for label, wording in zip(_labels(english), _labels(translated), strict=True)
                    if label == wording and CATALOGUE.get(label, {}).get(language) != label]
    assert untranslated == []


def test_bilingual_side_by_side_and_the_pdf_follows(db: Database) -> None:
    document = _agreement(make_case(db), ("de", "en"))
    assert document.title == "Lernvereinbarung / Learning Agreement"
    assert "Mobilitäts-ID / Mobility ID" in [label for s in document.sections for label, _ in s.fields]
    assert [s.party for s in document.signatures] == []
    reader = pypdf.PdfReader(io.BytesIO(pdf.render(document)))
    printed = "".join("".join(page.extract_text() for page in reader.pages).split())
    for wording in ("Lernvereinbarung/LearningAgreement", "Unterschriften/Signatures", "Seite1von",
                    "MOB-2027-000123", document.content_hash):
        assert wording in printed


def test_patterns_keep_what_varies() -> None:
    assert i18n.say("Signing organisation 2", ("nl",)) == "Ondertekenende organisatie 2"
    assert i18n.say("Qualification 1: Cook", ("de", "en")) == "Qualifikation 1: Cook / Qualification 1: Cook"
    assert i18n.say("Hotel kitchen", ("de",)) == "Hotel kitchen"


@pytest.mark.parametrize("asked", ["pt", "de,es,en", "de,de", ",", "xx"])
def test_unknown_or_too_many_languages_are_refused(asked: str) -> None:
    assert i18n.languages(None) == i18n.languages("") == ("en",)
    with pytest.raises(Invalid) as refused:
        i18n.languages(asked)
    assert "lang" in refused.value.errors


def test_the_catalogue_has_every_language_for_every_text() -> None:
    for english, wordings in CATALOGUE.items():
        assert set(wordings) == set(TRANSLATED), english
        assert all(w.strip() for w in wordings.values()), english
        assert all(w.count("{") == english.count("{") for w in wordings.values()), english


@pytest.mark.parametrize("kind", ["transcript", "assessment-sheet", "recognition-record"])
def test_the_mobility_records_are_translated_too(db: Database, frozen: FrozenClock, kind: str) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    record = {"transcript": life.transcript_id, "assessment-sheet": life.sheet_ids[0],
              "recognition-record": life.mobility_id}[kind]
    assert record is not None
    with db.transaction(write=False) as s:
        english = service.build(s, actor=life.sending.actor, kind=kind, record_id=record)
        dutch = service.build(s, actor=life.sending.actor, kind=kind, record_id=record, languages=("nl",))
    untranslated = [label for label, wording in zip(_labels(english), _labels(dutch), strict=True)
                    if label == wording and CATALOGUE.get(label, {}).get("nl") != label]
    assert untranslated == []
