"""Page tests without a browser: the Flask test client signed in through the sign-in form, with CSRF."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

os.environ.setdefault("ECVET_SECRET_KEY", "page-tests-only-secret")

from engine.db import Database  # noqa: E402
from tests.api.conftest import TWO_LANE, World, deploy_files, sign_in  # noqa: E402
from tests.support.factories import Person  # noqa: E402

HTML = {"Accept": "text/html,application/xhtml+xml"}
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
VERSION = re.compile(r'<input type="hidden" name="version" value="([0-9a-f]{64})">')


@dataclass
class Browser:
    """A person using the pages: a cookie jar, the CSRF token of the last page, HTML accepted."""

    client: FlaskClient
    person: Person | None = None
    token: str | None = None
    #: A learner (or a minor's guardian) is sent to the privacy notice first; like a person, the browser
    #: reads it and says so, then goes where it was going. False: it stays on the notice (its own tests).
    reads_privacy_notice: bool = True

    def get(self, url: str, **kw: Any) -> Any:
        headers = {**HTML, **kw.pop("headers", {})}
        response = self.client.get(url, headers=headers, **kw)
        if self._sent_to_privacy_notice(response):
            response = self.client.get(url, headers=headers, **kw)
        found = TOKEN.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: Any = None, *, csrf: bool = True, **kw: Any) -> Any:
        if csrf and self.token is None:
            self.get("/sign-in")
        # From pairs: MultiDict({...}) would split a (file, name) tuple into two values.
        payload = MultiDict(list(data.items()) if isinstance(data, dict) else data or [])
        if csrf and "csrf_token" not in payload:
            payload.add("csrf_token", self.token)
        headers = {**HTML, **kw.pop("headers", {})}
        response = self.client.post(url, data=payload, headers=headers, **kw)
        if self._sent_to_privacy_notice(response):
            response = self.client.post(url, data=payload, headers=headers, **kw)
        return response

    def _sent_to_privacy_notice(self, response: Any) -> bool:
        """Acknowledge the notice when a page sent the browser to it (then the caller repeats its request)."""
        if not (self.reads_privacy_notice and response.status_code == 302
                and response.location.startswith("/privacy?")):
            return False
        page = self.client.get(response.location, headers=HTML).get_data(as_text=True)
        version, token = VERSION.search(page), TOKEN.search(page)
        assert version is not None, page
        assert token is not None, page
        self.token = token.group(1)
        done = self.client.post("/privacy/acknowledgements", headers=HTML,
                                data={"csrf_token": self.token, "version": version.group(1), "next": "/"})
        assert done.status_code == 302, done.get_data(as_text=True)
        return True

    def sign_in(self, person: Person) -> Any:
        self.get("/sign-in")
        response = self.post("/sign-in", {"email": person.email, "password": person.password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.person = person
        self.get("/tasks")  # a fresh token: signing in starts a new session
        return response


def browser_for(app: Flask, person: Person | None = None) -> Browser:
    browser = Browser(app.test_client())
    if person is not None:
        browser.sign_in(person)
    return browser


@pytest.fixture
def pages(app: Flask, world: World) -> dict[str, Browser]:
    """Signed-in page users of the API `world`: admin, sender, host, outsider."""
    return {name: browser_for(app, getattr(world, name).person) for name in ("admin", "sender", "host", "outsider")}


def start_two_lane(world: World, business_key: str = "mobility-42") -> str:
    """Deploy the two-lane review process and start one instance; returns its id."""

    deploy_files(world.admin, [TWO_LANE])
    response = world.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "business_key": business_key,
        "parties": {"sending": world.sending_org, "hosting": world.hosting_org},
    })
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def ready_task(caller: Any, instance_id: str) -> dict[str, Any]:
    (task,) = caller.get(f"/api/tasks?instance_id={instance_id}").get_json()["items"]
    return task


__all__ = ["Browser", "Database", "browser_for", "pages", "ready_task", "sign_in", "start_two_lane"]
