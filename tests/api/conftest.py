"""API fixtures: an app per database backend and a small client that speaks bearer tokens."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from engine.config import ROOT, load_settings
from engine.db import Database
from tests.support.factories import Person, make_org, make_user


@pytest.fixture
def app(db: Database) -> Flask:
    settings = load_settings(database_url=db.url)
    application = create_app(settings, database=db)
    application.testing = True
    return application


@dataclass
class Caller:
    """A signed-in person driving the API."""

    client: FlaskClient
    token: str
    person: Person

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self._headers(), **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self._headers(), **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.client.put(url, headers=self._headers(), **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers=self._headers(), **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self._headers(), **kw)


def sign_in(client: FlaskClient, person: Person) -> Caller:
    response = client.post("/api/tokens", json={"email": person.email, "password": person.password})
    assert response.status_code == 201, response.get_json()
    return Caller(client, response.get_json()["token"], person)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status."""
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("https://")
    return body


def post_bundle(caller: Caller, files: dict[str, bytes]) -> Any:
    """Deploy in-memory files as one multipart bundle."""
    data = {"files[]": [(io.BytesIO(content), name) for name, content in files.items()]}
    return caller.post("/api/process-definitions", data=data, content_type="multipart/form-data")


def deploy_files(caller: Caller, paths: list[Path]) -> Any:
    data = {"files[]": [(open(p, "rb"), p.name) for p in paths]}
    try:
        return caller.post("/api/process-definitions", data=data, content_type="multipart/form-data")
    finally:
        for handle, _ in data["files[]"]:
            handle.close()


@dataclass
class World:
    """An admin, a sending and a hosting organisation with one member each, all signed in."""

    db: Database
    client: FlaskClient
    admin: Caller
    sending_org: int
    hosting_org: int
    sender: Caller
    host: Caller
    outsider: Caller


@pytest.fixture
def world(app: Flask, db: Database) -> World:
    client = app.test_client()
    sending = make_org(db, sending_school=True)
    hosting = make_org(db, hosting_company=True)
    other = make_org(db)
    admin = sign_in(client, make_user(db, is_admin=True))
    return World(
        db=db,
        client=client,
        admin=admin,
        sending_org=sending.id,
        hosting_org=hosting.id,
        sender=sign_in(client, make_user(db, organisation_ids=[sending.id])),
        host=sign_in(client, make_user(db, organisation_ids=[hosting.id])),
        outsider=sign_in(client, make_user(db, organisation_ids=[other.id])),
    )


TWO_LANE = ROOT / "processes" / "two_lane_review.bpmn"


@pytest.fixture
def two_lane(world: World) -> World:
    response = deploy_files(world.admin, [TWO_LANE])
    assert response.status_code == 201, response.get_json()
    return world
