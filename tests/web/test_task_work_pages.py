"""Two mentors of one hotel share a task in a real browser: one claims it (the other's form is disabled),
hands it to the colleague, who comments and finds it under "Assigned to me"; a suspended instance's task
says so instead of a form (issue 14, items 7 and 8)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import operations
from engine.models import AuditEvent, HumanTask
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.task_pages import deploy, ready, start
from tests.web.conftest import Demo, LiveServer, save_screenshot

TASK = "Assess the learner's units"


def assessment(live_server: LiveServer, demo: Demo) -> tuple[str, HumanTask]:
    deploy(live_server, "assessment.bpmn", "web_assessment.json")
    coordinator = actor_for(live_server.db, demo.coordinator.id)
    instance_id = start(live_server, coordinator, "web_assessment",
                        {"hosting": demo.hosting_org, "sending": demo.sending_org}, "mobility-anna-valencia")
    (task,) = ready(live_server, instance_id)
    return instance_id, task


def test_claim_hand_over_and_comment(page: Any, browser: Any, live_server: LiveServer, demo: Demo,
                                     sign_in_as: Any) -> None:
    _instance_id, task = assessment(live_server, demo)
    colleague = make_user(live_server.db, organisation_ids=[demo.hosting_org], email="sous-chef@hotel.example",
                          name="Marta Gil")
    sign_in_as(page, demo.mentor)
    row = page.locator(f'tr[data-task-id="{task.id}"]')
    assert "nobody yet" in row.locator("td.claimer").inner_text()
    row.locator("a.task-link").click()
    page.get_by_role("button", name="Claim this task").click()
    assert "You work on this task now" in page.locator(".flashes").inner_text()
    assert "You have claimed it" in page.locator("#claim-status").inner_text()

    other = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    try:
        tab = other.new_page()
        sign_in_as(tab, colleague)
        assert "mentor" in tab.locator(f'tr[data-task-id="{task.id}"] td.claimer').inner_text()
        tab.goto(f"/tasks/{task.id}")
        assert "works on it" in tab.locator("#claim-status").inner_text()
        assert tab.get_by_role("button", name="Complete task", exact=True).is_disabled()
        assert "only they can complete it" in tab.locator("#claimed-by-colleague").inner_text()
        assert tab.get_by_role("button", name="Claim this task").count() == 0

        page.get_by_label("Hand it to a colleague").select_option(label="Marta Gil")
        page.get_by_role("button", name="Assign").click()
        assert "Marta Gil works on this task now." in page.locator(".flashes").inner_text()

        tab.goto("/tasks?assignment=me")
        assert tab.locator(f'tr[data-task-id="{task.id}"]').count() == 1
        tab.locator(f'tr[data-task-id="{task.id}"] a.task-link').click()
        assert tab.get_by_role("button", name="Complete task", exact=True).is_enabled()
        tab.get_by_label("Leave a comment for your colleagues").fill("I assess her on Friday.")
        tab.get_by_role("button", name="Add comment").click()
        assert "I assess her on Friday." in tab.locator(".comment-list").inner_text()
        assert tab.evaluate("() => document.documentElement.scrollWidth") <= 375
        save_screenshot(tab, "task-claimed-and-commented-phone")
    finally:
        other.close()

    page.goto("/tasks?assignment=unassigned")
    assert page.locator(f'tr[data-task-id="{task.id}"]').count() == 0
    with live_server.db.transaction(write=False) as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task.id,
                                                                 AuditEvent.action != "task.created")))
    assert actions == ["task.claimed", "task.assigned", "task.commented"]


def test_a_suspended_instance_is_marked_and_its_form_disabled(page: Any, live_server: LiveServer, demo: Demo,
                                                              sign_in_as: Any) -> None:
    instance_id, task = assessment(live_server, demo)
    with live_server.db.transaction() as s:
        operations.suspend(s, actor=actor_for(live_server.db, demo.admin.id), instance_id=instance_id)
    sign_in_as(page, demo.mentor)
    assert "suspended" in page.locator(f'tr[data-task-id="{task.id}"]').inner_text()
    page.goto(f"/tasks/{task.id}")
    assert "suspended by an administrator" in page.locator("#task-stopped").inner_text()
    assert page.get_by_role("button", name="Complete task", exact=True).is_disabled()
