"""Domain errors the engine raises; the API maps each to one HTTP status, so no route guesses."""
from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: a clear message for a person, plus optional structured detail."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, errors: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(EngineError):
    """Unknown id, or a thing the caller may not see: both look the same from outside."""

    status = 404
    title = "Not found"


class Forbidden(EngineError):
    status = 403
    title = "Forbidden"


class Unauthorized(EngineError):
    status = 401
    title = "Unauthorized"


class Conflict(EngineError):
    """State conflict: stale version, task already completed, instance not running."""

    status = 409
    title = "Conflict"


class Invalid(EngineError):
    """Input that is well-formed but wrong (form data, bundle contents, bindings)."""

    status = 422
    title = "Unprocessable content"
