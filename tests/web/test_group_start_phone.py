"""Nominating a group on a 375 px phone: the form, a row added without JavaScript and a refusal shown next
to its field all fit the screen (nothing wider than it)."""
from __future__ import annotations

from typing import Any

from tests.support.ecvet_factories import active_mou, make_party
from tests.support.factories import PASSWORD, Person
from tests.web.conftest import TIMEOUT_MS, LiveServer, do_sign_in

PHONE = {"width": 375, "height": 800}
WIDTH = "() => document.documentElement.scrollWidth"


def test_the_group_page_fits_a_phone(browser: Any, live_server: LiveServer, screenshot: Any) -> None:
    school, company = make_party(live_server.db, "NL", "Horeca College"), make_party(live_server.db, "BE", "Brasserie")
    active_mou(live_server.db, school, company, countries=("NL", "BE"))
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        do_sign_in(page, Person(school.user_id, school.email, PASSWORD))
        page.goto("/start")
        page.click("#card-group a")
        page.wait_for_selector("#group-form")
        assert page.evaluate(WIDTH) <= PHONE["width"]
        page.fill("#f-name", "Class 3B 2027")
        page.click("#add-person")
        page.wait_for_selector("#f-accompanying_persons-1-name")
        assert page.input_value("#f-name") == "Class 3B 2027", "what was typed stays"
        assert page.evaluate(WIDTH) <= PHONE["width"]
        page.click("#nominate-group")
        page.wait_for_selector("#error-summary")
        assert "Required" in page.inner_text("#f-programme-error")
        assert page.evaluate(WIDTH) <= PHONE["width"]
        screenshot(page, "phone-group-nomination")
    finally:
        context.close()
