"""/api/reviews, /api/evaluations and /api/action-plans: a finished review read over HTTP by its parties."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from engine import clock
from engine.clock import FrozenClock
from engine.db import Database
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.support.ecvet_factories import make_party
from tests.support.engine import actor_for
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.partnership_driver import start
from tests.support.review_driver import ReviewRun, action_items, evaluation, start_review


def patch(caller: Caller, url: str, json: dict[str, object]) -> Any:
    return caller.client.patch(url, headers={"Authorization": f"Bearer {caller.token}"}, json=json)


@dataclass
class Reviewed:
    run: ReviewRun
    review_id: int
    sender: Caller
    host: Caller
    learner: Caller
    outsider: Caller
    admin: Caller


@pytest.fixture
def reviewed(app: Flask, db: Database) -> Iterator[Reviewed]:
    frozen = FrozenClock(datetime(2027, 3, 1, 9, tzinfo=UTC))
    previous = clock.use(frozen)
    try:
        admin_person = make_user(db, is_admin=True)
        p = start(db, actor_for(db, admin_person.id), "NL", "BE")
        p.build()
        p.draft_and_submit()
        p.approve_all("hosting")
        r = start_review(db, p)
        r.evaluate_all(hosting=evaluation("partly", "yes"))
        r.complete("sending", "plan_actions", {"summary": "Longer stays for U1", "items": action_items(),
                                               "revise_mou": False})
        client = app.test_client()
        outsider = make_party(db, "FR", "Outsider")

        def caller(user_id: int, email: str) -> Caller:
            return sign_in(client, Person(user_id, email, PASSWORD))

        yield Reviewed(r, r.review().id, caller(p.sender.user_id, p.sender.email),
                       caller(p.host.user_id, p.host.email), caller(r.learner.user_id, r.learner.email),
                       caller(outsider.user_id, outsider.email), caller(admin_person.id, admin_person.email))
    finally:
        clock.use(previous)


def test_parties_read_the_review_its_sheets_and_its_plan(reviewed: Reviewed) -> None:
    r = reviewed
    for caller in (r.sender, r.host, r.learner, r.admin):
        body = caller.get(f"/api/reviews/{r.review_id}").get_json()
        assert (body["status"], body["mobility_id"]) == ("completed", r.run.mobility_id)
    body = r.host.get(f"/api/reviews/{r.review_id}").get_json()
    assert [e["party"] for e in body["evaluations"]] == ["sending", "hosting", "learner"]
    hosting = body["evaluations"][1]
    assert (hosting["outcomes_appropriate"], hosting["outcomes_comment"]) == ("partly",
                                                                              "Unit U1 needs more than six weeks.")
    plan = body["action_plan"]
    assert [(i["owner"], i["due_date"], i["status"]) for i in plan["items"]] == [
        ("hosting", "2099-06-30", "open"), ("sending", "2099-06-30", "open"), ("learner", "2099-06-30", "open")]
    assert r.learner.get(f"/api/evaluations/{hosting['id']}").get_json()["party"] == "hosting"
    assert r.sender.get(f"/api/action-plans/{plan['id']}").get_json()["summary"] == "Longer stays for U1"
    listed = r.learner.get(f"/api/reviews?mobility_id={r.run.mobility_id}").get_json()["items"]
    assert [x["id"] for x in listed] == [r.review_id]


def test_outsiders_see_nothing(reviewed: Reviewed) -> None:
    r = reviewed
    body = r.sender.get(f"/api/reviews/{r.review_id}").get_json()
    for url in (f"/api/reviews/{r.review_id}", f"/api/evaluations/{body['evaluations'][0]['id']}",
                f"/api/action-plans/{body['action_plan']['id']}"):
        assert_problem(r.outsider.get(url), 404)
    assert r.outsider.get("/api/reviews").get_json()["items"] == []
    item = body["action_plan"]["items"][0]["id"]
    assert_problem(patch(r.outsider, f"/api/action-plans/{body['action_plan']['id']}/items/{item}",
                                    json={"status": "done"}), 404)


def test_owners_move_their_actions_on(reviewed: Reviewed) -> None:
    r = reviewed
    plan = r.sender.get(f"/api/reviews/{r.review_id}").get_json()["action_plan"]
    hosting_item, sending_item, learner_item = (i["id"] for i in plan["items"])
    url = f"/api/action-plans/{plan['id']}/items"
    response = patch(r.host, f"{url}/{hosting_item}", json={"status": "done", "note": "Template changed"})
    assert response.status_code == 200, response.get_json()
    assert [(i["status"], i["status_note"]) for i in response.get_json()["items"]][0] == ("done", "Template changed")
    assert patch(r.learner, f"{url}/{learner_item}", json={"status": "in_progress"}).status_code == 200
    assert_problem(patch(r.learner, f"{url}/{sending_item}", json={"status": "done"}), 403)
    assert_problem(patch(r.host, f"{url}/{sending_item}", json={"status": "done"}), 403)
    assert_problem(patch(r.sender, f"{url}/{sending_item}", json={"status": "finished"}), 422)
    assert_problem(patch(r.sender, f"{url}/999999", json={"status": "done"}), 404)
    assert patch(r.sender, f"{url}/{sending_item}", json={"status": "dropped"}).status_code == 200
    statuses = [i["status"] for i in r.admin.get(f"/api/action-plans/{plan['id']}").get_json()["items"]]
    assert statuses == ["done", "dropped", "in_progress"]
