"""Two requests racing to complete one task: exactly one wins, the rest get 409, nothing twice."""
from __future__ import annotations

import threading
from typing import Any

from tests.api.conftest import World
from tests.api.test_tasks import PROPOSAL, my_tasks, start

TRIALS = 8
RACERS = 4


def race(world: World, task_id: str) -> list[int]:
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = world.client.application.test_client()
        barrier.wait()
        response = client.post(
            f"/api/tasks/{task_id}/complete",
            json={"data": PROPOSAL},
            headers={"Authorization": f"Bearer {world.sender.token}"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


def test_concurrent_completion_has_exactly_one_winner(two_lane: World) -> None:
    world = two_lane
    for _ in range(TRIALS):
        instance = start(world)
        task_id = my_tasks(world.sender, instance_id=instance["id"])[0]["id"]
        statuses = race(world, task_id)
        assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
        view: dict[str, Any] = world.admin.get(f"/api/process-instances/{instance['id']}").get_json()
        completed = [e for e in view["audit"] if e["action"] == "task.completed"]
        created = [e for e in view["audit"] if e["action"] == "task.created" and e["detail"]["bpmn_id"] == "review"]
        assert len(completed) == 1 and len(created) == 1
        assert [t["bpmn_id"] for t in view["ready_tasks"]] == ["review"]
