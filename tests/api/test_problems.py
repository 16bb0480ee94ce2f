"""api/problems.py: errors as application/problem+json everywhere, never a traceback."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from api.deps import authenticated
from engine import parties
from tests.api.conftest import World, assert_problem

TRACE_MARKERS = ("Traceback", 'File "', "site-packages", "sqlalchemy.exc", "werkzeug.exceptions")


# --------------------------------------------------------------------------------------------------
# client errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"process_key": "a",}', b"\xff\xfe\x00", b'{"a": 1} trailing', b""],
    ids=["unquoted", "trailing-comma", "not-utf8", "trailing-data", "empty"],
)
def test_malformed_json_is_400(world: World, raw: bytes) -> None:
    for url in ("/api/process-instances", "/api/tokens"):
        response = world.sender.post(url, data=raw, content_type="application/json")
        if raw == b"":
            # an empty body is no JSON at all: either malformed (400) or missing fields (422)
            assert response.status_code in (400, 422)
            assert_problem(response, response.status_code)
            continue
        body = assert_problem(response, 400)
        assert body["detail"]


def test_wrong_types_in_a_body_are_422_per_field(world: World) -> None:
    response = world.sender.post("/api/process-instances", json={
        "process_key": 5, "version": "latest", "variables": [1, 2], "parties": "sending",
    })
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"process_key", "version", "variables", "parties"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())

    missing = assert_problem(world.sender.post("/api/process-instances", json={}), 422)
    assert set(missing["errors"]) == {"process_key", "parties"}

    not_object = assert_problem(world.sender.post("/api/process-instances", json=[1, 2, 3]), 422)
    assert not_object["errors"]

    task = assert_problem(world.sender.post(f"/api/tasks/{uuid.uuid4()}/complete",
                                            json={"data": "text", "on_behalf": "perhaps"}), 422)
    assert set(task["errors"]) == {"data", "on_behalf"}

    unknown_field = assert_problem(world.sender.post("/api/process-instances", json={
        "process_key": "x", "parties": {}, "surprise": True,
    }), 422)
    assert "surprise" in unknown_field["errors"]


def test_wrong_types_in_a_query_are_422(world: World) -> None:
    for params in ({"limit": "ten"}, {"limit": "0"}, {"state": "sleeping"}, {"cursor": "not-a-cursor"}):
        body = assert_problem(world.sender.get("/api/tasks", query_string=params), 422)
        assert body["detail"]


def test_unknown_ids_are_404(world: World) -> None:
    for url in (
        f"/api/process-instances/{uuid.uuid4()}",
        "/api/process-instances/not-even-a-uuid",
        f"/api/tasks/{uuid.uuid4()}",
        "/api/organisations/424242",
        "/api/users/424242",
        "/api/process-definitions/nothing-here",
    ):
        body = assert_problem(world.admin.get(url), 404)
        assert body["detail"]
    completed = world.admin.post(f"/api/tasks/{uuid.uuid4()}/complete", json={"data": {}, "on_behalf": True})
    assert_problem(completed, 404)


def test_unknown_route_is_404_problem(world: World) -> None:
    for url in ("/api/nothing", "/api/tasks/a/b/c", "/no/such/page"):
        assert_problem(world.client.get(url), 404)
        assert_problem(world.sender.get(url), 404)


def test_wrong_method_is_405_problem_with_allow(world: World) -> None:
    response = world.client.put("/api/tokens", json={})
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "PUT" not in response.headers["Allow"]

    response = world.sender.delete("/api/process-instances")
    assert_problem(response, 405)
    response = world.client.patch(f"/api/tasks/{uuid.uuid4()}/complete")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert_problem(world.client.post("/healthz"), 405)


# --------------------------------------------------------------------------------------------------
# unexpected errors
# --------------------------------------------------------------------------------------------------


SECRET = "internal-detail-7c1f"


@pytest.fixture(autouse=True)
def failing_routes(app: Flask) -> None:
    """Routes that fail on purpose; registered before any request, as Flask requires."""

    def explode() -> Any:
        raise RuntimeError(f"boom: {SECRET} at /srv/app/secret.py")

    def half_done() -> Any:
        with authenticated() as (session, actor):
            parties.create_organisation(session, actor=actor, name="Half done", country="DE")
            raise ValueError("after the write")

    app.add_url_rule("/api/_test/explode", "test_explode", explode)
    app.add_url_rule("/api/_test/half-done", "test_half_done", half_done, methods=["POST"])


def test_unexpected_exception_is_500_problem_without_details(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    client = app.test_client()
    with caplog.at_level("ERROR", logger="ecvet.api"):
        response = client.get("/api/_test/explode")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert SECRET not in text
    assert "RuntimeError" not in text
    assert "secret.py" not in text
    assert body["title"] == "Internal server error"
    # ...but the operator gets the whole story in the log
    assert any(SECRET in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_unexpected_exception_inside_a_unit_of_work_rolls_back(world: World) -> None:
    """An error after a write has been made leaves nothing behind and still answers problem+json."""
    before = world.admin.get("/api/organisations").get_json()["items"]
    assert_problem(world.admin.post("/api/_test/half-done"), 500)
    after = world.admin.get("/api/organisations").get_json()["items"]
    assert after == before
    assert "Half done" not in str(after)
