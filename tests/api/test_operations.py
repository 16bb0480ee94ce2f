"""Operator controls over HTTP: suspend/resume/terminate, incidents and retry, due dates, migration."""
from __future__ import annotations

from bench.generate import script_process, sequential_process
from tests.api.conftest import World, post_bundle
from tests.support.api_tasks import PROPOSAL, my_tasks, start


def test_suspend_blocks_completion_until_resumed(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    task_id = my_tasks(world.sender)[0]["id"]
    assert world.sender.post(f"/api/process-instances/{instance['id']}/suspend", json={}).status_code == 403
    suspended = world.admin.post(f"/api/process-instances/{instance['id']}/suspend", json={"reason": "audit"})
    assert suspended.status_code == 200
    assert suspended.get_json()["status"] == "suspended"
    blocked = world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL})
    assert blocked.status_code == 409
    assert world.admin.post(f"/api/process-instances/{instance['id']}/suspend", json={}).status_code == 409
    resumed = world.admin.post(f"/api/process-instances/{instance['id']}/resume")
    assert resumed.status_code == 200
    assert resumed.get_json()["status"] == "waiting"
    assert world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL}).status_code == 200
    trail = [e["action"] for e in world.admin.get(f"/api/process-instances/{instance['id']}").get_json()["audit"]]
    assert "instance.suspended" in trail
    assert "instance.resumed" in trail


def test_terminate_cancels_ready_tasks(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    task_id = my_tasks(world.sender)[0]["id"]
    response = world.admin.post(f"/api/process-instances/{instance['id']}/terminate", json={"reason": "withdrawn"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "terminated"
    assert my_tasks(world.sender) == []
    assert world.sender.get(f"/api/tasks/{task_id}").get_json()["state"] == "cancelled"
    assert world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL}).status_code == 409
    assert world.admin.post(f"/api/process-instances/{instance['id']}/terminate", json={}).status_code == 409


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


def test_due_date_change_shows_overdue_in_task_lists(two_lane: World) -> None:
    world = two_lane
    start(world)
    task_id = my_tasks(world.sender)[0]["id"]
    assert my_tasks(world.sender)[0]["overdue"] is False
    past = world.admin.put(f"/api/tasks/{task_id}/due-date", json={"due_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 200
    assert past.get_json()["overdue"] is True
    assert [t["id"] for t in my_tasks(world.sender, overdue="true")] == [task_id]
    assert my_tasks(world.sender, overdue="false") == []
    assert world.admin.put(f"/api/tasks/{task_id}/due-date", json={"due_at": "2020-01-01T00:00:00"}).status_code == 422
    assert world.sender.put(f"/api/tasks/{task_id}/due-date", json={"due_at": None}).status_code == 403


def test_migrate_to_a_compatible_version_and_refuse_an_incompatible_one(world: World) -> None:
    lanes = ("Sending organisation",)
    assert post_bundle(world.admin, {"m.bpmn": sequential_process("m", 2, lanes=lanes)}).status_code == 201
    started = world.admin.post("/api/process-instances",
                               json={"process_key": "m", "parties": {"sending": world.sending_org}})
    iid = started.get_json()["id"]
    assert post_bundle(world.admin, {"m.bpmn": sequential_process("m", 3, lanes=lanes)}).status_code == 201
    moved = world.admin.post(f"/api/process-instances/{iid}/migrate", json={})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["from_version"], moved.get_json()["to_version"]) == (1, 2)
    for expected in ("task_0", "task_1", "task_2"):  # the new third step is now part of the instance
        ready = my_tasks(world.sender, instance_id=iid)
        assert [t["bpmn_id"] for t in ready] == [expected]
        assert world.sender.post(f"/api/tasks/{ready[0]['id']}/complete", json={"data": {}}).status_code == 200
    assert world.admin.get(f"/api/process-instances/{iid}").get_json()["status"] == "completed"

    # version 3 drops steps this instance already has (task_2 is predicted in its tree): refused, unchanged
    fresh = world.admin.post("/api/process-instances",
                             json={"process_key": "m", "parties": {"sending": world.sending_org}}).get_json()
    renamed = sequential_process("m", 2, lanes=lanes).replace(b"task_0", b"step_a")
    assert post_bundle(world.admin, {"m.bpmn": renamed}).status_code == 201
    refused = world.admin.post(f"/api/process-instances/{fresh['id']}/migrate", json={"version": 3})
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["removed"] == ["task_2"]
    assert world.admin.get(f"/api/process-instances/{fresh['id']}").get_json()["version"] == 2
