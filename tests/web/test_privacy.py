"""A learner signing in on a 375 px phone reads the privacy notice first (nothing wider than the screen),
says she has read it, and lands in her inbox; the next sign-in goes straight there."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine import clock
from engine.clock import FrozenClock
from tests.support.ecvet_worlds import make_lifecycle_world
from tests.support.factories import PASSWORD, Person
from tests.web.conftest import TIMEOUT_MS, LiveServer

PHONE = {"width": 375, "height": 800}


def test_the_learner_reads_the_privacy_notice_first_on_a_phone(browser: Any, live_server: LiveServer,
                                                                 screenshot: Any) -> None:
    frozen = FrozenClock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    previous = clock.use(frozen)
    try:
        life = make_lifecycle_world(live_server.db, frozen, "implications")
    finally:
        clock.use(previous)
    learner = Person(life.learner.user_id, life.learner.email, PASSWORD)
    for visit in (1, 2):
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            page.goto("/sign-in")
            page.get_by_label("E-mail address").fill(learner.email)
            page.get_by_label("Password").fill(learner.password)
            page.get_by_role("button", name="Sign in").click()
            if visit == 1:
                page.wait_for_url("**/privacy**")
                assert page.get_by_role("heading", name="Privacy notice").is_visible()
                assert page.get_by_role("heading", name="Complaints").is_visible()
                assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
                screenshot(page, "privacy-notice-375")
                page.get_by_role("button", name="I have read it").click()
            page.wait_for_url("**/tasks**")
        finally:
            context.close()
