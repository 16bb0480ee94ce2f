"""Every demo party completes their first task on a 375 px phone: the form comes before the document,
no page is wider than the screen, logs a script error or shows a code value (issue 14, item 4)."""
from __future__ import annotations

from typing import Any

from demo import cast, seed
from tests.support.factories import Person
from tests.support.modeler import watch_console
from tests.support.phone import PHONE, WIDTH, assert_fits_a_phone, fill_the_required
from tests.web.conftest import TIMEOUT_MS, LiveServer, do_sign_in


def test_every_demo_party_completes_their_first_task_at_375_px(browser: Any, live_server: LiveServer,
                                                                 screenshot: Any) -> None:
    seed.seed(live_server.db)
    people = [p for p in cast.PEOPLE if p.tasks]
    # The consortium's college, the chamber, the host, the intermediary, a learner and the school.
    assert {"nl_coordinator", "chamber_officer", "mentor", "intermediary", "jonas", "coordinator"} <= \
        {p.key for p in people}
    for person in people:
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems = watch_console(page)
        try:
            do_sign_in(page, Person(0, person.email, seed.DEMO_PASSWORD))
            assert_fits_a_phone(page, f"inbox of {person.email}")
            page.locator("a.task-link", has_text=person.tasks[0]).first.click()
            page.wait_for_url("**/tasks/*")
            assert_fits_a_phone(page, f"task page of {person.email}")
            if person.key == "intermediary":  # what changed in the group's agreement, in words
                changes = page.locator("table.readonly-table").first.inner_text()
                assert "Assessment arrangements" in changes, changes
                assert "replaced" in changes, changes
            form_top = page.locator("form.generated-form").bounding_box()["y"]
            document = page.locator("#task-document")
            if document.count():
                assert form_top < document.bounding_box()["y"], "the form comes first on a phone"
                assert page.locator(".jump-to-document a").is_visible()
            screenshot(page, f"phone-task-{person.key}")
            fill_the_required(page, person.tasks[0])
            page.get_by_role("button", name="Complete task", exact=True).click()
            page.wait_for_url("**/tasks")
            assert "is done" in page.locator(".flashes").inner_text(), person.email
            assert_fits_a_phone(page, f"inbox of {person.email} after the task")
            assert problems == [], f"{person.email}: {problems}"
        finally:
            context.close()


def test_wide_screen_shows_the_document_beside_the_form(page: Any, live_server: LiveServer) -> None:
    seed.seed(live_server.db)
    do_sign_in(page, Person(0, "jonas.keller@learner.example", seed.DEMO_PASSWORD))
    page.locator("a.task-link").first.click()
    page.wait_for_url("**/tasks/*")
    form = page.locator("section.task-form").bounding_box()
    document = page.locator("#task-document").bounding_box()
    assert document["x"] + document["width"] <= form["x"], "document on the left, form on the right"
    assert abs(document["y"] - form["y"]) < 2
    assert page.evaluate(WIDTH) <= 1280
    assert not page.locator(".jump-to-document a").is_visible()
    # Table cells break between words only ("CHANG E", "achiev ed" were words cut by overflow-wrap: anywhere).
    breaking = page.evaluate(BREAKING_CELLS)
    assert breaking == [], breaking


BREAKING_CELLS = """() => [...document.querySelectorAll('table th, table td')]
  .map(c => getComputedStyle(c))
  .filter(s => s.overflowWrap === 'anywhere' || s.wordBreak === 'break-all')
  .map(s => s.overflowWrap + '/' + s.wordBreak)"""
