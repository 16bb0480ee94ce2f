"""Structured logs: one JSON object per line, and one line per request with its latency.

Every line has timestamp, level, logger and message, plus whatever the call passed as `extra`
(e.g. job_id, job_kind). During a request, every line also carries the request's instance_id and
task_id when they are in the URL, whichever module logs it. ECVET_LOG_FORMAT=text gives plain
lines for a terminal; ECVET_LOG_LEVEL sets the level (default INFO).
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, request

from engine.config import settings

from . import metrics

_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("ecvet_log_context", default=None)
CONTEXT_KEYS = ("instance_id", "task_id")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_QUIET_PATHS = ("/metrics", "/healthz")

request_log = logging.getLogger("ecvet.request")


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, then the record's extra fields; exceptions as text."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class ContextFilter(logging.Filter):
    """Adds the current request's instance_id/task_id to every record that lacks them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_CONTEXT.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (test runners swap it), like logging's last resort."""

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _NoAccessLog(logging.Filter):
    """Werkzeug's own access lines duplicate ours; its other messages (e.g. 'Running on') stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and " - - [" in record.getMessage())


def configure(*, level: str | None = None, fmt: str | None = None) -> logging.Handler:
    """Install the one root handler (idempotent: a second call replaces the first one's handler)."""
    level = (level or settings().log_level).upper()
    fmt = (fmt or settings().log_format).lower()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_ecvet", False)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler._ecvet = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    if fmt == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # The workflow library (logger "spiff") logs every task state change at INFO: too chatty for a server.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoAccessLog) for f in werkzeug.filters):
        werkzeug.addFilter(_NoAccessLog())
    return handler


def bind(**values: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Add fields to every log line of the current context (a request, a job); reset with the token."""
    merged = {**(_CONTEXT.get() or {}), **{k: v for k, v in values.items() if v is not None}}
    return _CONTEXT.set(merged)


def _endpoint() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def init_app(app: Flask) -> None:
    """Time every request; log one line per request and feed the latency histogram."""

    @app.before_request
    def _start() -> None:
        g._ecvet_started = time.perf_counter()
        ids = {k: v for k, v in (request.view_args or {}).items() if k in CONTEXT_KEYS}
        g._ecvet_log_token = bind(**ids)

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.pop("_ecvet_started", None)
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = _endpoint()
        state = metrics.for_app(app)
        if state is not None:
            state.observe(endpoint, request.method, response.status_code, seconds)
        status = response.status_code
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            level = logging.ERROR
        else:
            level = logging.DEBUG if request.path in _QUIET_PATHS else logging.INFO
        request_log.log(level, "%s %s %s", request.method, request.path, status,
                        extra={"method": request.method, "path": request.path, "endpoint": endpoint,
                               "status": status, "duration_ms": round(seconds * 1000, 2),
                               "remote_addr": request.remote_addr})
        return response

    @app.teardown_request
    def _reset(_error: BaseException | None) -> None:
        token = g.pop("_ecvet_log_token", None)
        if token is not None:
            try:
                _CONTEXT.reset(token)
            except ValueError:
                _CONTEXT.set(None)  # reset from another context: just clear it
