"""Erasure pages: the learner asks on their page, the sending school finds the request in its list with
the one-month deadline, refuses without a reason in vain, then carries it out; others see nothing."""
from __future__ import annotations

from flask import Flask

from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.api.web.conftest import Browser, browser_for
from tests.support.factories import PASSWORD, Person
from tests.support.mobility_driver import T0
from tests.support.privacy_world import LEARNER_NAME, make_privacy_world

__all__ = ["T0"]  # the frozen fixture starts the clock here


def browser(app: Flask, actor: Actor) -> Browser:
    return browser_for(app, Person(actor.user_id, actor.email, PASSWORD))


def test_the_learner_asks_and_the_school_answers_on_the_pages(app: Flask, db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    sc, lid = world.sc, world.learner_id
    learner, school = browser(app, world.run.learner), browser(app, sc.sending.actor)
    hosting, outsider = browser(app, sc.hosting.actor), browser(app, sc.outsider.actor)
    page = learner.get(f"/learners/{lid}/achievements").get_data(as_text=True)
    assert f'href="/learners/{lid}/erasure"' in page
    html = learner.get(f"/learners/{lid}/erasure").get_data(as_text=True)
    assert "Ask to erase the data" in html
    assert "No erasure request" in html
    response = learner.post(f"/learners/{lid}/erasure", {})
    assert response.status_code == 302
    html = learner.get(f"/learners/{lid}/erasure").get_data(as_text=True)
    assert "Your request is recorded" in html
    assert "Waiting for the answer" in html
    assert "Ask to erase the data" not in html  # one request at a time
    assert learner.post(f"/learners/{lid}/erasure", {}, csrf=False).status_code == 400  # no CSRF token
    assert outsider.get(f"/learners/{lid}/erasure").status_code == 404

    listing = school.get("/erasure-requests").get_data(as_text=True)
    assert LEARNER_NAME in listing
    assert "Answer due by" in listing
    assert 'href="/erasure-requests"' in listing  # in the navigation
    assert LEARNER_NAME not in hosting.get("/erasure-requests").get_data(as_text=True)
    rid = int(listing.split('href="/erasure-requests/', 1)[1].split('"', 1)[0])
    assert outsider.get(f"/erasure-requests/{rid}").status_code == 404
    assert "Carry out the erasure" not in learner.get(f"/erasure-requests/{rid}").get_data(as_text=True)
    html = school.get(f"/erasure-requests/{rid}").get_data(as_text=True)
    assert "Carry out the erasure" in html
    refused = school.post(f"/erasure-requests/{rid}", {"decision": "refused", "reason": " "})
    assert refused.status_code == 422
    assert "Say why the request is refused" in refused.get_data(as_text=True)
    assert school.post(f"/erasure-requests/{rid}", {"decision": "maybe"}).status_code == 422
    done = school.post(f"/erasure-requests/{rid}", {"decision": "carried_out"})
    assert done.status_code == 302
    html = school.get(f"/erasure-requests/{rid}").get_data(as_text=True)
    assert "Carried out" in html
    assert "kept until 2034-04-09" in html
    assert LEARNER_NAME not in html
    assert "Carry out the erasure" not in html
