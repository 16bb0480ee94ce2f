"""Two-lane proposals through the API: started, and each caller's task list."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import World

PROPOSAL = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}


def start(world: World, **extra: Any) -> dict[str, Any]:
    body = {
        "process_key": "two_lane_review",
        "business_key": "mobility-1",
        "parties": {"sending": world.sending_org, "hosting": {"organisation_id": world.hosting_org}},
        **extra,
    }
    response = world.sender.post("/api/process-instances", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def my_tasks(caller: Any, **params: str) -> list[dict[str, Any]]:
    response = caller.get("/api/tasks", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]
