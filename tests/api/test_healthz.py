"""GET /healthz: liveness and a database round trip, without a token; 503 with Retry-After otherwise."""
from __future__ import annotations

from typing import Any

from flask import Flask

from engine.db import Database
from tests.api.conftest import World, assert_problem


def test_healthz_reports_ok_without_a_token(world: World) -> None:
    response = world.client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == world.db.engine.dialect.name
    assert body["schema_revision"]


def test_healthz_reports_an_unreachable_database_as_503(app: Flask, tmp_path: Any) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # exists once opened, never migrated
    try:
        app.extensions["ecvet_db"] = broken
        response = app.test_client().get("/healthz")
        body = assert_problem(response, 503)
        assert "not migrated" in body["detail"] or "unreachable" in body["detail"]
        assert int(response.headers["Retry-After"]) > 0
    finally:
        broken.dispose()
