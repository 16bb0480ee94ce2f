"""The privacy notice page (api/web/privacy_pages.py): public at /privacy; a learner (or a minor's
guardian) is sent to it from every page until they acknowledge the current version; staff never are."""
from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from api.web import messages
from ecvet.consent import notice
from ecvet.consent.models import PrivacyAcknowledgement
from engine.clock import FrozenClock
from engine.db import Database
from tests.api.web.conftest import Browser, browser_for
from tests.support import mobility_driver
from tests.support.factories import PASSWORD, Person

T0 = mobility_driver.T0


def reader(app: Flask, person: Person) -> Browser:
    """Signed in, but not reading the notice by itself (the tests click)."""
    browser = Browser(app.test_client(), reads_privacy_notice=False)
    browser.get("/sign-in")
    assert browser.post("/sign-in", {"email": person.email, "password": person.password}).status_code == 302
    return browser


def test_anyone_reads_the_notice_without_signing_in(app: Flask) -> None:
    page = browser_for(app).get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Privacy notice" in html
    assert "supervisory authority" in html
    assert "I have read it" not in html
    german = browser_for(app).get("/privacy", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Datenschutzhinweis" in german
    assert "Aufsichtsbehörde" in german


def test_a_learner_reads_the_notice_first_then_goes_on(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Keller", date(2009, 3, 15), guardian_account=True)
    learner = reader(app, Person(run.learner.user_id, run.learner.email, PASSWORD))
    for path in ("/tasks", "/achievements", "/documents"):
        sent = learner.get(path)
        assert sent.status_code == 302
        assert sent.location == f"/privacy?next={path}"
    html = learner.get("/privacy?next=/achievements").get_data(as_text=True)
    assert "Before you go on" in html
    version = notice.version_of(messages.english())
    assert f'name="version" value="{version}"' in html
    done = learner.post("/privacy/acknowledgements", {"version": version, "next": "/achievements"})
    assert (done.status_code, done.location) == (302, "/achievements")
    assert learner.get("/achievements").status_code == 200
    assert "I have read it" not in learner.get("/privacy").get_data(as_text=True)
    with db.transaction(write=False) as s:
        rows = s.scalars(select(PrivacyAcknowledgement)).all()
        assert [(r.user_id, r.notice_version, r.language) for r in rows] == [(run.learner.user_id, version, "en")]
    assert run.guardian is not None  # the guardian of a minor reads it too, for themself
    guardian = reader(app, Person(run.guardian.user_id, run.guardian.email, PASSWORD))
    assert guardian.get("/tasks").location == "/privacy?next=/tasks"


def test_an_old_acknowledgement_does_not_count_and_staff_are_not_sent(app: Flask, db: Database,
                                                                      frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Keller", date(2009, 3, 15))
    with db.transaction() as s:
        s.add(PrivacyAcknowledgement(user_id=run.learner.user_id, notice_version="0" * 64, language="en"))
    learner = reader(app, Person(run.learner.user_id, run.learner.email, PASSWORD))
    assert learner.get("/tasks").status_code == 302
    school = reader(app, Person(sc.sending.user_id, sc.sending.email, PASSWORD))
    assert school.get("/tasks").status_code == 200
