"""Sign-in throttling: after repeated failures an address is locked for a while (API tokens and pages)."""
from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from .config import settings
from .errors import TooManyRequests
from .models import SignInThrottle, utcnow

WINDOW = timedelta(minutes=15)


def max_failures() -> int:
    """Failures within :data:`WINDOW` that lock an address (setting ``signin_max_failures``)."""
    return settings().signin_max_failures


def lock_period() -> timedelta:
    """How long a locked address stays locked (setting ``signin_lock_minutes``)."""
    return timedelta(minutes=settings().signin_lock_minutes)


def __getattr__(name: str) -> Any:
    """``MAX_FAILURES`` and ``LOCK``, the names callers knew, read from the settings in use."""
    if name == "MAX_FAILURES":
        return max_failures()
    if name == "LOCK":
        return lock_period()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check(session: Session, email: str) -> None:
    """Refuse (429) while the address is locked, whatever password is given."""
    row = session.get(SignInThrottle, email)
    now = utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        seconds = math.ceil((row.locked_until - now).total_seconds())
        raise TooManyRequests(
            f"Too many failed sign-ins for this address; try again in {math.ceil(seconds / 60)} minute(s)",
            retry_after=seconds,
        )


def record_failure(session: Session, email: str) -> bool:
    """Count a failure in the current window; returns True when this failure locks the address."""
    now = utcnow()
    row = session.get(SignInThrottle, email)
    if row is None:
        row = SignInThrottle(email=email, failures=0, window_started_at=now)
        session.add(row)
    if now - row.window_started_at > WINDOW:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    if row.failures >= max_failures():
        row.locked_until = now + lock_period()
        row.failures = 0
        row.window_started_at = now
        return True
    return False


def record_success(session: Session, email: str) -> None:
    row = session.get(SignInThrottle, email)
    if row is not None:
        session.delete(row)
