"""GET /api/process-instances/{id}/data: parties and admins, with other parties' submissions withheld."""
from __future__ import annotations

from tests.api.conftest import World, assert_problem, post_bundle
from tests.support.instance_data import shared_data


def test_parties_read_the_data_outsiders_get_404(world: World) -> None:
    assert post_bundle(world.admin, {"shared_data.bpmn": shared_data()}).status_code == 201
    started = world.admin.post("/api/process-instances", json={
        "process_key": "shared_data", "variables": {"items": [2, 7]},
        "parties": {"sending": world.sending_org, "hosting": world.hosting_org}}).get_json()
    propose = started["ready_tasks"][0]["id"]
    assert world.sender.post(f"/api/tasks/{propose}/complete", json={"data": {"plan": "A"}}).status_code == 200
    assess = world.admin.get(f"/api/process-instances/{started['id']}").get_json()["ready_tasks"][0]["id"]
    assert world.host.post(f"/api/tasks/{assess}/complete", json={"data": {"grade": 4}}).status_code == 200

    url = f"/api/process-instances/{started['id']}/data"
    mine = world.sender.get(url)
    assert mine.status_code == 200, mine.get_json()
    body = mine.get_json()
    each = next(t for t in body["tasks"] if t["bpmn_id"] == "each")
    assert [(c["index"], c["item"]) for c in each["instances"]] == [(0, 2), (1, 7)]
    assert all("grade" not in t["data"] for t in body["tasks"])
    assert body["process"]["withheld"] in ([], ["grade"])
    everything = world.admin.get(url).get_json()
    assert any(t["data"].get("grade") == 4 for t in everything["tasks"])
    assert_problem(world.outsider.get(url), 404)
