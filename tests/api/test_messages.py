"""POST /api/messages and GET /api/messages/pending through HTTP alone (plus the worker's run_due)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import jobs
from engine.db import Database
from engine.models import Job
from tests.api.conftest import Caller, World, deploy_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "messages"
CONFIRMED = "placement_confirmed"


def run_message_jobs(db: Database) -> int:
    """Run every due job, as the worker would; how many message deliveries finished in it."""

    def finished() -> set[int]:
        with db.transaction(write=False) as s:
            return set(s.scalars(select(Job.id).where(Job.kind == "message", Job.status.in_(("done", "failed")))))

    before = finished()
    jobs.run_due(db)
    return len(finished() - before)


def keys(mobility_id: str) -> dict[str, Any]:
    return {"mobility": {"mobility_id": mobility_id}}


@pytest.fixture
def deployed(world: World) -> World:
    paths = [FIXTURES / f"{name}.bpmn" for name in
             ("await_confirmation", "register_mobility", "request_placement", "host_placement")]
    response = deploy_files(world.admin, paths)
    assert response.status_code == 201, response.get_json()
    return world


def start(caller: Caller, key: str, parties: dict[str, Any], **variables: Any) -> str:
    response = caller.post("/api/process-instances",
                           json={"process_key": key, "parties": parties, "variables": variables})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def instance(caller: Caller, instance_id: str) -> dict[str, Any]:
    response = caller.get(f"/api/process-instances/{instance_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ready(caller: Caller, instance_id: str) -> list[str]:
    return [t["bpmn_id"] for t in instance(caller, instance_id)["ready_tasks"]]


def confirm(caller: Caller, mobility_id: str, **extra: Any) -> Any:
    body = {"name": CONFIRMED, "correlation_keys": keys(mobility_id),
            "payload": {"mobility_id": mobility_id, "confirmed_by": "Hotel Sol"}, **extra}
    return caller.post("/api/messages", json=body)


def test_the_endpoints_are_documented(world: World) -> None:
    spec = world.client.get("/api/openapi.json").get_json()
    post = spec["paths"]["/api/messages"]["post"]
    assert {"200", "201", "202"} <= set(post["responses"])
    assert "SendMessage" in spec["components"]["schemas"]
    assert "get" in spec["paths"]["/api/messages/pending"]


def test_a_party_delivers_into_the_right_waiting_instance(deployed: World) -> None:
    world = deployed
    parties = {"sending": world.sending_org}
    first = start(world.sender, "await_confirmation", parties, mobility_id="M-1")
    second = start(world.sender, "await_confirmation", parties, mobility_id="M-2")

    response = confirm(world.sender, "M-2")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"delivered_to": second, "started": False}
    assert ready(world.sender, second) == ["review"]
    assert ready(world.sender, first) == []
    trail = [e["action"] for e in instance(world.sender, second)["audit"]]
    assert "message.delivered" in trail


def test_ambiguous_is_409_and_unmatched_without_keep_is_404(deployed: World) -> None:
    world = deployed
    parties = {"sending": world.sending_org}
    start(world.sender, "await_confirmation", parties, mobility_id="M-5")
    start(world.sender, "await_confirmation", parties, mobility_id="M-5")

    ambiguous = confirm(world.admin, "M-5")
    assert ambiguous.status_code == 409
    assert ambiguous.mimetype == "application/problem+json"
    assert "2 instances" in ambiguous.get_json()["detail"]

    missing = confirm(world.admin, "M-404", keep=False)
    assert missing.status_code == 404
    unknown = world.admin.post("/api/messages", json={"name": "nobody_knows_me", "keep": False})
    assert unknown.status_code == 404
    assert world.admin.get("/api/messages/pending").get_json()["items"] == []


def test_a_kept_message_is_listed_then_delivered_when_its_catch_appears(deployed: World) -> None:
    world = deployed
    response = confirm(world.sender, "M-9")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert set(body) == {"pending_message_id", "expires_at"}

    listed = world.admin.get("/api/messages/pending").get_json()["items"]
    assert [(m["id"], m["name"], m["correlation_keys"]) for m in listed] == \
        [(body["pending_message_id"], CONFIRMED, keys("M-9"))]
    assert world.sender.get("/api/messages/pending").status_code == 403

    iid = start(world.sender, "await_confirmation", {"sending": world.sending_org}, mobility_id="M-9")
    assert ready(world.sender, iid) == []
    assert run_message_jobs(world.db) == 1
    assert ready(world.sender, iid) == ["review"]
    assert world.admin.get("/api/messages/pending").get_json()["items"] == []


def test_a_message_start_event_starts_a_process_with_the_given_parties(deployed: World) -> None:
    world = deployed
    body = {"name": "mobility_registered", "payload": {"learner": "Ana"}}
    missing = world.sender.post("/api/messages", json=body)
    assert missing.status_code == 422
    assert "parties.sending" in missing.get_json()["errors"]

    response = world.sender.post("/api/messages", json={**body, "parties": {"sending": world.sending_org}})
    assert response.status_code == 201, response.get_json()
    started = response.get_json()
    assert started["started"] is True
    detail = instance(world.sender, started["delivered_to"])
    assert detail["process_key"] == "register_mobility"
    assert [t["bpmn_id"] for t in detail["ready_tasks"]] == ["welcome"]


def test_a_non_party_cannot_deliver_into_someone_elses_instance(deployed: World) -> None:
    world = deployed
    iid = start(world.sender, "await_confirmation", {"sending": world.sending_org}, mobility_id="M-1")
    for stranger in (world.outsider, world.host):
        response = confirm(stranger, "M-1", keep=False)
        assert response.status_code == 404, response.get_json()
        assert iid not in response.get_json()["detail"]
    assert ready(world.sender, iid) == []
    assert confirm(world.admin, "M-1").get_json() == {"delivered_to": iid, "started": False}


def test_two_processes_exchange_messages_through_the_worker(deployed: World) -> None:
    world = deployed
    host_side = start(world.host, "host_placement", {"hosting": world.hosting_org}, mobility_id="M-3")
    school = start(world.sender, "request_placement", {"sending": world.sending_org},
                   mobility_id="M-3", title="Commis chef", weeks=6)
    assert world.host.get("/api/tasks").get_json()["items"] == []
    jobs.run_due(world.db)
    host_tasks = world.host.get("/api/tasks").get_json()["items"]
    assert [(t["bpmn_id"], t["instance_id"]) for t in host_tasks] == [("answer", host_side)]

    done = world.host.post(f"/api/tasks/{host_tasks[0]['id']}/complete", json={"data": {"accepted": True}})
    assert done.status_code == 200, done.get_json()
    jobs.run_due(world.db)
    assert ready(world.sender, school) == ["read_reply"]


def test_the_body_is_validated(world: World) -> None:
    bad_keys = world.admin.post("/api/messages", json={"name": CONFIRMED, "correlation_keys": {"mobility": "M-1"}})
    assert bad_keys.status_code == 422
    assert "correlation_keys" in bad_keys.get_json()["errors"]
    assert world.admin.post("/api/messages", json={"payload": {}}).status_code == 422
    assert world.client.post("/api/messages", json={"name": CONFIRMED}).status_code == 401
