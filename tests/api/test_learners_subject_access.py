"""Issue 16 items 2 and 5 through HTTP: every document read (each kind, JSON and PDF, API and page) is in the
audit trail and in the learner's reads log with the reader; GET /api/learners/{id}/reads lists who looked for
the learner only; GET /api/learners/{id}/export gives everything held, as JSON or PDF, to who may have it."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
from flask import Flask
from sqlalchemy import select

from ecvet.subject_access.models import PersonalDataRead
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent
from engine.parties import Actor
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.api.web.conftest import browser_for
from tests.support.ecvet_factories import Party
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER
from tests.support.factories import PASSWORD, Person
from tests.support.subject_access_world import make_all_documents

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
ABOUT_NO_LEARNER = {"mou", "partnership-review"}


def person(who: Party | Actor) -> Person:
    actor = who.actor if isinstance(who, Party) else who
    return Person(actor.user_id, actor.email, PASSWORD)


def caller(app: Flask, who: Party | Actor) -> Caller:
    return sign_in(app.test_client(), person(who))


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_every_document_read_through_the_api_and_the_pages_is_written_down(
        app: Flask, db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    reader = world.life.sending
    api = caller(app, reader)
    page = browser_for(app, person(reader))
    ways = {
        "api-json": lambda k, i: api.get(f"/api/documents/{k}/{i}"),
        "api-pdf": lambda k, i: api.get(f"/api/documents/{k}/{i}?format=pdf"),
        "page": lambda k, i: page.get(f"/documents/{k}/{i}"),
        "page-pdf": lambda k, i: page.get(f"/documents/{k}/{i}.pdf"),
        "page-json": lambda k, i: page.get(f"/documents/{k}/{i}.json"),
    }
    for kind, record_id in world.records.items():
        for way, read in ways.items():
            with db.transaction(write=False) as s:
                last = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
                last_read = s.scalar(select(PersonalDataRead.id).order_by(PersonalDataRead.id.desc()).limit(1)) or 0
            response = read(kind, record_id)
            assert response.status_code == 200, (kind, way, response.data[:300])
            with db.transaction(write=False) as s:
                events = [(e.actor_id, e.detail["kind"], e.detail["record_id"]) for e in s.scalars(
                    select(AuditEvent).where(AuditEvent.id > last, AuditEvent.action == "document.read")
                    .order_by(AuditEvent.id))]
                logged = [(r.learner_id, r.actor_user_id, r.what, r.record_id) for r in s.scalars(
                    select(PersonalDataRead).where(PersonalDataRead.id > last_read).order_by(PersonalDataRead.id))]
            assert events == [(reader.user_id, kind, record_id)], (kind, way)
            expected = [] if kind in ABOUT_NO_LEARNER else [(world.learner_id, reader.user_id, kind, record_id)]
            assert logged == expected, (kind, way)


def test_the_learner_lists_who_looked_and_nobody_else_may(app: Flask, db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    other = make_all_documents(db, frozen)
    sender = caller(app, world.life.sending)
    assert sender.get(f"/api/learners/{world.learner_id}").status_code == 200
    assert sender.get(f"/api/documents/transcript/{world.records['transcript']}").status_code == 200
    learner = caller(app, world.life.learner)
    assert learner.get(f"/api/documents/certificate/{world.learner_id}").status_code == 200
    body = learner.get(f"/api/learners/{world.learner_id}/reads?limit=2").get_json()
    assert [(r["what"], r["reader_email"], r["by_learner"]) for r in body["items"]] == [
        ("certificate", world.life.learner.email, True), ("transcript", world.life.sending.email, False)]
    rest = learner.get(f"/api/learners/{world.learner_id}/reads?limit=2&cursor={body['next_cursor']}").get_json()
    assert [r["what"] for r in rest["items"]] == ["learner"]
    assert rest["items"][0]["organisation_id"] == world.life.sending.org_id
    others = learner.get(f"/api/learners/{world.learner_id}/reads?others_only=true").get_json()
    assert [r["what"] for r in others["items"]] == ["transcript", "learner"]
    for stranger in (caller(app, other.life.learner), sender, caller(app, world.life.outsider)):
        assert_problem(stranger.get(f"/api/learners/{world.learner_id}/reads"), 404)
    assert_problem(learner.get(f"/api/learners/{world.learner_id}/reads?limit=0"), 422)
    assert_problem(learner.get(f"/api/learners/{world.learner_id}/reads?cursor=%%%"), 422)


def test_the_export_is_for_the_learner_and_the_sending_organisation(app: Flask, db: Database,
                                                                    frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    other = make_all_documents(db, frozen)
    url = f"/api/learners/{world.learner_id}/export"
    for stranger in (caller(app, other.life.learner), caller(app, world.life.hosting),
                     caller(app, world.life.outsider), caller(app, other.life.sending)):
        assert_problem(stranger.get(url), 404)
    assert_problem(caller(app, world.life.learner).get(url + "?format=xml"), 422)
    sent = caller(app, world.life.sending).get(url)
    assert sent.status_code == 200
    assert sent.headers["Cache-Control"] == "private, no-store"
    held = caller(app, world.life.learner).get(url).get_json()
    assert (held["learner_id"], held["name"]) == (world.learner_id, LIFECYCLE_LEARNER)
    assert [r["id"] for r in held["tables"]["learners"]["rows"]] == [world.learner_id]
    assert held["tables"]["learners"]["heading"]
    assert [r["id"] for r in held["tables"]["mobilities"]["rows"]] == [world.life.mobility_id]
    assert {r["id"] for r in held["tables"]["assessment_records"]["rows"]} == set(world.life.sheet_ids)
    assert [(r["what"], r["by_learner"]) for r in held["reads"]] == [("export", False), ("export", True)]
    with db.transaction(write=False) as s:
        exported = [(e.actor_id, e.detail["learner_id"]) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "learner.exported").order_by(AuditEvent.id))]
    assert exported == [(world.life.sending.user_id, world.learner_id), (world.life.learner.user_id, world.learner_id)]


def test_the_export_as_pdf_opens_with_the_learners_name_and_its_parts(app: Flask, db: Database,
                                                                       frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    response = caller(app, world.life.learner).get(f"/api/learners/{world.learner_id}/export?format=pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    for words in (LIFECYCLE_LEARNER, "Mobilities", "Learning Agreements", "Assessments", "Transcripts",
                  "Recognitions", "Signatures", "Accounts", "Who read the data"):
        assert words in text, words
