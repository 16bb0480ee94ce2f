"""/api/reviews: a finished review, its sheets and its plan, read over HTTP by its parties."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import Caller, Reviewed, assert_problem


def patch(caller: Caller, url: str, json: dict[str, object]) -> Any:
    return caller.client.patch(url, headers={"Authorization": f"Bearer {caller.token}"}, json=json)


def test_parties_read_the_review_its_sheets_and_its_plan(reviewed: Reviewed) -> None:
    r = reviewed
    for caller in (r.sender, r.host, r.learner, r.admin):
        body = caller.get(f"/api/reviews/{r.review_id}").get_json()
        assert (body["status"], body["mobility_id"]) == ("completed", r.run.mobility_id)
    # Each party reads its own evaluation sheet and the action plan (the default policy, issue 16).
    assert [e["party"] for e in r.admin.get(f"/api/reviews/{r.review_id}").get_json()["evaluations"]] == [
        "sending", "hosting", "learner"]
    for caller, party in ((r.sender, "sending"), (r.learner, "learner")):
        assert [e["party"] for e in caller.get(f"/api/reviews/{r.review_id}").get_json()["evaluations"]] == [party]
    body = r.host.get(f"/api/reviews/{r.review_id}").get_json()
    assert [e["party"] for e in body["evaluations"]] == ["hosting"]
    hosting = body["evaluations"][0]
    assert (hosting["outcomes_appropriate"], hosting["outcomes_comment"]) == ("partly",
                                                                              "Unit U1 needs more than six weeks.")
    plan = body["action_plan"]
    assert [(i["owner"], i["due_date"], i["status"]) for i in plan["items"]] == [
        ("hosting", "2099-06-30", "open"), ("sending", "2099-06-30", "open"), ("learner", "2099-06-30", "open")]
    assert_problem(r.learner.get(f"/api/evaluations/{hosting['id']}"), 404)
    assert r.learner.get(f"/api/action-plans/{plan['id']}").get_json()["summary"] == "Longer stays for U1"
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
