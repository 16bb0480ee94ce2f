"""/api/incidents: what went wrong in a process, listed and retried by administrators over HTTP."""
from __future__ import annotations

from bench.generate import script_process
from tests.api.conftest import World, post_bundle


def test_incident_listed_and_retried_after_fixing_data(world: World) -> None:
    assert post_bundle(world.admin, {"div.bpmn": script_process("div", "share = 60 / divisor")}).status_code == 201
    started = world.admin.post("/api/process-instances", json={"process_key": "div", "parties": {},
                                                              "variables": {"divisor": 0}})
    assert started.status_code == 201
    assert started.get_json()["status"] == "error"
    incidents = world.admin.get("/api/incidents").get_json()["items"]
    assert len(incidents) == 1
    assert "division by zero" in incidents[0]["message"]
    assert incidents[0]["bpmn_id"] == "script"
    assert incidents[0]["instance_id"] == started.get_json()["id"]
    assert world.sender.get("/api/incidents").status_code == 403

    retried = world.admin.post(f"/api/incidents/{incidents[0]['id']}/retry", json={"data": {"divisor": 4}})
    assert retried.status_code == 200
    assert retried.get_json()["resolved_at"] is not None
    view = world.admin.get(f"/api/process-instances/{started.get_json()['id']}").get_json()
    assert view["status"] == "waiting"
    assert [t["bpmn_id"] for t in view["ready_tasks"]] == ["check"]
    assert world.admin.get("/api/incidents").get_json()["items"] == []
    assert world.admin.post(f"/api/incidents/{incidents[0]['id']}/retry", json={}).status_code == 409
