"""Domain errors the engine raises; the API maps each to one HTTP status, so no route guesses."""
from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: a clear message for a person, plus optional structured detail."""

    status = 400
    title = "Bad request"
    # Changes made before the error are kept (committed) instead of rolled back: evidence such as a
    # failed sign-in must survive the refusal it causes.
    keep_changes = False

    def __init__(self, message: str, *, errors: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """Unknown id, or a thing the caller may not see: both look the same from outside."""

    status = 404
    title = "Not found"


class Forbidden(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """The caller is known but may not do this (a party's task, an admin-only operation)."""

    status = 403
    title = "Forbidden"


class Unauthorized(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """No valid credentials: sign in first."""

    status = 401
    title = "Unauthorized"


class Conflict(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """State conflict: stale version, task already completed, instance not running."""

    status = 409
    title = "Conflict"


class Invalid(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """Input that is well-formed but wrong (form data, bundle contents, bindings)."""

    status = 422
    title = "Unprocessable content"


class TooManyRequests(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """Refused for a while (e.g. sign-in locked after repeated failures); ``retry_after`` in seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int, errors: Any = None) -> None:
        super().__init__(message, errors=errors)
        self.retry_after = retry_after


class Unavailable(EngineError):  # noqa: N818 - named after the HTTP outcome it maps to, across every layer
    """The database cannot be reached (down, refusing connections, out of connections): try again later."""

    status = 503
    title = "Service unavailable"

    def __init__(self, message: str, *, retry_after: int = 5, errors: Any = None) -> None:
        super().__init__(message, errors=errors)
        self.retry_after = retry_after
