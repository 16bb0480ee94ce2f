"""/api/learners: a learner's personal data and achievements, for the learner, the parties of their
mobilities and admins; 404 to anyone else."""
from __future__ import annotations

from datetime import date

from flask import Flask

from ecvet.mobility import seal
from ecvet.mobility.models import Mobility
from ecvet.qualification import service as qualifications
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.api.web.conftest import browser_for
from tests.support import mobility_driver
from tests.support.ecvet_factories import Party
from tests.support.ecvet_worlds import CZECH_SCHOOL, make_lifecycle_world
from tests.support.factories import PASSWORD, Person, make_user

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
