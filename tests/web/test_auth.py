"""Signing in and out in a real browser: the session cookie, the lock-out and CSRF as a person meets them."""
from __future__ import annotations

import re
from typing import Any

from engine import throttle
from tests.web.conftest import Demo, LiveServer


def test_sign_in_lands_in_the_inbox_and_sign_out_ends_the_session(page: Any, demo: Demo, sign_in_as: Any,
                                                                  screenshot: Any) -> None:
    page.goto("/tasks")
    page.wait_for_url(re.compile(r"/sign-in\?next=/tasks"))
    screenshot(page, "sign-in")
    sign_in_as(page, demo.mentor)
    assert page.get_by_role("heading", name="My tasks").is_visible()
    assert page.get_by_text("No tasks for you.").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "ecvet_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    page.goto("/tasks")
    page.wait_for_url(re.compile(r"/sign-in"))


def test_wrong_password_then_lock_out_is_shown(page: Any, demo: Demo, live_server: LiveServer) -> None:
    page.goto("/sign-in")
    for _ in range(throttle.MAX_FAILURES):
        page.get_by_label("E-mail address").fill(demo.mentor.email)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert "E-mail or password is wrong" in alert.inner_text()

    # Locked now: even the right password is refused, and the page says why and for how long.
    page.get_by_label("E-mail address").fill(demo.mentor.email)
    page.get_by_label("Password").fill(demo.mentor.password)
    with page.expect_response(lambda r: r.url.endswith("/sign-in") and r.request.method == "POST") as info:
        page.get_by_role("button", name="Sign in").click()
    assert info.value.status == 429
    assert "Too many failed sign-ins" in page.get_by_role("alert").inner_text()
    assert "/sign-in" in page.url


def test_a_post_without_the_csrf_token_is_refused(page: Any, demo: Demo, sign_in_as: Any) -> None:
    sign_in_as(page, demo.coordinator)
    # A request that carries the session cookie but no token, as a forged cross-site form would.
    response = page.request.post("/sign-out", form={})
    assert response.status == 400
    assert "reload the page" in response.text()
    page.goto("/tasks")
    assert page.get_by_role("heading", name="My tasks").is_visible()  # still signed in
