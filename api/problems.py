"""Every error as RFC 9457 application/problem+json; never a traceback to the client."""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError

log = logging.getLogger("ecvet.api")

PROBLEM_TYPE = "https://ecvet-flow.example/problems/"


def problem(status: int, title: str, detail: str | None = None, errors: Any = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == HTTPStatus.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ecvet"'
    return response


def from_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = data.get("messages")
    location = None
    if isinstance(errors, dict) and len(errors) == 1:
        # webargs nests by location ("json", "query", "files"): one location needs no nesting
        location, errors = next(iter(errors.items()))
    status = error.code or 500
    title = error.name or "Error"
    detail = data.get("message") or error.description
    if status == HTTPStatus.UNPROCESSABLE_ENTITY and errors is not None:
        detail = "The query string is not valid" if location == "query" else "The request body is not valid"
    response = problem(status, title, detail, errors)
    if status == HTTPStatus.METHOD_NOT_ALLOWED and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def register(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def _engine_error(error: EngineError) -> Response:
        response = problem(error.status, error.title, error.message, error.errors)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        return from_http_exception(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return problem(500, "Internal server error", "Something went wrong on our side; it has been logged")
