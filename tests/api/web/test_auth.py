"""Sign-in for pages without a browser: cookie flags, lock-out, CSRF, headers, and the API left unchanged."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select, update

from engine import throttle
from engine.models import AuditEvent, User
from engine.security import hash_password
from tests.api.conftest import World, assert_problem
from tests.api.web.conftest import HTML, Browser, browser_for, ready_task, start_two_lane


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    return re.findall(r">([^<]+)</a></li>", nav.group(0)) if nav else []


def test_sign_in_sets_a_protected_session_cookie_and_audits(app: Flask, world: World) -> None:
    browser = browser_for(app)
    browser.get("/sign-in")
    response = browser.post("/sign-in", {"email": world.host.person.email.upper(),
                                         "password": world.host.person.password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ecvet_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; see the HTTPS test below
    browser.get("/tasks")
    response = browser.post("/sign-out", {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert browser.get("/tasks").status_code == 302  # signed out for real
    with world.db.transaction(write=False) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor_id == world.host.person.id)
                                               .order_by(AuditEvent.id))]
    assert "session.signed_in" in actions
    assert "session.signed_out" in actions


def test_cookie_is_secure_over_https(app: Flask, world: World) -> None:
    client = app.test_client()
    page = client.get("/sign-in", base_url="https://ecvet.example", headers=HTML).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/sign-in", base_url="https://ecvet.example",
                           headers={**HTML, "Referer": "https://ecvet.example/sign-in"},
                           data={"email": world.host.person.email, "password": world.host.person.password,
                                 "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_then_lock_out_shown_on_the_page(app: Flask, world: World) -> None:
    browser = browser_for(app)
    for _ in range(throttle.MAX_FAILURES):
        response = browser.post("/sign-in", {"email": world.host.person.email, "password": "wrong password"})
        assert response.status_code == 401
        assert "E-mail or password is wrong." in response.get_data(as_text=True)
    response = browser.post("/sign-in", {"email": world.host.person.email, "password": world.host.person.password})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    html = response.get_data(as_text=True)
    assert "Too many failed sign-ins for this address; try again in" in html
    assert 'role="alert"' in html
    assert browser.get("/tasks").status_code == 302  # not signed in


def test_empty_fields_are_a_422_with_a_message(app: Flask) -> None:
    response = browser_for(app).post("/sign-in", {"email": "", "password": ""})
    assert response.status_code == 422
    assert "Enter your e-mail address and your password." in response.get_data(
        as_text=True)


def test_next_never_leaves_the_site(app: Flask, world: World) -> None:
    for target in ("//evil.example/tasks", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        browser = browser_for(app)
        browser.get("/sign-in")
        response = browser.post(f"/sign-in?next={target}", {"email": world.host.person.email,
                                                              "password": world.host.person.password})
        assert response.headers["Location"] == "/tasks", target


def test_a_password_change_ends_existing_sessions(app: Flask, world: World, pages: dict[str, Browser]) -> None:
    assert pages["host"].get("/tasks").status_code == 200
    with world.db.transaction() as s:
        new_hash = hash_password("new-pw-0123")
        s.execute(update(User).where(User.id == world.host.person.id).values(password_hash=new_hash))
    response = pages["host"].get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(world: World,
                                                                     pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    data = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": "6"}
    for token in (None, "forged-token"):
        payload = dict(data) if token is None else {**data, "csrf_token": token}
        response = pages["sender"].post(f"/tasks/{task['id']}", payload, csrf=False)
        assert response.status_code == 400
        assert "reload the page and try again" in response.get_data(as_text=True)
    assert ready_task(world.sender, instance_id)["state"] == "ready"
    assert pages["sender"].post("/sign-out", {}, csrf=False).status_code == 400
    assert pages["sender"].get("/tasks").status_code == 200


def test_the_json_api_needs_no_csrf_and_sets_no_cookie(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post("/api/tokens", json={"email": world.host.person.email,
                                                "password": world.host.person.password})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    assert_problem(client.get("/api/tasks"), 401)
    # A session cookie does not authenticate the API: only bearer tokens do.
    browser = browser_for(app, world.host.person)
    assert_problem(browser.client.get("/api/tasks"), 401)


def test_pages_carry_security_headers(app: Flask, world: World, pages: dict[str, Browser]) -> None:
    response = pages["host"].get("/tasks")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script anywhere


def test_error_pages_are_html_for_browsers_and_problems_for_scripts(app: Flask, pages: dict[str, Browser]) -> None:
    response = pages["host"].get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)
    response = pages["host"].client.get("/tasks/unknown-id", headers={"Accept": "application/json"})
    assert_problem(response, 404)
    response = app.test_client().get("/tasks", headers={"Accept": "application/json"})
    assert_problem(response, 401)


def test_navigation_shows_what_each_person_may_use(app: Flask, pages: dict[str, Browser]) -> None:
    participant_nav = nav_labels(pages["sender"].get("/tasks").get_data(as_text=True))
    assert participant_nav[:2] == ["My tasks", "Documents"]
    assert "Process definitions" not in participant_nav
    admin_nav = nav_labels(pages["admin"].get("/tasks").get_data(as_text=True))
    assert admin_nav[:2] == ["My tasks", "Documents"]
    assert set(admin_nav) <= {"My tasks", "Documents", "Start", "Process definitions", "Dashboard"}
    assert nav_labels(browser_for(app).get("/sign-in").get_data(as_text=True)) == []
