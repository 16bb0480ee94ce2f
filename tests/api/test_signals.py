"""POST /api/signals and signals thrown by instances: every waiting catch the sender may reach (issue 11 item 2)."""
from __future__ import annotations

from typing import Any

from engine import jobs
from tests.api.conftest import World, assert_problem, post_bundle
from tests.support.messages import data
from tests.support.signals import thrower, waiter


def _deploy(world: World) -> None:
    response = post_bundle(world.admin, {"await_alarm.bpmn": waiter(), "raise_alarm.bpmn": thrower()})
    assert response.status_code == 201, response.get_json()


def _start(world: World, key: str, org: int) -> str:
    response = world.admin.post("/api/process-instances", json={"process_key": key, "parties": {"sending": org}})
    assert response.status_code == 201, response.get_json()
    instance_id: str = response.get_json()["id"]
    return instance_id


def _instance(world: World, instance_id: str) -> dict[str, Any]:
    body: dict[str, Any] = world.admin.get(f"/api/process-instances/{instance_id}").get_json()
    return body


def _ready(world: World, instance_id: str) -> list[str]:
    return [t["bpmn_id"] for t in _instance(world, instance_id)["ready_tasks"]]


def test_a_signal_reaches_every_waiting_instance(world: World) -> None:
    _deploy(world)
    first, second = _start(world, "await_alarm", world.sending_org), _start(world, "await_alarm", world.hosting_org)
    response = world.admin.post("/api/signals", json={"name": "alarm", "payload": {"level": 3}})
    assert response.status_code == 200, response.get_json()
    assert sorted(response.get_json()["delivered_to"]) == sorted([first, second])
    assert _ready(world, first) == ["after"]
    assert _ready(world, second) == ["after"]
    assert data(world.db, first)["alarm_data"] == {"level": 3}
    actions = [e["action"] for e in _instance(world, first)["audit"]]
    assert "signal.delivered" in actions


def test_a_person_reaches_only_instances_of_their_organisation(world: World) -> None:
    _deploy(world)
    mine, theirs = _start(world, "await_alarm", world.sending_org), _start(world, "await_alarm", world.hosting_org)
    assert world.outsider.post("/api/signals", json={"name": "alarm"}).get_json()["delivered_to"] == []
    assert world.sender.post("/api/signals", json={"name": "alarm"}).get_json()["delivered_to"] == [mine]
    assert _ready(world, mine) == ["after"]
    assert _ready(world, theirs) == []


def test_a_signal_nobody_waits_for_is_delivered_nowhere(world: World) -> None:
    _deploy(world)
    response = world.admin.post("/api/signals", json={"name": "nobody listens"})
    assert response.status_code == 200
    assert response.get_json()["delivered_to"] == []
    assert_problem(world.admin.post("/api/signals", json={"payload": {}}), 422)


def test_a_thrown_signal_reaches_the_instances_of_its_parties_only(world: World) -> None:
    _deploy(world)
    same, other = _start(world, "await_alarm", world.sending_org), _start(world, "await_alarm", world.hosting_org)
    sender = _start(world, "raise_alarm", world.sending_org)
    assert _instance(world, sender)["status"] == "completed"
    assert _ready(world, same) == []  # the worker delivers it, in the receiver's own unit of work
    jobs.run_due(world.db)
    assert _ready(world, same) == ["after"]
    assert data(world.db, same)["alarm_data"] == {"level": 2}
    assert _ready(world, other) == []
    sent = [e["detail"] for e in _instance(world, sender)["audit"] if e["action"] == "signal.sent"]
    assert sent == [{"name": "alarm", "delivered_to": [same]}]
