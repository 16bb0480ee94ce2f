"""A school coordinator finds a partner and compares units on a 375 px phone: nothing wider than the screen."""
from __future__ import annotations

from typing import Any

from tests.support.factories import PASSWORD, Person
from tests.support.partner_search import make_directory
from tests.web.conftest import TIMEOUT_MS, LiveServer, do_sign_in

PHONE = {"width": 375, "height": 800}


def test_find_a_partner_and_compare_on_a_phone(browser: Any, live_server: LiveServer, screenshot: Any) -> None:
    directory = make_directory(live_server.db)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        do_sign_in(page, Person(directory.school.user_id, directory.school.email, PASSWORD))
        page.goto("/partners")
        page.get_by_label("Sector").select_option("hospitality")
        page.get_by_label("Unit or learning outcome").fill("salads")
        page.get_by_role("button", name="Find").click()
        page.wait_for_url("**/partners?**")
        assert page.get_by_role("cell", name="Hotel Sol de Valencia").is_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "partners-375")
        page.get_by_role("link", name="with Cook (DE)").click()
        page.wait_for_url("**/comparison?**")
        assert page.get_by_role("heading", name="What Hotel Sol de Valencia offers, unit by unit").is_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "partner-comparison-375")
        assert errors == []
    finally:
        context.close()
