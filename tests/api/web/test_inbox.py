"""My tasks without a browser: the columns, filters, ordering, pages and the empty states."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from api.web import inbox as inbox_pages
from tests.api.conftest import World
from tests.api.web.conftest import Browser, ready_task, start_two_lane


def task_ids(html: str) -> list[str]:
    return re.findall(r'data-task-id="([^"]+)"', html)


def set_due(world: World, task_id: str, due: datetime) -> None:
    response = world.admin.put(f"/api/tasks/{task_id}/due-date", json={"due_at": due.isoformat()})
    assert response.status_code == 200, response.get_json()


def test_inbox_lists_my_tasks_with_process_business_key_party_and_dates(world: World,
                                                                        pages: dict[str, Browser]) -> None:
    first = ready_task(world.sender, start_two_lane(world, "mobility-1"))
    second = ready_task(world.sender, start_two_lane(world, "mobility-2"))
    html = pages["sender"].get("/tasks").get_data(as_text=True)
    assert task_ids(html) == [first["id"], second["id"]]  # oldest first
    row = html[html.index(f'data-task-id="{first["id"]}"'):html.index(f'data-task-id="{second["id"]}"')]
    assert "Propose placement" in row
    assert "Two-lane review" in row
    assert "mobility-1" in row
    assert "Berufsschule" in row
    assert "Sending organisation" in row
    assert "UTC" in row
    assert f'href="/tasks/{first["id"]}"' in row
    # The hosting side and an outsider have nothing yet, and are told so.
    for person in ("host", "outsider"):
        page = pages[person].get("/tasks").get_data(as_text=True)
        assert task_ids(page) == []
        assert "No tasks for you." in page


def test_overdue_badge_filter_and_due_order(world: World, pages: dict[str, Browser]) -> None:
    late = ready_task(world.sender, start_two_lane(world, "late"))
    soon = ready_task(world.sender, start_two_lane(world, "soon"))
    undated = ready_task(world.sender, start_two_lane(world, "undated"))
    now = datetime.now(UTC)
    set_due(world, late["id"], now - timedelta(days=1))
    set_due(world, soon["id"], now + timedelta(days=3))

    html = pages["sender"].get("/tasks").get_data(as_text=True)
    late_row = html[html.index(f'data-task-id="{late["id"]}"'):html.index(f'data-task-id="{soon["id"]}"')]
    assert "is-overdue" in html[html.rindex("<tr", 0, html.index(f'data-task-id="{late["id"]}"')):][:80]
    assert ">overdue<" in late_row
    assert task_ids(pages["sender"].get("/tasks?overdue=yes").get_data(as_text=True)) == [late["id"]]
    assert task_ids(pages["sender"].get("/tasks?overdue=no").get_data(as_text=True)) == [soon["id"], undated["id"]]
    by_due = pages["sender"].get("/tasks?order=due").get_data(as_text=True)
    assert task_ids(by_due) == [late["id"], soon["id"], undated["id"]]


def test_filter_by_process_and_state_and_an_empty_filter_result(world: World, pages: dict[str, Browser]) -> None:
    task = ready_task(world.sender, start_two_lane(world))
    complete = world.sender.post(f"/api/tasks/{task['id']}/complete",
                                 json={"data": {"placement_title": "Cook", "start_date": "2027-03-01", "weeks": 4}})
    assert complete.status_code == 200
    other = ready_task(world.sender, start_two_lane(world, "second"))
    assert task_ids(pages["sender"].get("/tasks").get_data(as_text=True)) == [other["id"]]
    done = pages["sender"].get("/tasks?state=completed").get_data(as_text=True)
    assert task_ids(done) == [task["id"]]
    assert ">completed<" in done
    assert task_ids(pages["sender"].get("/tasks?state=all").get_data(as_text=True)) == [task["id"], other["id"]]
    page = pages["sender"].get("/tasks?process=two_lane_review").get_data(as_text=True)
    assert task_ids(page) == [other["id"]]
    assert '<option value="two_lane_review" selected>Two-lane review</option>' in page
    nothing = pages["sender"].get("/tasks?process=no_such_process").get_data(as_text=True)
    assert task_ids(nothing) == []
    assert "No tasks match these filters." in nothing


def test_pages_follow_each_other_without_repeats(world: World, pages: dict[str, Browser]) -> None:
    created = [ready_task(world.sender, start_two_lane(world, f"m-{i}"))["id"] for i in range(4)]
    original = inbox_pages.PAGE_SIZE
    inbox_pages.PAGE_SIZE = 3
    try:
        for order in ("created", "due"):
            html = pages["sender"].get(f"/tasks?order={order}").get_data(as_text=True)
            seen = task_ids(html)
            assert len(seen) == 3
            next_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")  # type: ignore
            html = pages["sender"].get(next_url).get_data(as_text=True)
            seen += task_ids(html)
            assert seen == created
            assert 'rel="next"' not in html
            assert "First page" in html
    finally:
        inbox_pages.PAGE_SIZE = original


def test_unknown_filter_values_are_a_clear_422(world: World, pages: dict[str, Browser]) -> None:
    response = pages["sender"].get("/tasks?state=lost&order=random")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The task filter is not valid" in html
    assert "state" in html
    assert "order" in html
    assert pages["sender"].get("/tasks?cursor=not-a-cursor").status_code == 422
