"""GET /metrics: Prometheus text format, from a registry of this app's own (never the global one).

The engine's figures are read from the database at scrape time (engine/metrics.py), so every API
process answers the same numbers; the request latency histogram is this process's own. When
ECVET_METRICS_TOKEN is set, a scrape must send `Authorization: Bearer <that token>`.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from engine import metrics
from engine.db import Database
from engine.models import InstanceStatus

from . import problems
from .deps import bearer_token

log = logging.getLogger("ecvet.metrics")

blp = Blueprint("metrics", __name__, url_prefix="/metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class EngineCollector:
    """Gauges computed by a few SQL queries each time Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("ecvet_database_up", "1 if the last scrape could read the database")
        try:
            with self.db.transaction(write=False) as session:
                numbers = metrics.collect(session)
        except Exception:  # noqa: BLE001 - a scrape must answer even when the database does not
            log.exception("metrics: reading the database failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        instances = GaugeMetricFamily("ecvet_instances", "Process instances by process key and status",
                                      labels=["process_key", "status"])
        for key in sorted({k for k, _ in numbers.instances}):
            for status in InstanceStatus.ALL:  # zeros too, so a series does not vanish
                instances.add_metric([key, status], numbers.instances.get((key, status), 0))
        yield instances

        ready = GaugeMetricFamily("ecvet_tasks_ready", "Ready user tasks by process key", labels=["process_key"])
        overdue = GaugeMetricFamily("ecvet_tasks_overdue", "Ready user tasks past their due date",
                                    labels=["process_key"])
        for key in sorted(numbers.ready_tasks):
            ready.add_metric([key], numbers.ready_tasks[key])
            overdue.add_metric([key], numbers.overdue_tasks.get(key, 0))
        yield ready
        yield overdue
        yield CounterMetricFamily("ecvet_tasks_completed", "User tasks completed since the database was created",
                                  value=numbers.tasks_completed)
        yield GaugeMetricFamily("ecvet_incidents_open", "Unresolved incidents", value=numbers.open_incidents)

        pending = GaugeMetricFamily("ecvet_jobs_pending", "Pending jobs (due or not) by kind", labels=["kind"])
        for kind in sorted(numbers.jobs_pending):
            pending.add_metric([kind], numbers.jobs_pending[kind])
        yield pending
        yield GaugeMetricFamily("ecvet_job_lag_seconds",
                                "Seconds the oldest due pending job has waited for a worker (0 if none)",
                                value=numbers.job_lag_seconds)


@dataclass
class AppMetrics:
    registry: CollectorRegistry
    latency: Histogram
    requests: Counter
    token: str | None = None  # the bearer token a scrape must send (setting ``metrics_token``)

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.latency.labels(endpoint=endpoint, method=method).observe(seconds)
        self.requests.labels(endpoint=endpoint, method=method, status=str(status)).inc()


def init_app(app: Flask, db: Database, *, token: str | None = None) -> AppMetrics:
    """This app's registry and /metrics route; ``token``, when given, is required as a bearer token."""
    registry = CollectorRegistry()
    registry.register(EngineCollector(db))  # type: ignore[arg-type]
    state = AppMetrics(
        registry=registry,
        latency=Histogram("ecvet_http_request_duration_seconds", "HTTP request latency by endpoint and method",
                          ["endpoint", "method"], registry=registry, buckets=LATENCY_BUCKETS),
        requests=Counter("ecvet_http_requests", "HTTP requests by endpoint, method and status",
                         ["endpoint", "method", "status"], registry=registry),
        token=token or None,
    )
    app.extensions["ecvet_metrics"] = state
    app.register_blueprint(blp)
    return state


def for_app(app: Flask) -> AppMetrics | None:
    return app.extensions.get("ecvet_metrics")


@blp.get("")
def scrape() -> Any:
    state = current_app.extensions["ecvet_metrics"]
    expected = state.token
    if expected:
        given = bearer_token() or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return problems.problem(401, "Unauthorized", "Send 'Authorization: Bearer <ECVET_METRICS_TOKEN>'")
    # Prometheus text format, or OpenMetrics when the scraper asks for it in Accept.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encode(state.registry), headers={"Content-Type": content_type})
