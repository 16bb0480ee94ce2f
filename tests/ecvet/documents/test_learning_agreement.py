"""The Learning Agreement document (ecvet/documents/learning_agreement.py): every field of the official
templates that the parties sign is printed, in the document's sections and in its PDF."""
from __future__ import annotations

import io

import pypdf

from ecvet.documents import i18n, learning_agreement, pdf, service
from ecvet.documents.model import Document
from ecvet.mobility import la_content
from engine.db import Database
from tests.support.learning_agreement_case import TEMPLATE_CONTENT, Case, make_case


def _document(case: Case) -> Document:
    la_id = case.prepare(TEMPLATE_CONTENT)
    with case.db.transaction(write=False) as s:
        return service.build(s, actor=case.sending.actor, kind="learning-agreement", record_id=la_id)


def _fields(document: Document, heading: str) -> dict[str, str]:
    return {label: value for s in document.sections if s.heading == heading for label, value in s.fields}


def _rows(document: Document, heading: str) -> list[list[str]]:
    return [row for s in document.sections if s.heading == heading and s.table for row in s.table.rows]


def test_every_signed_field_of_the_template_is_printed(db: Database) -> None:
    document = _document(make_case(db))
    assert _fields(document, "Mobility") == {"Mobility ID": "MOB-2027-000123",
                                              "Project code": "2027-1-NL01-KA122-VET-000042"}
    participants = _fields(document, "Participants")
    assert (participants["Gender"], participants["Telephone"]) == ("female", "+31 6 1234 5678")
    assert participants["Address"] == "Kade 12, 1011 AB Amsterdam"
    assert participants["Sending organisation: contact person"] == "Sanne de Vries"
    assert participants["Sending organisation: telephone"] == "+31 20 555 0101"
    assert participants["Hosting organisation: e-mail"] == "jan.peeters@hotel.example"
    assert participants["Hosting organisation: position"] == "Chef"
    qualification = _fields(document, "Qualification being taken")
    assert (qualification["NQF level"], qualification["Title in the partnership language"]) == ("4", "Cuisinier (fr)")
    units = _rows(document, "Units of learning outcomes to be achieved abroad")
    assert units[0][4] == "Cold starters and salads"
    assert units[1][3] == "Knowledge: Knows the HACCP principles"
    assessment = _fields(document, "Assessment")
    assert assessment["Where"] == "Hotel kitchen in Brussels"  # signed, so printed
    assert assessment["Assessment criteria"] == "Dishes follow the recipe and the hygiene rules"
    assert _rows(document, "Validation and recognition") == [
        ["Pieter Jansen", "Sending school", "Head of department", "validation"],
        ["Els Bakker", "Sending school", "Examination board", "recognition"]]
    assert _fields(document, "Annexes") == {"Europass CV": "yes", "Europass Language Passport": "yes",
                                             "Units already acquired": "no", "Other": "Safety induction of the hotel"}


def test_the_pdf_prints_what_was_signed(db: Database) -> None:
    document = _document(make_case(db))
    reader = pypdf.PdfReader(io.BytesIO(pdf.render(document)))
    printed = "".join("".join(page.extract_text() for page in reader.pages).split())
    for value in ("MOB-2027-000123", "2027-1-NL01-KA122-VET-000042", "HotelkitcheninBrussels",
                  "Dishesfollowtherecipeandthehygienerules", "PieterJansen", "EuropassLanguagePassport",
                  "Cuisinier(fr)", "+31612345678", document.content_hash):
        assert value in printed


def test_what_a_version_changed_is_said_in_words_never_codes() -> None:
    """Every part of the text a version may replace has the template's name, and the kinds of change
    are catalogue words (the document's language, not 'replaced' in every language)."""
    assert set(learning_agreement._LA_SECTIONS) == set(la_content.SECTIONS)
    assert i18n.say("replaced", ("de",)) == "ersetzt"
    assert i18n.say(learning_agreement._LA_SECTIONS["contact_persons"], ("nl",)) == "Contactpersonen"
