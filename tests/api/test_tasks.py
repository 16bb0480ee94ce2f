"""/api/tasks: lane routing, visibility, form validation, completion and due dates through the HTTP API alone."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import World, sign_in
from tests.support.api_tasks import PROPOSAL, my_tasks, start
from tests.support.factories import make_user
from tests.support.statements import counted


def test_two_parties_each_see_and_complete_only_their_own_tasks(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    assert instance["status"] == "waiting"
    assert instance["parties"]["sending"] == {"organisation_id": world.sending_org, "user_id": None}

    sender_tasks = my_tasks(world.sender)
    assert [t["bpmn_id"] for t in sender_tasks] == ["propose"]
    assert sender_tasks[0]["role"] == "sending"
    assert my_tasks(world.host) == []
    assert my_tasks(world.outsider) == []

    task_id = sender_tasks[0]["id"]
    # the hosting member and an outsider cannot even see the sending task
    assert world.host.get(f"/api/tasks/{task_id}").status_code == 404
    assert world.outsider.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL}).status_code == 404

    detail = world.sender.get(f"/api/tasks/{task_id}").get_json()
    assert detail["form"]["schema"]["required"] == ["placement_title", "start_date", "weeks"]
    assert detail["form_file"] == "two_lane_propose.json"
    assert "placement" in detail["instructions"]

    done = world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "completed"
    assert done.get_json()["completed_by"] == world.sender.person.id

    assert my_tasks(world.sender) == []
    host_tasks = my_tasks(world.host)
    assert [t["bpmn_id"] for t in host_tasks] == ["review"]
    assert world.sender.get(f"/api/tasks/{host_tasks[0]['id']}").status_code == 404

    review = world.host.post(f"/api/tasks/{host_tasks[0]['id']}/complete", json={"data": {"accepted": True}})
    assert review.status_code == 200, review.get_json()

    final = world.sender.get(f"/api/process-instances/{instance['id']}").get_json()
    assert final["status"] == "completed"
    assert final["completed_at"] is not None
    actions = [e["action"] for e in final["audit"]]
    assert actions.count("task.completed") == 2
    assert "instance.started" in actions
    assert actions[-1] == "instance.status_changed"
    assert [t["bpmn_id"] for t in my_tasks(world.sender, state="completed")] == ["propose"]


def test_invalid_form_data_gets_422_per_field_and_changes_nothing(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    task_id = my_tasks(world.sender)[0]["id"]
    before = world.sender.get(f"/api/process-instances/{instance['id']}").get_json()

    bad = world.sender.post(
        f"/api/tasks/{task_id}/complete",
        json={"data": {"placement_title": "x", "start_date": "not-a-date", "weeks": 99}},
    )
    assert bad.status_code == 422
    assert bad.headers["Content-Type"] == "application/problem+json"
    errors = bad.get_json()["errors"]
    assert set(errors) == {"placement_title", "start_date", "weeks"}

    missing = world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": {"weeks": 3}})
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["placement_title"] == ["This field is required"]

    after = world.sender.get(f"/api/process-instances/{instance['id']}").get_json()
    assert after["audit"] == before["audit"]
    assert after["updated_at"] == before["updated_at"]
    assert my_tasks(world.sender)[0]["id"] == task_id


def test_completed_task_cannot_be_completed_again(two_lane: World) -> None:
    world = two_lane
    start(world)
    task_id = my_tasks(world.sender)[0]["id"]
    assert world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL}).status_code == 200
    again = world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL})
    assert again.status_code == 409
    assert again.get_json()["title"] == "Conflict"


def test_admin_sees_but_needs_on_behalf_to_complete(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    task_id = my_tasks(world.sender)[0]["id"]
    assert world.admin.get(f"/api/tasks/{task_id}").status_code == 200
    refused = world.admin.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL})
    assert refused.status_code == 403
    done = world.admin.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL, "on_behalf": True})
    assert done.status_code == 200
    assert done.get_json()["completed_on_behalf"] is True
    trail = world.admin.get(f"/api/process-instances/{instance['id']}").get_json()["audit"]
    completed = [e for e in trail if e["action"] == "task.completed"]
    assert completed[0]["actor_id"] == world.admin.person.id
    assert completed[0]["detail"]["on_behalf"] is True


def test_rejection_path_runs_a_script_and_completes(two_lane: World) -> None:
    world = two_lane
    instance = start(world)
    world.sender.post(f"/api/tasks/{my_tasks(world.sender)[0]['id']}/complete", json={"data": PROPOSAL})
    review_id = my_tasks(world.host)[0]["id"]
    response = world.host.post(
        f"/api/tasks/{review_id}/complete", json={"data": {"accepted": False, "comment": "Kitchen closed"}}
    )
    assert response.status_code == 200, response.get_json()
    final = world.host.get(f"/api/process-instances/{instance['id']}").get_json()
    assert final["status"] == "completed"


def test_task_bound_to_a_single_user(two_lane: World) -> None:
    world = two_lane
    response = world.admin.post(
        "/api/process-instances",
        json={"process_key": "two_lane_review",
              "parties": {"sending": {"user_id": world.outsider.person.id}, "hosting": world.hosting_org}},
    )
    assert response.status_code == 201
    assert [t["bpmn_id"] for t in my_tasks(world.outsider)] == ["propose"]
    assert my_tasks(world.sender) == []


def test_pagination_walks_every_task_once(two_lane: World) -> None:
    world = two_lane
    for _ in range(5):
        start(world)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = world.sender.get("/api/tasks", query_string=params).get_json()
        seen.extend(t["id"] for t in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert world.sender.get("/api/tasks", query_string={"cursor": "garbage!"}).status_code == 422


def test_the_audit_trail_withholds_what_another_party_submitted(two_lane: World) -> None:
    """Every party sees that a task was completed, but only its own party (and admins) what was in it."""
    world = two_lane
    instance = start(world)
    (task,) = my_tasks(world.sender)
    done = world.sender.post(f"/api/tasks/{task['id']}/complete", json={"data": PROPOSAL})
    assert done.status_code == 200, done.get_json()

    def completed(caller: Any) -> dict[str, Any]:
        body = caller.get(f"/api/process-instances/{instance['id']}").get_json()
        (event,) = [e for e in body["audit"] if e["action"] == "task.completed"]
        return event

    assert completed(world.sender)["detail"]["data"] == PROPOSAL
    assert completed(world.admin)["detail"]["data"] == PROPOSAL
    seen_by_host = completed(world.host)
    assert seen_by_host["detail"]["data"] is None
    assert seen_by_host["detail"]["withheld"] == "submitted by another party"
    assert (seen_by_host["task_id"], seen_by_host["actor_id"]) == (task["id"], world.sender.person.id)
    assert "Commis chef" not in world.host.get(f"/api/process-instances/{instance['id']}").get_data(as_text=True)


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


def test_claim_assign_comment_and_unclaim_through_the_api(two_lane: World) -> None:
    world = two_lane
    start(world)
    colleague = sign_in(world.client, make_user(world.db, organisation_ids=[world.sending_org], name="Ines Colleague"))
    (task,) = my_tasks(world.sender)
    assert task["claimed_by"] is None
    assert [t["id"] for t in my_tasks(world.sender, assignment="unassigned")] == [task["id"]]

    claimed = world.sender.post(f"/api/tasks/{task['id']}/claim")
    assert claimed.status_code == 200, claimed.get_json()
    assert claimed.get_json()["claimed_by"] == world.sender.person.id
    assert my_tasks(world.sender, assignment="unassigned") == []
    assert [t["id"] for t in my_tasks(world.sender, assignment="me")] == [task["id"]]
    taken = colleague.post(f"/api/tasks/{task['id']}/claim")
    assert taken.status_code == 409
    assert taken.headers["Content-Type"] == "application/problem+json"
    refused = colleague.post(f"/api/tasks/{task['id']}/complete", json={"data": PROPOSAL})
    assert refused.status_code == 409
    assert world.host.post(f"/api/tasks/{task['id']}/claim").status_code == 404

    stranger = world.sender.post(f"/api/tasks/{task['id']}/assign", json={"user_id": world.host.person.id})
    assert stranger.status_code == 422
    assert "user_id" in stranger.get_json()["errors"]
    handed = world.sender.post(f"/api/tasks/{task['id']}/assign", json={"user_id": colleague.person.id})
    assert handed.get_json()["claimed_by"] == colleague.person.id

    said = colleague.post(f"/api/tasks/{task['id']}/comments", json={"body": "I take it from here."})
    assert said.status_code == 201, said.get_json()
    assert said.get_json()["author"] == "Ines Colleague"
    assert world.sender.post(f"/api/tasks/{task['id']}/comments", json={"body": ""}).status_code == 422
    assert [c["body"] for c in world.sender.get(f"/api/tasks/{task['id']}/comments").get_json()] == [
        "I take it from here."]
    assert world.host.get(f"/api/tasks/{task['id']}/comments").status_code == 404

    assert world.sender.post(f"/api/tasks/{task['id']}/unclaim").status_code == 403
    assert colleague.post(f"/api/tasks/{task['id']}/unclaim").get_json()["claimed_by"] is None
    done = world.sender.post(f"/api/tasks/{task['id']}/complete", json={"data": PROPOSAL})
    assert done.status_code == 200, done.get_json()


def test_a_completion_over_http_sends_the_token_lookup_and_six_statements(two_lane: World) -> None:
    """Issue 15: the bearer token (with the caller's organisations) in one statement, then the
    completion's six (tests/engine/test_tasks.py); nothing else on the way, e.g. no second read."""
    world = two_lane
    instance = start(world)
    task_id = my_tasks(world.sender, instance_id=instance["id"])[0]["id"]
    assert world.sender.get(f"/api/tasks/{task_id}").status_code == 200  # the form is cached from now on
    with counted(world.db.engine) as statements:
        response = world.sender.post(f"/api/tasks/{task_id}/complete", json={"data": PROPOSAL})
    assert response.status_code == 200, response.get_json()
    sent = [text for text in statements if not text.startswith("BEGIN")]
    if world.db.is_sqlite:  # one audit INSERT per row there (tests/engine/test_tasks.py)
        audit_rows = [text for text in sent if text.startswith("INSERT INTO audit_events")]
        sent = [text for text in sent if text not in audit_rows] + audit_rows[:1]
    assert len(sent) <= 7, sent
