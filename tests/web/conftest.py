"""Browser-test harness: a real server on a fresh SQLite database, driven by Debian's chromium via Playwright.

Browser tests run on SQLite only: the pages call the same engine services as the API, whose suite
covers PostgreSQL. Chromium comes from Debian (`make test` installs it when missing); Playwright never
downloads a browser here.

Fixtures for page tests (D1 and D2 alike):

* ``live_server``: a :class:`LiveServer` (``url``, ``db``, ``app``) serving ``create_app`` in a thread
  on a free port, on its own migrated database; ``live_server.url_for("/tasks")``.
* ``demo``: a :class:`Demo` with a sending school, a hosting company and an outsider organisation, a
  member of each, an administrator and a learner (all :class:`~tests.support.factories.Person`).
* ``browser`` (one chromium per test session) and ``page`` (a fresh context per test: no shared cookies).
* ``sign_in_as(page, person)``: fills the sign-in form and waits for the inbox.
* ``screenshot(page, name)``: saves ``test-artifacts/screenshots/<name>.png`` (git-ignored).
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

os.environ.setdefault("ECVET_SECRET_KEY", "browser-tests-only-secret")

from playwright.sync_api import sync_playwright

from api.app import create_app  # noqa: E402
from engine.config import ROOT, load_settings  # noqa: E402
from engine.db import Database  # noqa: E402
from tests.support.factories import Person, make_org, make_user  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    url: str
    db: Database
    app: Flask

    def url_for(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A threaded WSGI server on 127.0.0.1 serving the whole app on a fresh migrated SQLite database."""
    path = tmp_path / "ecvet.sqlite3"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    app = create_app(load_settings(database_url=db.url), database=db)
    server: BaseWSGIServer = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", db, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        db.dispose()


@dataclass
class Demo:
    """The parties of a mobility, each with one member, plus an administrator and an outsider."""

    sending_org: int
    hosting_org: int
    outsider_org: int
    coordinator: Person
    mentor: Person
    outsider: Person
    admin: Person
    learner: Person


@pytest.fixture
def demo(live_server: LiveServer) -> Demo:
    db = live_server.db
    sending = make_org(db, sending_school=True)
    hosting = make_org(db, hosting_company=True)
    outsider = make_org(db)
    return Demo(
        sending_org=sending.id,
        hosting_org=hosting.id,
        outsider_org=outsider.id,
        coordinator=make_user(db, organisation_ids=[sending.id], email="coordinator@school.example"),
        mentor=make_user(db, organisation_ids=[hosting.id], email="mentor@hotel.example"),
        outsider=make_user(db, organisation_ids=[outsider.id], email="someone@elsewhere.example"),
        admin=make_user(db, is_admin=True, email="admin@platform.example"),
        learner=make_user(db, email="learner@mail.example", name="Lena Vos"),
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or "
                    "`apt-get install -y chromium`")

    # launch() gives every run a new temporary profile (user-data dir) that it deletes on close.
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (its own cookies) at laptop size, with the live server as base URL."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def do_sign_in(page: Any, person: Person, *, expect_inbox: bool = True) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    if expect_inbox:
        # A learner (or a minor's guardian) reads the privacy notice first, once per version.
        page.wait_for_url(re.compile(r".*/(tasks|privacy)\b.*"))
        if "/privacy" in page.url:
            page.get_by_role("button", name="I have read it").click()
        page.wait_for_url("**/tasks**")


@pytest.fixture
def sign_in_as() -> Callable[..., None]:
    return do_sign_in


def save_screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    return save_screenshot
