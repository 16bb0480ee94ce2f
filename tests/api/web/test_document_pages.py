"""Document pages without a browser: the documents of my processes as HTML, PDF and JSON, and nobody else's."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

from ecvet.mobility import assessment, evidence_files
from engine import clock, instances
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from tests.api.conftest import Reviewed
from tests.api.web.conftest import Browser, browser_for
from tests.support.ecvet_factories import Party, make_live_mobility
from tests.support.ecvet_worlds import BULGARIAN_HOTEL, LEARNER_NAME, RecordsWorld, make_records_world
from tests.support.engine import deploy as deploy_files
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.uploads import PDF

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # the frozen fixture's start (the evidence test)

@pytest.fixture
def records_world(db: Database) -> Iterator[RecordsWorld]:
    frozen = FrozenClock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    previous = clock.use(frozen)
    try:
        yield make_records_world(db, frozen)
    finally:
        clock.use(previous)


def person(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def start_with_documents(db: Database, world: RecordsWorld) -> str:
    """A two-lane instance whose data refers to the MoU and the Learning Agreement (as task actions leave it)."""
    deploy_files(db, {"two_lane_review.bpmn": (ROOT / "processes" / "two_lane_review.bpmn").read_bytes(),
                      "two_lane_propose.json": (ROOT / "forms" / "two_lane_propose.json").read_bytes(),
                      "two_lane_review.json": (ROOT / "forms" / "two_lane_review.json").read_bytes()})
    with db.transaction() as s:
        instance = instances.start(s, actor=world.sending.actor, process_key="two_lane_review",
                                   business_key="mobility-lukasz",
                                   variables={"mou_id": world.mou_id, "la_id": world.la_id},
                                   parties={"sending": world.sending.org_id, "hosting": world.hosting_bg.org_id})
        return instance.id


def test_documents_page_lists_the_documents_of_my_processes(app: Flask, db: Database,
                                                             records_world: RecordsWorld) -> None:
    start_with_documents(db, records_world)
    html = browser_for(app, person(records_world.sending)).get("/documents").get_data(as_text=True)
    assert "Two-lane review · mobility-lukasz" in html
    assert f'href="/documents/mou/{records_world.mou_id}"' in html
    assert f'href="/documents/learning-agreement/{records_world.la_id}"' in html
    assert f'href="/documents/learning-agreement/{records_world.la_id}.pdf"' in html
    assert LEARNER_NAME in html
    outsider = browser_for(app, person(records_world.outsider)).get("/documents").get_data(as_text=True)
    assert "No documents for you yet." in outsider
    assert "mobility-lukasz" not in outsider


def test_a_document_reads_as_a_page_with_its_signatures_and_versions(app: Flask, db: Database,
                                                                      records_world: RecordsWorld) -> None:
    browser = browser_for(app, person(records_world.sending))
    response = browser.get(f"/documents/learning-agreement/{records_world.la_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h2" in html
    assert "Learning Agreement" in html
    assert LEARNER_NAME in html
    assert BULGARIAN_HOTEL in html
    assert records_world.la_hashes[-1] in html  # the hash of the text shown
    assert "Preparing cold dishes" in html
    assert html.count('class="counts"') == 1  # on version 2 only the learner has signed so far
    first = browser.get(f"/documents/learning-agreement/{records_world.la_id}?version=1").get_data(as_text=True)
    assert records_world.la_hashes[0] in first
    assert first.count('class="counts"') == 3
    assert browser.get(f"/documents/learning-agreement/{records_world.la_id}?version=x").status_code == 422
    assert browser.get(f"/documents/learning-agreement/{records_world.la_id}?version=9").status_code == 404
    assert browser.get(f"/documents/no-such-kind/{records_world.la_id}").status_code == 404


def test_downloads_as_pdf_and_json(app: Flask, db: Database, records_world: RecordsWorld) -> None:
    browser = browser_for(app, person(records_world.sending))
    response = browser.get(f"/documents/mou/{records_world.mou_id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == f'attachment; filename="mou-{records_world.mou_id}-v2.pdf"'
    response = browser.get(f"/documents/learning-agreement/{records_world.la_id}.json?version=1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    exported = json.loads(response.data)
    assert exported["kind"] == "learning-agreement"
    assert exported["content_hash"] == records_world.la_hashes[0]
    assert browser.get(f"/documents/mou/{records_world.mou_id}.exe").status_code == 404


def test_documents_of_others_are_not_found(app: Flask, db: Database, records_world: RecordsWorld) -> None:
    outsider = browser_for(app, person(records_world.outsider))
    for url in (f"/documents/mou/{records_world.mou_id}", f"/documents/mou/{records_world.mou_id}.pdf",
                f"/documents/learning-agreement/{records_world.la_id}.json"):
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert b"%PDF" not in response.data
        assert LEARNER_NAME not in response.get_data(as_text=True)
    # The Greek hotel signed the MoU but is no party of this learner's mobility.
    greek = browser_for(app, person(records_world.hosting_gr))
    assert greek.get(f"/documents/mou/{records_world.mou_id}").status_code == 200
    assert greek.get(f"/documents/learning-agreement/{records_world.la_id}").status_code == 404


def test_the_task_page_shows_the_document_being_decided(app: Flask, db: Database,
                                                        records_world: RecordsWorld) -> None:
    instance_id = start_with_documents(db, records_world)
    browser: Browser = browser_for(app, person(records_world.sending))
    with db.transaction(write=False) as s:
        (task,) = instances.ready_tasks(s, instances.get(s, actor=records_world.sending.actor,
                                                         instance_id=instance_id))
    html = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    # The form comes first (phones), the document after it, before the colleagues' panel.
    assert html.index('class="task-form"') < html.index('aria-label="What this task is about"')
    context = html[html.index('aria-label="What this task is about"'):html.index('id="task-work"')]
    assert "Learning Agreement" in context
    assert LEARNER_NAME in context
    others = html[html.index("Other documents of this process"):]
    assert f'href="/documents/mou/{records_world.mou_id}"' in others
    dutch = browser.get(f"/tasks/{task.id}", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    context = dutch[dutch.index('aria-label="Waar deze taak over gaat"'):dutch.index('id="task-work"')]
    assert "Leerovereenkomst / Learning Agreement" in context  # the reader's language beside English
    assert LEARNER_NAME in context


def test_an_action_plan_page_shows_the_plans_progress_not_the_reviews(app: Flask, reviewed: Reviewed) -> None:
    """The review is completed once the plan is made; the plan's page says open until its actions are done."""
    plan = reviewed.sender.get(f"/api/reviews/{reviewed.review_id}").get_json()["action_plan"]
    html = browser_for(app, reviewed.sender.person).get(f"/documents/action-plan/{plan['id']}").get_data(as_text=True)
    assert '">open</span>' in html
    assert '">completed</span>' not in html
    assert "0 of 3 done" in html


def test_a_document_is_bilingual_in_the_readers_language_beside_english(app: Flask, db: Database,
                                                                         records_world: RecordsWorld) -> None:
    """A French reader gets the fixed texts in French and English side by side, typed text as typed;
    ?lang= picks another pair (Italian here), and English alone stays English."""
    browser = browser_for(app, person(records_world.sending))
    url = f"/documents/learning-agreement/{records_world.la_id}"
    french = browser.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert "Contrat pédagogique / Learning Agreement" in french
    assert "Signatures" in french
    assert "Langue du document" in french
    assert "Preparing cold dishes" in french  # what people typed stays as typed
    italian = browser.get(f"{url}?lang=it,en", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Accordo di apprendimento / Learning Agreement" in italian
    english = browser.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Contrat pédagogique" not in english
    assert "Learning Agreement /" not in english
    pdf = browser.get(f"{url}.pdf", headers={"Accept-Language": "it"})
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    start_with_documents(db, records_world)
    listing = browser.get("/documents", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "Accordo di apprendimento" in listing


def test_assessors_sign_the_sheet_and_download_its_evidence_from_the_page(app: Flask, db: Database,
                                                                         frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen)
    frozen.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))
    with db.transaction() as s:
        stored, _ = evidence_files.upload(s, actor=live.hosting.actor, mobility_id=live.mobility_id, unit="U1",
                                          learning_outcome="Prepares cold starters to recipe",
                                          filename="starter.pdf", content=PDF)
        file_id = stored.id
        sheet_id = assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessments=[
            {"unit": u, "criteria": "To recipe", "method": "observation", "date": "2027-03-18", "result": "achieved"}
            for u in ("U1", "U2")])[0].id
    chef = make_user(db, organisation_ids=[live.hosting.org_id], name="Carmen Vidal", position="Head chef")
    colleague = browser_for(app, chef)
    url = f"/documents/assessment-sheet/{sheet_id}"
    html = colleague.get(url).get_data(as_text=True)
    assert "starter.pdf" in html
    assert hashlib.sha256(PDF).hexdigest() in html
    signed = colleague.post(f"{url}/signatures", {"place": "València"})
    assert signed.status_code == 302
    page = colleague.get(url).get_data(as_text=True)
    assert "You signed the assessment sheet." in page
    assert "Carmen Vidal" in page
    assert "València" in page
    # The learner reads the sheet and downloads the evidence, but signs nothing as an assessor.
    learner = browser_for(app, Person(live.learner.user_id, live.learner.email, PASSWORD))
    download = learner.get(f"/mobilities/{live.mobility_id}/evidence-files/{file_id}")
    assert (download.status_code, download.data) == (200, PDF)
    learner.get(url)
    learner.post(f"{url}/signatures", {})
    assert "Only members of" in learner.get(url).get_data(as_text=True)
    outsider = browser_for(app, Person(live.outsider.user_id, live.outsider.email, PASSWORD))
    assert outsider.get(f"/mobilities/{live.mobility_id}/evidence-files/{file_id}").status_code == 404
