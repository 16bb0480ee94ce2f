"""Participants in a real browser: a mentor assesses (one invalid, then a valid submission), a learner signs
their Learning Agreement, another organisation cannot open the task by URL, and a phone-width inbox."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from ecvet.mobility.models import LaSignature
from engine import tasks
from engine.models import HumanTask, TaskState
from tests.support.engine import actor_for
from tests.support.task_pages import deploy, make_learning_agreement, ready, start
from tests.web.conftest import Demo, LiveServer


def start_assessment(live_server: LiveServer, demo: Demo) -> tuple[str, HumanTask]:
    deploy(live_server, "assessment.bpmn", "web_assessment.json")
    coordinator = actor_for(live_server.db, demo.coordinator.id)
    instance_id = start(live_server, coordinator, "web_assessment",
                        {"hosting": demo.hosting_org, "sending": demo.sending_org}, "mobility-anna-valencia")
    (task,) = ready(live_server, instance_id)
    return instance_id, task


def test_mentor_completes_an_assessment_after_one_invalid_submission(page: Any, live_server: LiveServer,
                                                                     demo: Demo, sign_in_as: Any,
                                                                     screenshot: Any) -> None:
    instance_id, task = start_assessment(live_server, demo)
    sign_in_as(page, demo.mentor)
    row = page.locator(f'tr[data-task-id="{task.id}"]')
    assert "Assess the learner's units" in row.inner_text()
    assert "mobility-anna-valencia" in row.inner_text()
    screenshot(page, "inbox")

    page.get_by_role("link", name="Assess the learner's units").click()
    page.wait_for_url(f"**/tasks/{task.id}")
    assert page.locator(".instructions strong").inner_text() == "as agreed in the Learning Agreement"
    page.get_by_label("Method").select_option("practical task")
    page.get_by_label("Unit code").fill("U1")
    page.get_by_role("radio", name="Achieved", exact=True).check()
    page.get_by_label("ECVET points").fill("75")
    # A second unit, without JavaScript: the button posts the form and it comes back with one more group.
    page.get_by_role("button", name="Add another unit").click()
    second = page.locator("#f-results-1")
    # Playwright's own wait: a string predicate would need eval, which the pages' CSP refuses.
    expect(page.locator("#f-results-1-unit")).to_be_focused()
    second.get_by_label("Unit code").fill("U2")
    second.get_by_role("radio", name="Not achieved").check()
    assert page.locator("#f-results-0-points").input_value() == "75"  # kept across the round trip

    page.get_by_role("button", name="Complete task", exact=True).click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    expect(summary).to_be_focused()
    assert "This field is required" in page.locator("#f-assessed_on-error").inner_text()
    assert "75 is greater than the maximum of 60" in page.locator("#f-results-0-points-error").inner_text()
    assert page.locator("#f-results-0-points").get_attribute("aria-invalid") == "true"
    screenshot(page, "task-page-errors")
    assert [t.id for t in ready(live_server, instance_id)] == [task.id]  # nothing was saved

    page.get_by_label("Date of the assessment").fill("2027-04-02")
    page.locator("#f-results-0-points").fill("12")
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    assert "“Assess the learner's units” is done." in page.locator(".flashes").inner_text()
    assert page.get_by_text("No tasks for you.").is_visible()

    (next_task,) = ready(live_server, instance_id)
    assert next_task.name == "Acknowledge the assessment"
    assert next_task.organisation_id == demo.sending_org
    with live_server.db.transaction(write=False) as s:
        completed = tasks.get(s, actor=actor_for(live_server.db, demo.mentor.id), task_id=task.id)
        assert completed.state == TaskState.COMPLETED
        assert completed.completed_by == demo.mentor.id


def test_another_organisation_cannot_open_the_task_by_url(page: Any, live_server: LiveServer, demo: Demo,
                                                          sign_in_as: Any) -> None:
    _, task = start_assessment(live_server, demo)
    sign_in_as(page, demo.outsider)
    response = page.goto(f"/tasks/{task.id}")
    assert response is not None
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "Assess the learner" not in page.content()
    assert page.locator("form.generated-form").count() == 0


def test_learner_signs_the_learning_agreement(page: Any, live_server: LiveServer, demo: Demo, sign_in_as: Any,
                                              screenshot: Any) -> None:
    la_id, la_hash = make_learning_agreement(live_server, demo)
    deploy(live_server, "la_signing.bpmn", "web_la_sign_learner.json")
    coordinator = actor_for(live_server.db, demo.coordinator.id)
    instance_id = start(live_server, coordinator, "web_la_signing",
                        {"learner": {"user_id": demo.learner.id}, "sending": demo.sending_org}, "mobility-lena",
                        variables={"la_id": la_id, "la_hash": la_hash})

    sign_in_as(page, demo.learner)
    page.get_by_role("link", name="Sign your Learning Agreement").click()
    document = page.locator("article.document")
    assert "Learning Agreement" in document.locator("h2").first.inner_text()
    assert "Preparing cold dishes" in document.inner_text()
    assert "Lena Vos" in document.inner_text()
    assert la_hash in page.locator("#f-la_hash").inner_text()  # the exact text being signed
    # This older form still asks for a name and an e-mail: the platform fills in the signed-in learner's.
    assert page.get_by_label("Your full name").input_value() == "Lena Vos"
    assert page.get_by_label("Your e-mail address").input_value() == demo.learner.email
    page.get_by_label("I have read this Learning Agreement and agree to it").check()
    # Signing in someone else's name is refused next to the field, and nothing is signed.
    page.get_by_label("Your full name").fill("Marta Vos")
    page.get_by_role("button", name="Complete task", exact=True).click()
    assert "Not the signer" in page.locator("#f-signer-name-error").inner_text()
    with live_server.db.transaction(write=False) as s:
        assert s.scalars(select(LaSignature).where(LaSignature.la_id == la_id)).all() == []
    page.get_by_label("Your full name").fill("Lena Vos")
    screenshot(page, "task-page")
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    assert "is done" in page.locator(".flashes").inner_text()

    with live_server.db.transaction(write=False) as s:
        (signature,) = s.scalars(select(LaSignature).where(LaSignature.la_id == la_id)).all()
        assert (signature.party, signature.content_hash, signature.signer_user_id, signature.signer_name,
                signature.signer_email) == ("learner", la_hash, demo.learner.id, "Lena Vos", demo.learner.email)
    (next_task,) = ready(live_server, instance_id)
    assert next_task.organisation_id == demo.sending_org


def test_inbox_and_task_page_fit_a_phone(page: Any, live_server: LiveServer, demo: Demo, sign_in_as: Any,
                                         screenshot: Any) -> None:
    _, task = start_assessment(live_server, demo)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, demo.mentor)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits)
    assert page.locator(f'tr[data-task-id="{task.id}"]').is_visible()
    screenshot(page, "inbox-phone")
    page.goto(f"/tasks/{task.id}")
    assert page.evaluate(fits)
    # Keyboard: the skip link comes first, then the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
