"""Sign-in throttling: after repeated failures an address is locked for a while (API tokens and pages)."""
from __future__ import annotations

import math
import os
from datetime import timedelta

from sqlalchemy.orm import Session

from .errors import TooManyRequests
from .models import SignInThrottle, utcnow

MAX_FAILURES = int(os.environ.get("ECVET_SIGNIN_MAX_FAILURES", "5"))
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=int(os.environ.get("ECVET_SIGNIN_LOCK_MINUTES", "15")))


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
    if row.failures >= MAX_FAILURES:
        row.locked_until = now + LOCK
        row.failures = 0
        row.window_started_at = now
        return True
    return False


def record_success(session: Session, email: str) -> None:
    row = session.get(SignInThrottle, email)
    if row is not None:
        session.delete(row)
