"""/api/europass-mobilities: issued by the school for a recognised mobility, signed off by host and school
over HTTP, then the learner's (data here, PDF under /api/documents); problems for everything else."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
from flask import Flask

from ecvet.mobility.models import Mobility
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.support.ecvet_factories import Party
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER, make_lifecycle_world
from tests.support.factories import PASSWORD, Person

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
URL = "/api/europass-mobilities"


def caller(app: Flask, who: Party | Actor) -> Caller:
    actor = who.actor if isinstance(who, Party) else who
    return sign_in(app.test_client(), Person(actor.user_id, actor.email, PASSWORD))


def test_issue_sign_off_and_the_learner_downloads_it(app: Flask, db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    school, hotel, learner = caller(app, life.sending), caller(app, life.hosting), caller(app, life.learner)
    made = school.post(URL, json={"mobility_id": life.mobility_id, "skills": {"language": "Danish A2"}})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    europass_id, digest = body["id"], body["content_hash"]
    assert (body["status"], body["content"]["skills"]) == ("signing", {"language": "Danish A2"})
    assert_problem(learner.get(f"{URL}/{europass_id}"), 404)
    assert learner.get(f"{URL}?learner_id={learner_id}").get_json() == []
    assert_problem(hotel.post(f"{URL}/{europass_id}/signatures", json={"party": "hosting", "content_hash": "a" * 64}),
                   409)
    signed = hotel.post(f"{URL}/{europass_id}/signatures", json={"party": "hosting", "content_hash": digest,
                                                                  "signer": {"place": "Aarhus"}})
    assert signed.status_code == 201, signed.get_json()
    assert_problem(hotel.post(f"{URL}/{europass_id}/signatures", json={"party": "sending", "content_hash": digest}),
                   403)
    done = school.post(f"{URL}/{europass_id}/signatures", json={"party": "sending", "content_hash": digest})
    assert done.get_json()["status"] == "signed"
    mine = learner.get(f"{URL}?learner_id={learner_id}").get_json()
    assert [e["id"] for e in mine] == [europass_id]
    document = learner.get(f"/api/documents/europass-mobility/{europass_id}").get_json()
    assert document["data"]["holder"]["name"] == LIFECYCLE_LEARNER
    assert [s["place"] for s in document["signatures"]] == ["Aarhus", None]
    printed = learner.get(f"/api/documents/europass-mobility/{europass_id}?format=pdf")
    assert printed.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(printed.data)).pages)
    flat = "".join(text.split())
    assert "EuropassMobility" in flat
    assert digest in flat  # the full hash, wrapped but never cut


def test_bad_input_is_a_problem_not_a_500(app: Flask, db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "validated")
    school = caller(app, life.sending)
    assert_problem(school.post(URL, json={"mobility_id": life.mobility_id}), 409)  # not recognised yet
    assert_problem(school.post(URL, json={"mobility_id": life.mobility_id, "skills": {"magic": "x"}}), 422)
    assert_problem(school.post(URL, json={}), 422)
    assert_problem(caller(app, life.outsider).post(URL, json={"mobility_id": life.mobility_id}), 404)
    assert_problem(school.post(f"{URL}/999999/signatures", json={"party": "sending", "content_hash": "a" * 64}), 404)
    assert_problem(school.get(f"{URL}/999999"), 404)
