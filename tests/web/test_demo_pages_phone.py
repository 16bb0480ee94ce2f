"""The demo's other pages on a 375 px phone (issue 14): the group page (the school's view and the
intermediary's "sign all"), the role map, the Europass page, partner search and comparison, the form
editor, and what the demo users without a task see. Nothing wider than the screen, no script error and
no code value in the text."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from demo import cast, seed
from ecvet.mobility.models import Mobility, MobilityGroup
from ecvet.partnership.models import Partnership
from tests.support.factories import Person
from tests.support.modeler import watch_console
from tests.support.phone import PHONE, assert_fits_a_phone
from tests.web.conftest import TIMEOUT_MS, LiveServer, do_sign_in


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A way to open a fresh 375 px context signed in as a demo user (by e-mail)."""
    contexts: list[Any] = []

    def open_as(email: str) -> tuple[Any, list[str]]:
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        problems = watch_console(page)
        do_sign_in(page, Person(0, email, seed.DEMO_PASSWORD))
        return page, problems

    yield open_as
    for context in contexts:
        context.close()


def visit(page: Any, path: str) -> None:
    response = page.goto(path)
    assert response is not None, path
    assert response.status == 200, path
    assert_fits_a_phone(page, path)


def test_group_role_map_europass_and_partner_pages_at_375_px(live_server: LiveServer, phone: Any,
                                                              screenshot: Any) -> None:
    seed.seed(live_server.db)
    with live_server.db.transaction(write=False) as s:
        group_id = s.scalars(select(MobilityGroup.id)).first()
        partnership_id = s.scalars(select(Partnership.id).order_by(Partnership.id)).first()
        mobility_id = s.scalars(select(Mobility.id).where(Mobility.status == "live")).first()
    assert group_id
    assert partnership_id
    assert mobility_id

    page, problems = phone("coordinator@berufskolleg.example")
    visit(page, f"/mobility-groups/{group_id}")
    members = page.locator("#members").locator("xpath=..").inner_text()
    assert "Mia Schulz: nominated" in members, members  # the status in words, not its code
    screenshot(page, "phone-group")
    visit(page, f"/partnerships/{partnership_id}/role-map")
    screenshot(page, "phone-role-map")
    visit(page, f"/mobilities/{mobility_id}/europass-mobility")
    visit(page, "/documents")
    visit(page, "/partners")
    page.get_by_label("Sector").select_option("hospitality")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/partners?**")
    assert_fits_a_phone(page, "partner search results")
    comparison = page.locator("a[href*='/comparison']")
    if comparison.count():
        comparison.first.click()
        page.wait_for_url("**/comparison**")
        assert_fits_a_phone(page, "partner comparison")
    assert problems == []

    # The intermediary signs the group's copies from the group page.
    page, problems = phone("placement@europraktikum.example")
    visit(page, f"/mobility-groups/{group_id}")
    assert page.locator("form.generated-form button[type=submit]").first.is_visible()
    position = page.get_by_label("Position").first
    assert position.input_value() == "Placement officer"
    assert position.bounding_box()["width"] > 250, "the inputs are styled like every form's, full width"
    screenshot(page, "phone-group-intermediary")
    assert problems == []


def test_form_editor_at_375_px(live_server: LiveServer, phone: Any, screenshot: Any) -> None:
    seed.seed(live_server.db)
    page, problems = phone("admin@example.org")
    visit(page, "/definitions/mobility")
    page.goto("/definitions/mobility/forms/mobility_la_prepare.json")
    page.wait_for_selector("[data-form-editor][data-ready='true']")
    assert_fits_a_phone(page, "form editor")
    screenshot(page, "phone-form-editor")
    assert problems == []


def test_demo_users_without_a_task_see_their_inbox_and_documents_at_375_px(live_server: LiveServer,
                                                                           phone: Any) -> None:
    seed.seed(live_server.db)
    idle = [p for p in cast.PEOPLE if not p.tasks and not p.is_admin]
    assert {"mia", "ben", "regional_officer"} <= {p.key for p in idle}
    for person in idle:
        page, problems = phone(person.email)
        assert_fits_a_phone(page, f"inbox of {person.email}")
        visit(page, "/documents")
        assert problems == [], f"{person.email}: {problems}"
