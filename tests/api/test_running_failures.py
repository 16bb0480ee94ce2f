"""No 500 from a running process (issue 11 item 1): what fails on the data is an incident with a clear message,
whether it fails while the instance starts or when a person completes a task."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World, post_bundle
from tests.support.failures import (
    CORRELATION_READS_MISSING,
    MULTI_INSTANCE_WITHOUT_INPUT,
    TIMER_TIMEDELTA,
    failing,
    uncaught_escalation,
)

CASES = {
    "timer_timedelta": (TIMER_TIMEDELTA, ["Timer 'broken'", "gave a timedelta", '"PT5M"']),
    "multi_instance_without_input": (MULTI_INSTANCE_WITHOUT_INPUT, ["Multi-instance 'broken'", "'items'",
                                                                    "missing from the task data"]),
    "correlation_reads_missing": (CORRELATION_READS_MISSING, ["Message 'order_placed'", "correlation property",
                                                              "order_id"]),
}


def _incident_of(world: World, instance_id: str) -> dict[str, Any]:
    body = world.admin.get(f"/api/process-instances/{instance_id}").get_json()
    assert body["status"] == "error"
    assert len(body["incidents"]) == 1
    incident: dict[str, Any] = body["incidents"][0]
    return incident


@pytest.mark.parametrize("case", sorted(CASES))
def test_failing_while_starting_is_an_incident(world: World, case: str) -> None:
    element, words = CASES[case]
    assert post_bundle(world.admin, {f"{case}.bpmn": failing(case, element, after_a_task=False)}).status_code == 201
    started = world.admin.post("/api/process-instances", json={"process_key": case, "parties": {}})
    assert started.status_code == 201, started.get_json()
    incident = _incident_of(world, started.get_json()["id"])
    assert incident["bpmn_id"] == "broken"
    for word in words:
        assert word in incident["message"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_failing_after_a_completion_is_an_incident(world: World, case: str) -> None:
    element, words = CASES[case]
    assert post_bundle(world.admin, {f"{case}.bpmn": failing(case, element, after_a_task=True)}).status_code == 201
    instance_id = world.admin.post("/api/process-instances", json={"process_key": case, "parties": {}}).get_json()["id"]
    first = world.admin.get(f"/api/process-instances/{instance_id}").get_json()["ready_tasks"][0]
    done = world.admin.post(f"/api/tasks/{first['id']}/complete", json={"data": {}, "on_behalf": True})
    assert done.status_code == 200, done.get_json()
    incident = _incident_of(world, instance_id)
    assert incident["bpmn_id"] == "broken"
    for word in words:
        assert word in incident["message"]


def test_an_uncaught_escalation_is_recorded_and_the_instance_goes_on(world: World) -> None:
    """BPMN: an escalation is not critical; nobody catching it is no error (issue 11 item 8)."""
    assert post_bundle(world.admin, {"esc.bpmn": uncaught_escalation("esc")}).status_code == 201
    started = world.admin.post("/api/process-instances", json={"process_key": "esc", "parties": {}})
    instance_id = started.get_json()["id"]
    body = world.admin.get(f"/api/process-instances/{instance_id}").get_json()
    assert body["status"] == "waiting"
    assert body["incidents"] == []
    assert [t["bpmn_id"] for t in body["ready_tasks"]] == ["last"]
    recorded = [e["detail"] for e in body["audit"] if e["action"] == "escalation.uncaught"]
    assert recorded == [{"name": "Late", "code": "LATE", "payload": None}]
