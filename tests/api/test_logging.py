"""api/logging.py: one JSON line per request with the ids from its path, and the same ids on every log line
written while the request runs."""
from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from api.logging import ContextFilter, JsonFormatter
from tests.api.conftest import World
from tests.support.api_tasks import start


def test_request_log_line_is_json_with_the_ids_from_the_path(
    two_lane: World, caplog: pytest.LogCaptureFixture
) -> None:
    w = two_lane
    instance = start(w)
    task = w.sender.get("/api/tasks").get_json()["items"][0]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ecvet.request"):
        assert w.sender.get(f"/api/tasks/{task['id']}").status_code == 200
        assert w.outsider.get(f"/api/process-instances/{instance['id']}").status_code == 404
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "ecvet.request"]
    assert len(lines) == 2
    first, second = lines
    assert {k: first[k] for k in ("level", "logger", "method", "path", "status", "task_id")} == {
        "level": "INFO", "logger": "ecvet.request", "method": "GET", "path": f"/api/tasks/{task['id']}",
        "status": 200, "task_id": task["id"]}
    assert first["message"] == f"GET /api/tasks/{task['id']} 200"
    assert first["endpoint"] == "/api/tasks/<task_id>"
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0
    assert first["timestamp"].endswith("Z")
    assert (second["status"], second["instance_id"]) == (404, instance["id"])
    assert "task_id" not in second


def test_engine_log_lines_during_a_request_carry_the_request_ids(app: Flask) -> None:
    """A module that logs while a request runs gets the URL's ids without passing them."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    @app.get("/probe/<instance_id>/<task_id>")
    def probe(instance_id: str, task_id: str) -> str:
        logging.getLogger("ecvet.test").warning("inside")
        return "ok"

    keep = Keep()
    keep.addFilter(ContextFilter())
    logging.getLogger("ecvet.test").addHandler(keep)
    try:
        assert app.test_client().get("/probe/i-1/t-2").status_code == 200
        logging.getLogger("ecvet.test").warning("after")
    finally:
        logging.getLogger("ecvet.test").removeHandler(keep)
    inside, after = seen
    assert (inside.instance_id, inside.task_id) == ("i-1", "t-2")  # type: ignore[attr-defined]
    assert not hasattr(after, "instance_id")  # the request's context does not leak past it
