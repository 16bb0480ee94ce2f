"""/api/action-plans: a review's plan, and its owners (or the sending organisation) moving actions on."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import Caller, Reviewed, assert_problem


def patch(caller: Caller, url: str, json: dict[str, object]) -> Any:
    return caller.client.patch(url, headers={"Authorization": f"Bearer {caller.token}"}, json=json)


def test_owners_move_their_actions_on(reviewed: Reviewed) -> None:
    r = reviewed
    plan = r.sender.get(f"/api/reviews/{r.review_id}").get_json()["action_plan"]
    hosting_item, sending_item, learner_item = (i["id"] for i in plan["items"])
    assert (plan["status"], plan["actions_done"], plan["actions_total"]) == ("open", 0, 3)
    url = f"/api/action-plans/{plan['id']}/items"
    response = patch(r.host, f"{url}/{hosting_item}", json={"status": "done", "note": "Template changed"})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["actions_done"]) == ("in_progress", 1)
    assert [(i["status"], i["status_note"]) for i in response.get_json()["items"]][0] == ("done", "Template changed")
    assert patch(r.learner, f"{url}/{learner_item}", json={"status": "in_progress"}).status_code == 200
    assert_problem(patch(r.learner, f"{url}/{sending_item}", json={"status": "done"}), 403)
    assert_problem(patch(r.host, f"{url}/{sending_item}", json={"status": "done"}), 403)
    assert_problem(patch(r.sender, f"{url}/{sending_item}", json={"status": "finished"}), 422)
    assert_problem(patch(r.sender, f"{url}/999999", json={"status": "done"}), 404)
    assert patch(r.sender, f"{url}/{sending_item}", json={"status": "dropped"}).status_code == 200
    read = r.admin.get(f"/api/action-plans/{plan['id']}").get_json()
    assert [i["status"] for i in read["items"]] == ["done", "dropped", "in_progress"]
    # The dropped action no longer counts; the learner's is still under way, so the plan is not done.
    assert (read["status"], read["actions_done"], read["actions_total"]) == ("in_progress", 1, 2)
    assert patch(r.learner, f"{url}/{learner_item}", json={"status": "done"}).status_code == 200
    done = r.sender.get(f"/api/reviews/{r.review_id}").get_json()["action_plan"]
    assert (done["status"], done["actions_done"], done["actions_total"]) == ("done", 2, 2)
