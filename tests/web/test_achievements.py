"""The learner opens "My achievements" from the navigation on a 375 px phone: nothing wider than the screen."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine import clock
from engine.clock import FrozenClock
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER, make_lifecycle_world
from tests.support.factories import PASSWORD, Person
from tests.web.conftest import TIMEOUT_MS, LiveServer, do_sign_in

PHONE = {"width": 375, "height": 800}


def test_the_learner_reads_her_achievements_on_a_phone(browser: Any, live_server: LiveServer,
                                                        screenshot: Any) -> None:
    frozen = FrozenClock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    previous = clock.use(frozen)
    try:
        life = make_lifecycle_world(live_server.db, frozen, "implications")
    finally:
        clock.use(previous)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        do_sign_in(page, Person(life.learner.user_id, life.learner.email, PASSWORD))
        page.get_by_role("link", name="My achievements").click()
        page.wait_for_url("**/achievements")
        assert page.get_by_role("heading", name=f"Achievements of {LIFECYCLE_LEARNER}").is_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "achievements-375")
        assert errors == []
    finally:
        context.close()
