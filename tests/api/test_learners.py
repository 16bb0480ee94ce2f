"""/api/learners: a learner's personal data and achievements, for the learner, the parties of their
mobilities and admins; 404 to anyone else. Issue 16: every document read (each kind, JSON and PDF, API and
page) is audited and in the learner's reads log; /reads lists who looked, /export gives everything held."""
from __future__ import annotations

import io
from datetime import date

import pypdf
from flask import Flask
from sqlalchemy import select

from ecvet.mobility import seal
from ecvet.mobility.models import Mobility
from ecvet.qualification import service as qualifications
from ecvet.subject_access.models import PersonalDataRead
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, User
from engine.parties import Actor
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.api.web.conftest import browser_for
from tests.support import mobility_driver
from tests.support.ecvet_factories import Party
from tests.support.ecvet_worlds import CZECH_SCHOOL, LIFECYCLE_LEARNER, make_lifecycle_world
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.subject_access_world import make_all_documents

T0 = mobility_driver.T0  # the frozen fixture starts the clock here


def caller(app: Flask, who: Party | Actor) -> Caller:
    actor = who.actor if isinstance(who, Party) else who
    return sign_in(app.test_client(), Person(actor.user_id, actor.email, PASSWORD))


def test_the_learner_and_the_parties_read_the_learner(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    admin = sign_in(app.test_client(), make_user(db, is_admin=True))
    readers = {"sending": caller(app, sc.sending), "hosting": caller(app, sc.hosting),
               "learner": caller(app, run.learner), "admin": admin}
    for name, reader in readers.items():
        body = reader.get(f"/api/learners/{run.learner_id}").get_json()
        # The date of birth for the home side, the learner and admins only (minimisation, issue 16).
        born = None if name == "hosting" else "2004-09-01"
        assert (body["id"], body["name"], body["date_of_birth"], body["email"]) == (
            run.learner_id, "Daan de Vries", born, run.learner.email)
        assert (body["has_account"], body["guardian_has_account"], body["is_minor"]) == (True, False, None)
    achieved = caller(app, sc.sending).get(f"/api/learners/{run.learner_id}/achievements").get_json()
    assert (achieved["credits"], achieved["total_ecvet_points"], achieved["mobility_ids"]) == (
        [], 0, [run.mobility_id])


def test_outsiders_and_unknown_learners_get_404(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    outsider = caller(app, sc.outsider)
    for url in (f"/api/learners/{run.learner_id}", f"/api/learners/{run.learner_id}/achievements"):
        assert_problem(outsider.get(url), 404)
        assert_problem(outsider.client.get(url), 401)
    assert_problem(caller(app, sc.sending).get("/api/learners/999999"), 404)


def test_credentials_come_signed_by_the_recognising_organisation(app: Flask, db: Database,
                                                                  frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    body = caller(app, life.learner).get(f"/api/learners/{learner_id}/credentials").get_json()
    results = [seal.verify(c) for c in body["credentials"]]
    assert [(r.valid, r.issuer_name) for r in results] == [(True, CZECH_SCHOOL)] * 2
    issuer = int(body["credentials"][0]["issuer"]["id"].rsplit(":", 1)[1])
    published = app.test_client().get(f"/api/organisations/{issuer}/keys")  # no sign-in
    assert published.status_code == 200
    assert [k["kid"] for k in published.get_json()["keys"]] == [results[0].key_id]


def test_the_recognising_school_awards_the_qualification_over_http(app: Flask, db: Database,
                                                                   frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction() as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        units = [{"code": "U1", "title": "Cold dishes"}, {"code": "U2", "title": "Hygiene"}]
        cook = qualifications.register(s, actor=None, title="Cook", country="CZ", eqf_level=4, ecvet_points=30,
                                       units=units)
        larger = qualifications.register(s, actor=None, title="Cook", country="SK", eqf_level=4,
                                         units=[*units, {"code": "U9", "title": "Pastry"}])
        cook_id, larger_id = cook.id, larger.id
    url = f"/api/learners/{learner_id}/qualification-awards"
    school, hotel = caller(app, life.sending), caller(app, life.hosting)
    assert_problem(caller(app, life.outsider).post(url, json={"qualification_id": cook_id}), 404)
    assert_problem(hotel.post(url, json={"qualification_id": cook_id}), 403)
    assert_problem(school.post(url, json={"qualification_id": larger_id}), 409)  # U9 is not recognised
    assert_problem(school.post(url, json={"qualification_id": "cook"}), 422)
    awarded = school.post(url, json={"qualification_id": cook_id, "signer": {"place": "Brno"}})
    assert awarded.status_code == 201, awarded.get_json()
    body = awarded.get_json()
    assert (body["qualification_title"], body["ecvet_points"], body["signer"]["place"]) == ("Cook", 30, "Brno")
    assert_problem(school.post(url, json={"qualification_id": cook_id}), 409)
    assert [a["id"] for a in caller(app, life.learner).get(url).get_json()] == [body["id"]]
    assert_problem(caller(app, life.outsider).get(url), 404)
    issued = caller(app, life.learner).get(f"/api/learners/{learner_id}/credentials").get_json()["credentials"]
    assert [c["credentialSubject"]["hasClaim"][0]["specifiedBy"]["type"] for c in issued] == [
        "LearningAchievementSpecification", "LearningAchievementSpecification", "Qualification"]
    assert all(seal.verify(c).valid for c in issued)
    page = browser_for(app, Person(life.learner.user_id, life.learner.email, PASSWORD)).get("/achievements")
    assert f"Cook, 30 ECVET points, awarded by {CZECH_SCHOOL}" in page.get_data(as_text=True)


# --- Issue 16: who read the learner's data, and the export of everything held --------------------------

ABOUT_NO_LEARNER = {"mou", "partnership-review"}


def person(who: Party | Actor) -> Person:
    actor = who.actor if isinstance(who, Party) else who
    return Person(actor.user_id, actor.email, PASSWORD)


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


def test_the_export_pdf_speaks_the_readers_language(app: Flask, db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    learner = caller(app, world.life.learner)
    response = learner.get(f"/api/learners/{world.learner_id}/export?format=pdf&lang=de")
    assert response.status_code == 200
    text = pdf_text(response.data)
    for words in (LIFECYCLE_LEARNER, "Mobilitäten", "Lernvereinbarungen", "Bewertungen", "Anerkennungen",
                  "Unterschriften", "Konten", "Wer die Daten gelesen hat", "Geburtsdatum"):
        assert words in text, words
    assert "date_of_birth" not in text
    assert "signer_email" not in text
    assert "Who read the data" not in text
    assert_problem(learner.get(f"/api/learners/{world.learner_id}/export?format=pdf&lang=xx"), 422)
    english = pdf_text(learner.get(f"/api/learners/{world.learner_id}/export?format=pdf").data)
    assert "Who read the data" in english
    assert "Date of birth" in english
    assert "date_of_birth" not in english


def test_the_export_pdf_is_in_the_language_of_the_readers_profile(app: Flask, db: Database,
                                                                   frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    with db.transaction() as s:
        s.get_one(User, world.life.learner.user_id).language = "fr"
    text = pdf_text(caller(app, world.life.learner).get(f"/api/learners/{world.learner_id}/export?format=pdf").data)
    assert "Qui a lu les données" in text
    assert "Date de naissance" in text


def test_the_pages_data_download_is_in_the_page_language(app: Flask, db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    browser = browser_for(app, person(world.life.learner))
    german = browser.get(f"/learners/{world.learner_id}/my-data.pdf", headers={"Accept-Language": "de"})
    assert german.status_code == 200
    text = pdf_text(german.data)
    assert "Wer die Daten gelesen hat" in text
    assert "Geburtsdatum" in text
    assert "date_of_birth" not in text
