"""GET /api/outbox: notification e-mails, visible to administrators and to their own recipients."""
from __future__ import annotations

from typing import Any

import pytest

from engine import jobs
from tests.api.conftest import Caller, World, sign_in
from tests.support.factories import make_user


@pytest.fixture(autouse=True)
def _outbox_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECVET_SMTP_HOST", raising=False)


def start(world: World, business_key: str = "mobility-42") -> dict[str, Any]:
    response = world.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "business_key": business_key,
        "parties": {"sending": world.sending_org, "hosting": world.hosting_org}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def outbox(caller: Caller, query: str = "") -> list[dict[str, Any]]:
    response = caller.get(f"/api/outbox{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def only_task(caller: Caller) -> dict[str, Any]:
    items = caller.get("/api/tasks").get_json()["items"]
    assert len(items) == 1
    return items[0]


def test_assignment_mail_reaches_every_member_of_the_assigned_organisation_and_nobody_else(
    two_lane: World,
) -> None:
    w = two_lane
    second = sign_in(w.client, make_user(w.db, organisation_ids=[w.sending_org]))
    start(w)
    assert outbox(w.admin) == []  # the worker sends, not the request
    jobs.run_due(w.db)
    propose = only_task(w.sender)
    mails = outbox(w.admin)
    assert sorted(m["to"] for m in mails) == sorted([w.sender.person.email, second.person.email])
    assert {(m["kind"], m["task_id"], m["transport"]) for m in mails} == {("assigned", propose["id"], "outbox")}
    assert mails[0]["subject"] == "[ECVET] New task: Propose placement (two_lane_review / mobility-42)"
    assert f"/api/tasks/{propose['id']}" in mails[0]["body"]
    assert mails[0]["sent_at"] is not None
    assert mails[0]["error"] is None
    # After the proposal, the hosting organisation's member is told about the review, alone.
    done = w.sender.post(f"/api/tasks/{propose['id']}/complete",
                         json={"data": {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}})
    assert done.status_code == 200, done.get_json()
    jobs.run_due(w.db)
    review = only_task(w.host)
    assert [(m["to"], m["subject"]) for m in outbox(w.admin, f"?task_id={review['id']}")] == [
        (w.host.person.email, "[ECVET] New task: Review placement (two_lane_review / mobility-42)")]
    assert len(outbox(w.admin)) == 3
    assert w.outsider.person.email not in {m["to"] for m in outbox(w.admin)}


def test_people_see_only_their_own_mail_and_admins_see_all(two_lane: World) -> None:
    w = two_lane
    start(w)
    jobs.run_due(w.db)
    mine = outbox(w.sender)
    assert [m["to"] for m in mine] == [w.sender.person.email]
    assert outbox(w.host) == []
    assert outbox(w.outsider) == []
    # asking for someone else's mail gives nothing rather than their messages
    assert outbox(w.outsider, f"?to={w.sender.person.email}") == []
    assert [m["id"] for m in outbox(w.admin, f"?to={w.sender.person.email.upper()}")] == [mine[0]["id"]]
    assert outbox(w.admin, "?task_id=no-such-task") == []
    assert outbox(w.admin, "?kind=overdue") == []
    assert w.client.get("/api/outbox").status_code == 401
    assert w.admin.get("/api/outbox?kind=spam").status_code == 422


def test_outbox_is_cursor_paginated(two_lane: World) -> None:
    w = two_lane
    for n in range(3):
        start(w, f"mobility-{n}")
    jobs.run_due(w.db)
    first = w.admin.get("/api/outbox?limit=2").get_json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = w.admin.get(f"/api/outbox?limit=2&cursor={first['next_cursor']}").get_json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    keys = [m["subject"].split("/ ")[1].rstrip(")") for m in first["items"] + rest["items"]]
    assert keys == ["mobility-0", "mobility-1", "mobility-2"]


def test_outbox_is_in_the_openapi_document(world: World) -> None:
    spec = world.client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/outbox"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"to", "task_id", "cursor", "limit"}
    assert "OutboxMessage" in spec["components"]["schemas"]
    assert "error" in spec["components"]["schemas"]["OutboxMessage"]["properties"]
