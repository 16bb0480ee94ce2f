"""GET /api/documents/{kind}/{id} (JSON or PDF, versions) and GET /api/process-instances/{id}/documents:
the parties of the partnership or mobility read them, nobody else; bad input is a problem document."""
from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient

from ecvet.documents import service
from ecvet.mobility import transcript
from ecvet.mobility.models import Mobility
from engine import clock
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.api.conftest import TWO_LANE, Caller, assert_problem, deploy_files, sign_in
from tests.support.ecvet_factories import Party
from tests.support.ecvet_worlds import (
    GREEK_HOTEL,
    LEARNER_NAME,
    LIFECYCLE_LEARNER,
    RecordsWorld,
    make_lifecycle_world,
    make_records_world,
    make_review,
)
from tests.support.factories import PASSWORD, Person, make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@dataclass
class Readers:
    """The records world and a signed-in caller for each of its people."""

    world: RecordsWorld
    sender: Caller
    greek_hotel: Caller
    bulgarian_hotel: Caller
    chamber: Caller
    learner: Caller
    outsider: Caller
    admin: Caller


def _caller(client: FlaskClient, party: Party | Actor) -> Caller:
    """Sign in as the member of a party, or as the person behind an actor (factories use one password)."""
    return sign_in(client, Person(party.user_id, party.email, PASSWORD))


@pytest.fixture
def readers(app: Flask, db: Database) -> Iterator[Readers]:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        world = make_records_world(db, frozen)
        client = app.test_client()
        yield Readers(
            world=world, sender=_caller(client, world.sending), greek_hotel=_caller(client, world.hosting_gr),
            bulgarian_hotel=_caller(client, world.hosting_bg), chamber=_caller(client, world.chamber),
            learner=_caller(client, world.mobility.learner), outsider=_caller(client, world.outsider),
            admin=sign_in(client, make_user(db, is_admin=True)),
        )
    finally:
        clock.use(previous)


def get_accepting(caller: Caller, url: str, accept: str) -> Any:
    return caller.client.get(url, headers={"Authorization": f"Bearer {caller.token}", "Accept": accept})


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


# --- JSON ------------------------------------------------------------------------------------------


def test_json_is_the_document_export(readers: Readers, db: Database) -> None:
    world = readers.world
    response = readers.sender.get(f"/api/documents/mou/{world.mou_id}")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    with db.transaction(write=False) as s:
        expected = service.build(s, actor=world.sending.actor, kind="mou", record_id=world.mou_id).as_json()
    assert body == expected  # the response schema drops nothing
    assert body["schema"] == "ecvet-flow/document/mou/v1"
    assert body["content_hash"] == world.mou_hashes[1]
    assert [s["counts"] for s in body["signatures"]] == [False, True, True, True, True]


def test_earlier_versions_by_query(readers: Readers) -> None:
    world = readers.world
    body = readers.greek_hotel.get(f"/api/documents/mou/{world.mou_id}?version=1").get_json()
    assert body["reference"]["version"] == 1
    assert body["content_hash"] == world.mou_hashes[0]
    body = readers.learner.get(f"/api/documents/learning-agreement/{world.la_id}?version=1").get_json()
    assert body["reference"]["version"] == 1
    assert body["content_hash"] == world.la_hashes[0]
    assert_problem(readers.sender.get(f"/api/documents/mou/{world.mou_id}?version=7"), 404)


def test_documents_in_the_partners_languages(readers: Readers) -> None:
    world = readers.world
    body = readers.sender.get(f"/api/documents/learning-agreement/{world.la_id}?lang=nl").get_json()
    assert (body["title"], body["languages"]) == ("Leerovereenkomst", ["nl"])
    mou_pdf = readers.sender.get(f"/api/documents/mou/{world.mou_id}?lang=es,en&format=pdf")
    assert mou_pdf.status_code == 200
    assert "MemorandodeEntendimiento/MemorandumofUnderstanding" in pdf_text(mou_pdf.data)


@pytest.mark.parametrize("query", ["version=abc", "version=0", "version=-1", "version=1.5", "format=docx", "lang=pt",
                                   "lang=de,es,nl"])
def test_malformed_query_is_422(readers: Readers, query: str) -> None:
    body = assert_problem(readers.sender.get(f"/api/documents/mou/{readers.world.mou_id}?{query}"), 422)
    assert set(body["errors"]) == {query.split("=", maxsplit=1)[0]}


# --- PDF -------------------------------------------------------------------------------------------


def test_pdf_by_query_with_attachment_filename(readers: Readers) -> None:
    world = readers.world
    response = readers.sender.get(f"/api/documents/mou/{world.mou_id}?format=pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="mou-{world.mou_id}-v2.pdf"'
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data.startswith(b"%PDF-")
    content = pdf_text(response.data)
    assert "".join(GREEK_HOTEL.split()) in content
    assert world.mou_hashes[1] in content

    older = readers.sender.get(f"/api/documents/mou/{world.mou_id}?format=pdf&version=1")
    assert older.headers["Content-Disposition"] == f'attachment; filename="mou-{world.mou_id}-v1.pdf"'
    assert world.mou_hashes[0] in pdf_text(older.data)


def test_accept_header_chooses_the_format(readers: Readers) -> None:
    url = f"/api/documents/learning-agreement/{readers.world.la_id}"
    as_pdf = get_accepting(readers.learner, url, "application/pdf")
    assert as_pdf.mimetype == "application/pdf"
    assert as_pdf.data.startswith(b"%PDF-")
    filename = f"learning-agreement-{readers.world.la_id}-v2.pdf"
    assert as_pdf.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "".join(LEARNER_NAME.split()) in pdf_text(as_pdf.data)
    assert get_accepting(readers.learner, url, "application/json").mimetype == "application/json"
    assert readers.learner.get(url).mimetype == "application/json"
    # An explicit ?format wins over Accept.
    assert get_accepting(readers.learner, url + "?format=json", "application/pdf").mimetype == \
        "application/json"


# --- access ----------------------------------------------------------------------------------------


def test_only_parties_and_admins_read_documents(readers: Readers) -> None:
    world = readers.world
    mou, la = f"/api/documents/mou/{world.mou_id}", f"/api/documents/learning-agreement/{world.la_id}"
    for caller in (readers.sender, readers.greek_hotel, readers.bulgarian_hotel, readers.chamber, readers.admin):
        assert caller.get(mou).status_code == 200
    for caller in (readers.sender, readers.bulgarian_hotel, readers.learner, readers.admin):
        assert caller.get(la).status_code == 200
    # The learner's personal data: not for MoU partners outside the mobility, nor for anyone else.
    for caller, url in ((readers.outsider, mou), (readers.learner, mou), (readers.outsider, la),
                        (readers.greek_hotel, la), (readers.chamber, la)):
        assert_problem(caller.get(url), 404)
        assert_problem(caller.get(url + "?format=pdf"), 404)
    assert_problem(readers.sender.client.get(mou), 401)


def test_unknown_kind_or_record_is_404(readers: Readers) -> None:
    assert_problem(readers.sender.get(f"/api/documents/passport/{readers.world.mou_id}"), 404)
    assert_problem(readers.sender.get("/api/documents/mou/99999"), 404)
    assert_problem(readers.admin.get("/api/documents/learning-agreement/99999?format=pdf"), 404)


# --- an instance's documents -----------------------------------------------------------------------


def test_instance_documents_lists_what_the_caller_may_read(readers: Readers) -> None:
    world = readers.world
    assert deploy_files(readers.admin, [TWO_LANE]).status_code == 201
    started = readers.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "variables": {"mou_id": world.mou_id, "la_id": world.la_id},
        "parties": {"sending": world.sending.org_id, "hosting": world.hosting_gr.org_id}})
    assert started.status_code == 201, started.get_json()
    url = f"/api/process-instances/{started.get_json()['id']}/documents"
    items = readers.sender.get(url).get_json()["items"]
    assert [(i["kind"], i["record_id"], i["href"]) for i in items] == [
        ("mou", world.mou_id, f"/api/documents/mou/{world.mou_id}"),
        ("learning-agreement", world.la_id, f"/api/documents/learning-agreement/{world.la_id}"),
    ]
    assert items[0]["title"].startswith("Memorandum of Understanding: MoU-2027-001")
    # The Greek hotel is bound to the instance but is no party of the learner's mobility.
    assert [i["kind"] for i in readers.greek_hotel.get(url).get_json()["items"]] == ["mou"]
    assert_problem(readers.outsider.get(url), 404)
    assert_problem(readers.sender.get("/api/process-instances/no-such-instance/documents"), 404)


def test_openapi_documents_both_formats(readers: Readers) -> None:
    spec = readers.sender.client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/documents/{kind}/{record_id}"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "application/pdf"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"]
    assert "/api/process-instances/{instance_id}/documents" in spec["paths"]


# --- mobility records ------------------------------------------------------------------------------


def test_transcript_for_the_home_side_only_once_ready(app: Flask, db: Database) -> None:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        life = make_lifecycle_world(db, frozen, "issued")
        client = app.test_client()
        host, sender, outsider = (_caller(client, p) for p in (life.hosting, life.sending, life.outsider))
        url = f"/api/documents/transcript/{life.transcript_id}"
        assert host.get(url).get_json()["status"] == "issued"
        assert_problem(sender.get(url), 404)
        assert_problem(sender.get(url + "?format=pdf"), 404)
        with db.transaction() as s:
            transcript.mark_ready(s, actor=life.hosting.actor, mobility_id=life.mobility_id)
        body = sender.get(url).get_json()
        assert body["schema"] == "ecvet-flow/document/transcript/v1"
        assert body["content_hash"] == life.transcript_hash
        assert body["data"]["content_hash"] == life.transcript_hash
        as_pdf = sender.get(url + "?format=pdf")
        assert as_pdf.headers["Content-Disposition"] == f'attachment; filename="transcript-{life.transcript_id}.pdf"'
        assert "".join(LIFECYCLE_LEARNER.split()) in pdf_text(as_pdf.data)
        # A transcript has no versions: asking for one finds nothing.
        assert_problem(sender.get(url + "?version=1"), 404)
        assert_problem(outsider.get(url), 404)
    finally:
        clock.use(previous)


def test_review_documents_for_the_reviews_parties(app: Flask, db: Database) -> None:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        life = make_lifecycle_world(db, frozen)
        review = make_review(db, life)
        client = app.test_client()
        learner, outsider = _caller(client, life.learner), _caller(client, life.outsider)
        plan = learner.get(f"/api/documents/action-plan/{review.action_plan_id}?format=pdf")
        assert plan.status_code == 200
        assert plan.headers["Content-Disposition"] == \
            f'attachment; filename="action-plan-{review.action_plan_id}.pdf"'
        assert "SendthelogtemplatewiththeLA" in pdf_text(plan.data)
        host = _caller(client, life.hosting)
        sheet = host.get(f"/api/documents/evaluation/{review.evaluation_ids['hosting']}").get_json()
        assert sheet["schema"] == "ecvet-flow/document/evaluation/v1"
        assert sheet["data"]["strengths"] == "Motivated learner"
        # each party reads its own sheet and the action plan (issue 16's default): not the hotel's
        own = learner.get(f"/api/documents/evaluation/{review.evaluation_ids['learner']}").get_json()
        assert own["data"]["outcomes_appropriate"] == "partly"
        assert_problem(learner.get(f"/api/documents/evaluation/{review.evaluation_ids['hosting']}"), 404)
        assert_problem(outsider.get(f"/api/documents/action-plan/{review.action_plan_id}"), 404)
        assert_problem(outsider.get(f"/api/documents/evaluation/{review.evaluation_ids['hosting']}?format=pdf"), 404)
    finally:
        clock.use(previous)


def test_the_certificate_and_the_credentials_of_a_recognised_learner(app: Flask, db: Database) -> None:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        life = make_lifecycle_world(db, frozen, "implications")
        with db.transaction(write=False) as s:
            learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        client = app.test_client()
        learner, outsider = _caller(client, life.learner), _caller(client, life.outsider)
        certificate = learner.get(f"/api/documents/certificate/{learner_id}?lang=es").get_json()
        assert certificate["title"] == "Certificado de logros de aprendizaje"
        body = learner.get(f"/api/learners/{learner_id}/credentials").get_json()
        assert [c["type"] for c in body["credentials"]] == [["VerifiableCredential", "EuropeanDigitalCredential"]] * 2
        assert_problem(outsider.get(f"/api/learners/{learner_id}/credentials"), 404)
    finally:
        clock.use(previous)
