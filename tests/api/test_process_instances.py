"""/api/process-instances: starting with a party binding, who sees an instance, and the operator actions
(suspend, resume, terminate, migrate)."""
from __future__ import annotations

from bench.generate import sequential_process
from tests.api.conftest import World, post_bundle
from tests.support.api_tasks import PROPOSAL, my_tasks, start


def test_instances_are_invisible_to_non_parties(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    assert world.outsider.get(f"/api/process-instances/{instance['id']}").status_code == 404
    assert world.outsider.get("/api/process-instances").get_json()["items"] == []
    assert [i["id"] for i in world.host.get("/api/process-instances").get_json()["items"]] == [instance["id"]]
    view = world.host.get(f"/api/process-instances/{instance['id']}").get_json()
    # the host sees that the sending side has work, but not the task's id
    assert view["ready_tasks"][0]["id"] is None
    assert view["ready_tasks"][0]["actionable"] is False


def test_party_binding_must_cover_every_lane(two_lane: World) -> None:
    world = two_lane
    response = world.sender.post(
        "/api/process-instances",
        json={"process_key": "two_lane_review", "parties": {"sending": world.sending_org, "learner": 1}},
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "parties.hosting" in errors
    assert "parties.learner" in errors


def test_outsider_cannot_start_an_instance_for_others(two_lane: World) -> None:
    world = two_lane
    response = world.outsider.post(
        "/api/process-instances",
        json={"process_key": "two_lane_review",
              "parties": {"sending": world.sending_org, "hosting": world.hosting_org}},
    )
    assert response.status_code == 403


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
