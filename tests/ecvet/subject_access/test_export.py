"""The export of everything held about a learner (ecvet/subject_access/export.py), checked against the schema:
for a learner with a full lifecycle, every table the holdings catalogue says holds rows about learners is in the
export with exactly the rows the catalogue finds; a table the catalogue misses is reported; nothing secret and
no raw bytes leave; the guardian may export until the learner's 18th birthday."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, ForeignKey, Integer, Table

from ecvet.documents import i18n, pdf
from ecvet.documents.catalogue import CATALOGUE, TRANSLATED
from ecvet.models import register_tables
from ecvet.privacy import holdings
from ecvet.privacy import service as erasure
from ecvet.subject_access import export, holdings_rows, labels
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import NotFound
from engine.models import Base
from tests.support.privacy_world import LEARNER_NAME, PrivacyWorld, make_privacy_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, frozen: FrozenClock) -> PrivacyWorld:
    return make_privacy_world(db, frozen)


def _key(table: str, row: dict[str, object]) -> tuple[object, ...]:
    columns = [c.name for c in Base.metadata.tables[table].primary_key.columns]
    return tuple(row[c] for c in columns)


def test_the_export_has_every_catalogued_tables_rows_about_the_learner(db: Database, world: PrivacyWorld) -> None:
    learner = world.run.learner
    with db.transaction() as s:  # a request waiting for its answer: the catalogue's one table the world leaves empty
        erasure.request(s, actor=learner, learner_id=world.learner_id)
    with db.transaction() as s:
        held = export.collect(s, actor=learner, learner_id=world.learner_id)
    with db.transaction(write=False) as s:
        expected = holdings.rows_about(s, world.learner_id)
    assert set(held["tables"]) == {h.table for h in holdings.about_learners()} == set(expected)
    for table, rows in expected.items():
        assert rows, f"the full lifecycle leaves no row in {table}"
        exported = {_key(table, r) for r in held["tables"][table]["rows"]}
        # The export's own audit event is written after the rows were read.
        found = {_key(table, export.jsonable(dict(r))) for r in rows
                 if not (table == "audit_events" and r["action"] == "learner.exported")}
        assert exported == found, table
        assert held["tables"][table]["purpose"] == holdings.holding(table).purpose
    assert held["name"] == LEARNER_NAME
    json.dumps(held)  # JSON types throughout


def test_the_schema_check_reports_a_table_the_catalogue_does_not_know() -> None:
    assert holdings_rows.unexported_tables() == []
    register_tables()
    notes = Table("learner_notes", Base.metadata, Column("id", Integer, primary_key=True),
                  Column("learner_id", Integer, ForeignKey("learners.id")))
    try:
        assert holdings_rows.unexported_tables() == ["learner_notes"]
    finally:
        Base.metadata.remove(notes)
    assert holdings_rows.unexported_tables() == []


def test_no_secret_and_no_raw_bytes_leave_and_files_are_listed(db: Database, world: PrivacyWorld) -> None:
    with db.transaction() as s:
        held = export.collect(s, actor=world.run.learner, learner_id=world.learner_id)
    for table in ("users", "api_tokens"):
        assert held["tables"][table]["rows"], table
        for row in held["tables"][table]["rows"]:
            assert not set(row) & export.SECRET_COLUMNS, table
    blobs = held["tables"]["attachment_blobs"]["rows"]
    assert blobs
    assert all(set(b["content"]) == {"bytes", "sha256"} for b in blobs)
    assert held["files"]
    for f in held["files"]:
        assert f["url"] == f"/api/mobilities/{world.run.mobility_id}/evidence-files/{f['id']}/content"
        assert len(f["sha256"]) == 64
        assert f["size"] > 0
        assert f["sha256"] in {b["sha256"] for b in blobs}


def test_the_guardian_exports_until_the_18th_birthday_and_strangers_never(
        db: Database, frozen: FrozenClock, world: PrivacyWorld) -> None:
    guardian = world.run.guardian
    assert guardian is not None
    frozen.set(datetime(2028, 6, 14, 12, 0, tzinfo=UTC))
    with db.transaction() as s:
        assert export.collect(s, actor=guardian, learner_id=world.learner_id)["learner_id"] == world.learner_id
    frozen.set(datetime(2028, 6, 15, 0, 30, tzinfo=UTC))
    with db.transaction() as s, pytest.raises(NotFound):
        export.collect(s, actor=guardian, learner_id=world.learner_id)
    for stranger in (world.other.learner, world.sc.hosting.actor):
        with db.transaction() as s, pytest.raises(NotFound):
            export.collect(s, actor=stranger, learner_id=world.learner_id)
    with db.transaction() as s:
        assert export.collect(s, actor=world.sc.sending.actor, learner_id=world.learner_id)["reads"]


def test_the_pdf_has_the_name_and_a_part_per_kind_of_record(db: Database, world: PrivacyWorld) -> None:
    with db.transaction() as s:
        held = export.collect(s, actor=world.run.learner, learner_id=world.learner_id)
    document = export.as_document(held)
    headings = [s.heading for s in document.sections]
    for part, _tables in export.PDF_PARTS:
        assert part in headings
    assert headings[-2:] == ["Files", "Who read the data"]
    assert document.subtitle == LEARNER_NAME
    body = pdf.render(document)
    assert body.startswith(b"%PDF")


def test_the_german_pdf_has_german_headings_and_labels_in_words(db: Database, world: PrivacyWorld) -> None:
    with db.transaction() as s:
        held = export.collect(s, actor=world.run.learner, learner_id=world.learner_id)
    document = export.as_document(held, i18n.languages("de"))
    headings = [s.heading for s in document.sections]
    assert document.title == "Alle Daten über die lernende Person"
    for german in ("Mobilitäten", "Lernvereinbarungen", "Bewertungen", "Anerkennungen", "Unterschriften", "Konten",
                   "Weitere Datensätze", "Dateien", "Wer die Daten gelesen hat"):
        assert german in headings, german
    assert "Mobilities" not in headings
    field_labels = [label for section in document.sections for label, _value in section.fields]
    assert "Geburtsdatum" in field_labels
    assert "Date of birth" not in field_labels
    assert field_labels
    assert not [label for label in field_labels if "_" in label]
    columns = [c for section in document.sections if section.table for c in section.table.columns]
    assert "Wann" in columns
    assert "When" not in columns
    assert pdf.render(document).startswith(b"%PDF")


def test_every_column_of_the_named_parts_has_a_label_in_every_language() -> None:
    register_tables()
    columns = {c.name for _part, names in export.PDF_PARTS for t in names for c in Base.metadata.tables[t].columns}
    for column in columns - export.SECRET_COLUMNS:
        assert column in labels.LABELS, column
        assert set(CATALOGUE.get(labels.label(column), {})) == set(TRANSLATED), column
    assert labels.label("some_new_column") == "Some new column"
