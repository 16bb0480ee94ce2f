"""GET /metrics (Prometheus) and the structured request log."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.logging import ContextFilter, JsonFormatter
from engine import clock, jobs
from engine.clock import FrozenClock
from engine.config import load_settings
from engine.db import Database
from engine.models import Incident
from tests.api.conftest import World, assert_problem

KEY = "two_lane_review"


@pytest.fixture(autouse=True)
def _open_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECVET_METRICS_TOKEN", raising=False)
    monkeypatch.delenv("ECVET_SMTP_HOST", raising=False)


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    # Start at the real now: the world's tokens were issued by the real clock.
    frozen_clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    previous = clock.use(frozen_clock)
    yield frozen_clock
    clock.use(previous)


def scrape(world: World, headers: dict[str, str] | None = None) -> dict[tuple[str, frozenset[Any]], float]:
    response = world.client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def start(world: World) -> dict[str, Any]:
    response = world.sender.post("/api/process-instances", json={
        "process_key": KEY, "business_key": "mobility-42",
        "parties": {"sending": world.sending_org, "hosting": world.hosting_org}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_metrics_follow_a_small_scenario(two_lane: World, frozen: FrozenClock) -> None:
    w = two_lane
    empty = scrape(w)
    assert value(empty, "ecvet_database_up") == 1
    assert value(empty, "ecvet_instances", process_key=KEY, status="waiting") is None  # no instance yet
    assert value(empty, "ecvet_job_lag_seconds") == 0
    assert value(empty, "ecvet_incidents_open") == 0

    instance = start(w)
    frozen.advance(seconds=30)  # the 'assigned' notification has waited 30 s for a worker
    m = scrape(w)
    assert value(m, "ecvet_instances", process_key=KEY, status="waiting") == 1
    assert value(m, "ecvet_instances", process_key=KEY, status="completed") == 0
    assert value(m, "ecvet_tasks_ready", process_key=KEY) == 1
    assert value(m, "ecvet_tasks_overdue", process_key=KEY) == 0
    assert value(m, "ecvet_jobs_pending", kind="notify") == 1
    assert value(m, "ecvet_job_lag_seconds") == 30
    assert value(m, "ecvet_tasks_completed_total") == 0

    jobs.run_due(w.db)
    task = w.sender.get("/api/tasks").get_json()["items"][0]
    past = (frozen.now() - timedelta(hours=1)).isoformat()
    assert w.admin.put(f"/api/tasks/{task['id']}/due-date", json={"due_at": past}).status_code == 200
    with w.db.transaction() as s:
        s.add(Incident(instance_id=instance["id"], kind="error", message="connector down"))
    m = scrape(w)
    # the new due date, an hour ago, queued an 'overdue' reminder due then: an hour of lag
    assert value(m, "ecvet_jobs_pending", kind="notify") == 1
    assert value(m, "ecvet_job_lag_seconds") == 3600
    jobs.run_due(w.db)
    m = scrape(w)
    assert value(m, "ecvet_jobs_pending", kind="notify") is None
    assert value(m, "ecvet_job_lag_seconds") == 0
    assert value(m, "ecvet_tasks_overdue", process_key=KEY) == 1
    assert value(m, "ecvet_incidents_open") == 1

    done = w.sender.post(f"/api/tasks/{task['id']}/complete",
                         json={"data": {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}})
    assert done.status_code == 200, done.get_json()
    m = scrape(w)
    assert value(m, "ecvet_tasks_completed_total") == 1
    assert value(m, "ecvet_tasks_overdue", process_key=KEY) == 0
    assert value(m, "ecvet_tasks_ready", process_key=KEY) == 1  # the hosting side's review
    # request latency, labelled by route template (bounded) and method
    assert value(m, "ecvet_http_request_duration_seconds_count", endpoint="/api/tasks", method="GET") == 1
    assert value(m, "ecvet_http_request_duration_seconds_count",
                 endpoint="/api/tasks/<task_id>/complete", method="POST") == 1
    assert value(m, "ecvet_http_requests_total", endpoint="/api/process-instances", method="POST",
                 status="201") == 1
    assert value(m, "ecvet_http_request_duration_seconds_bucket", endpoint="/api/tasks", method="GET",
                 le="+Inf") == 1


def test_each_app_has_its_own_registry(app: Flask, db: Database) -> None:
    other = create_app(load_settings(database_url=db.url), database=db)
    app.test_client().get("/healthz")
    first = app.test_client().get("/metrics").get_data(as_text=True)
    second = other.test_client().get("/metrics").get_data(as_text=True)
    assert 'ecvet_http_requests_total{endpoint="/healthz",method="GET",status="200"} 1.0' in first
    assert 'endpoint="/healthz"' not in second


def test_metrics_token_is_required_when_configured(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECVET_METRICS_TOKEN", "scrape-secret")
    client = create_app(load_settings(database_url=db.url), database=db).test_client()
    missing = client.get("/metrics")
    assert "ECVET_METRICS_TOKEN" in assert_problem(missing, 401)["detail"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200
    assert "ecvet_database_up 1.0" in ok.get_data(as_text=True)


def test_metrics_are_open_without_a_token(app: Flask) -> None:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for name in ("ecvet_instances", "ecvet_tasks_ready", "ecvet_tasks_overdue", "ecvet_incidents_open",
                 "ecvet_jobs_pending", "ecvet_job_lag_seconds", "ecvet_tasks_completed",
                 "ecvet_http_request_duration_seconds"):
        assert re.search(rf"^# TYPE {name}(_total)? (gauge|counter|histogram)$", text, re.MULTILINE), name


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
