"""PDF rendering: a valid PDF whose text (any EU script) can be read back, with the reference hash,
signatures, page numbers and generation time; deterministic; a missing font is a clear error."""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest

from ecvet.documents import pdf, service
from ecvet.documents.model import Document, Reference, Section, Signature, Table
from engine import clock
from engine.clock import FrozenClock
from engine.config import settings
from engine.db import Database
from engine.parties import Actor
from tests.support import images
from tests.support.ecvet_worlds import (
    BULGARIAN_HOTEL,
    CZECH_SCHOOL,
    DANISH_HOTEL,
    GREEK_HOTEL,
    LEARNER_NAME,
    LIFECYCLE_LEARNER,
    RecordsWorld,
    make_lifecycle_world,
    make_records_world,
)

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
GENERATED = datetime(2027, 2, 1, 8, 30, tzinfo=UTC)


def read(data: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def flat(value: str) -> str:
    """Text without line breaks: a long value may wrap anywhere in a table cell."""
    return "".join(value.split())


def valid(signatures: str) -> list[str]:
    """Whether each signature block says it counts for the version printed."""
    return [line.rsplit(" ", 1)[-1] for line in signatures.splitlines() if line.startswith("Valid for this version")]


def handmade(**overrides: object) -> Document:
    values: dict[str, object] = dict(
        kind="transcript", record_id=7, title="Learner's Personal Transcript",
        subtitle="Šťastný Ørsted · Βασιλική Οικονόμου · Стефан Стоянов",
        reference=Reference("T-7", None, "ab" * 32, "document"), issued_at=datetime(2027, 4, 9, 16, 0, tzinfo=UTC),
        sections=[
            Section("Learner", [("Name", "Šťastný Ørsted"), ("Host", "Ξενοδοχείο Ήλιος Αθήνα")]),
            Section("Results", table=Table(["Unit", "Result", "ECVET points"],
                                           [["U1", "achieved", "12"], ["U2", "not achieved", "4"]])),
            Section("Comment", text="Très bien — ganz gut."),
        ],
        signatures=[Signature("Hosting organisation: Хотел (BG)", "Иван Петров", "Управител", "ivan@hotel.example",
                              datetime(2027, 4, 9, 17, 0, tzinfo=UTC), "explicit", "ab" * 32, True, None,
                              "Sofia"),
                    Signature("Competent institution: Junta (ES)", None, None, None,
                              datetime(2027, 4, 30, 0, 0, tzinfo=UTC), "implicit", "cd" * 32, False, 1)],
        data={"id": 7}, status="issued",
    )
    values.update(overrides)
    return Document(**values)  # type: ignore[arg-type]


# --- without a database ------------------------------------------------------------------------------


def test_pdf_is_valid_and_carries_every_script_the_eu_needs() -> None:
    data = pdf.render(handmade(), generated_at=GENERATED)
    assert data.startswith(b"%PDF-")
    reader, content = read(data)
    assert len(reader.pages) == 1
    for expected in ("Learner's Personal Transcript", "Šťastný Ørsted", "Ξενοδοχείο Ήλιος Αθήνα", "Стефан Стоянов",
                     "Иван Петров", "Управител", "not achieved", "Très bien — ganz gut.", "Page 1 of 1",
                     "Generated 2027-02-01 08:30 UTC", "Reference T-7", "Status: issued"):
        assert expected in content, expected
    for expected in ("implicit (no objection in time)", "cd" * 32, "Sofia, 2027-04-09 17:00 UTC"):
        assert flat(expected) in flat(content), expected  # the full hash signed, place and date of signing
    signatures = content[content.index("\nSignatures\n"):]
    assert valid(signatures) == ["yes", "no"]
    assert ("ab" * 32) in flat(content)
    # PDF/A-2U keeps the document's metadata in XMP (no Info dictionary)
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert xmp.dc_title == {"x-default": "Learner's Personal Transcript"}
    assert xmp.xmp_create_date == datetime(2027, 2, 1, 8, 30)
    assert b"<pdfaid:part>2</pdfaid:part>" in data
    assert b"<pdfaid:conformance>U</pdfaid:conformance>" in data
    assert b"/OutputIntents" in data  # the sRGB output intent PDF/A asks for


def test_same_document_and_time_give_the_same_bytes() -> None:
    first = pdf.render(handmade(), generated_at=GENERATED)
    assert pdf.render(handmade(), generated_at=GENERATED) == first
    assert pdf.render(handmade(), generated_at=datetime(2027, 2, 2, tzinfo=UTC)) != first
    # Without a generation time the document's own issue time is used: still deterministic.
    assert pdf.render(handmade()) == pdf.render(handmade())


def test_long_documents_flow_over_pages_with_numbers() -> None:
    rows = [[f"U{i}", "Preparing cold dishes " * 3, str(i)] for i in range(120)]
    data = pdf.render(handmade(sections=[Section("Units", table=Table(["Unit", "Title", "ECVET points"], rows))]),
                      generated_at=GENERATED)
    reader, content = read(data)
    pages = len(reader.pages)
    assert pages > 2
    assert f"Page {pages} of {pages}" in content
    assert "U119" in content
    assert "U0" in content


def test_characters_outside_the_font_are_visible_not_dropped() -> None:
    data = pdf.render(handmade(subtitle="Learner 王小明"), generated_at=GENERATED)
    _, content = read(data)
    assert "Learner \ufffd\ufffd\ufffd" in content
    # The JSON export keeps the name exactly.
    assert handmade(subtitle="Learner 王小明").as_json()["subtitle"] == "Learner 王小明"


def test_a_missing_font_fails_naming_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(pdf.FontMissingError, match="fonts-dejavu-core") as error:
        pdf.render(handmade(), font_dir=tmp_path)
    assert str(tmp_path / "DejaVuSans.ttf") in error.value.message
    assert error.value.status == 503


def test_the_letterhead_heads_the_first_page_with_logo_and_address() -> None:
    head = pdf.Letterhead("Berufskolleg Rhein", "Rheinallee 1\n50667 Köln", images.png(300, 100), (300, 100))
    data = pdf.render(handmade(), generated_at=GENERATED, letterhead=head)
    reader, content = read(data)
    assert content.index("Berufskolleg Rhein") < content.index("Rheinallee 1") < content.index("50667 Köln") \
        < content.index("Learner's Personal Transcript")
    assert len(reader.pages[0].images) == 1
    assert pdf.render(handmade(), generated_at=GENERATED, letterhead=head) == data  # still deterministic


EMAILS = ["maria.fernandez-garcia@hotel-sol-de-valencia.example", "jonas.keller@learner.example",
          "international.office@berufskolleg-rhein.example"]


def test_no_word_is_broken_mid_word_even_in_narrow_columns() -> None:
    columns = ["Unit", "Assessor", "E-mail", "Method", "Date", "Result", "Grade", "Points", "Evidence"]
    rows = [[f"U{i}", "Dr. María Fernández García", EMAILS[i % 3], "observation", "2027-03-18",
             "achieved", "sehr gut", "12", "Photographs of the Mediterranean buffet"] for i in range(6)]
    document = handmade(sections=[Section("Results", [("Contact", EMAILS[0])], table=Table(columns, rows))])
    _, content = read(pdf.render(document, generated_at=GENERATED))
    lines = content.splitlines()
    for email in EMAILS:  # each address whole on one line, never split across two
        assert any(email in line for line in lines), email
    assert ("cd" * 32) in content  # a full hash on one line too


def test_columns_are_at_least_as_wide_as_their_longest_word() -> None:
    printer = pdf.FPDF(unit="mm", format="A4")
    for style, name in pdf.FONT_FILES.items():
        printer.add_font(pdf.FAMILY, style, str(settings().font_dir / name))
    printer.set_margins(18, 16, 18)
    cells = [["Unit", "E-mail", "Comment"], ["U1", EMAILS[0], "short words only here " * 8]]
    size, widths = pdf.fit_columns(printer, cells, size=8, pad=2, bold_first_row=True)
    printer.set_font(pdf.FAMILY, "", size)
    assert widths[1] >= printer.get_string_width(EMAILS[0]) + 2
    assert sum(widths) == pytest.approx(printer.epw)


# --- documents built from the records ----------------------------------------------------------------


@pytest.fixture
def world(db: Database) -> Iterator[RecordsWorld]:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        yield make_records_world(db, frozen)
    finally:
        clock.use(previous)


def build(db: Database, actor: Actor, kind: str, record_id: int, version: int | None = None) -> Document:
    with db.transaction(write=False) as s:
        return service.build(s, actor=actor, kind=kind, record_id=record_id, version=version)


def test_mou_pdf_shows_partners_units_hash_and_which_signatures_count(db: Database, world: RecordsWorld) -> None:
    document = build(db, world.sending.actor, "mou", world.mou_id)
    _, content = read(pdf.render(document, generated_at=GENERATED))
    for expected in ("Memorandum of Understanding", GREEK_HOTEL, BULGARIAN_HOTEL, "Γιώργος Παπαδόπουλος",
                     "Διευθυντής", "Jörg Müller", "Preparing cold dishes", "Hygiene", "Version 2",
                     "Status: active", "Review meeting of the partners every spring"):
        assert flat(expected) in flat(content), expected
    assert world.mou_hashes[1] in flat(content)
    # Five signatures: the school's of version 1 no longer counts, the four of version 2 do.
    signatures = content[content.index("\nSignatures\n"):]
    assert world.mou_hashes[0] in flat(signatures)  # the full hash each signature was given for
    assert world.mou_hashes[1] in flat(signatures)
    assert valid(signatures) == ["no", "yes", "yes", "yes", "yes"]


def test_la_pdf_shows_the_learner_units_and_points(db: Database, world: RecordsWorld) -> None:
    document = build(db, world.mobility.learner, "learning-agreement", world.la_id, version=1)
    _, content = read(pdf.render(document, generated_at=GENERATED))
    for expected in ("Learning Agreement", LEARNER_NAME, BULGARIAN_HOTEL, "Мария Иванова", "Total ECVET points 16",
                     "Prepares cold starters to recipe", "Version 1", "superseded by version 2"):
        assert flat(expected) in flat(content), expected
    signatures = content[content.index("\nSignatures\n"):]
    assert valid(signatures) == ["yes", "yes", "yes", "no"]
    assert world.la_hashes[0] in flat(content)


def test_transcript_pdf_shows_results_and_the_hash_to_check(db: Database) -> None:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        life = make_lifecycle_world(db, frozen, "ready")
    finally:
        clock.use(previous)
    assert life.transcript_id is not None
    assert life.transcript_hash is not None
    document = build(db, life.sending.actor, "transcript", life.transcript_id)
    _, content = read(pdf.render(document, generated_at=GENERATED))
    for expected in ("Learner's Personal Transcript", LIFECYCLE_LEARNER, DANISH_HOTEL, CZECH_SCHOOL, "Søren Ørsted",
                     "Køkkenchef", "ECVET points achieved 16", "ready for recognition", "Photos of the buffet"):
        assert flat(expected) in flat(content), expected
    assert life.transcript_hash in flat(content)
