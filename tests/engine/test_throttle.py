"""engine/throttle.py: repeated failed sign-ins lock an address for a while, whatever password follows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import config, throttle
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import TooManyRequests

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
EMAIL = "someone@example.org"


def fail(db: Database, times: int) -> list[bool]:
    with db.transaction() as s:
        return [throttle.record_failure(s, EMAIL) for _ in range(times)]


def check(db: Database) -> None:
    with db.transaction(write=False) as s:
        throttle.check(s, EMAIL)


def test_the_last_allowed_failure_locks_the_address_until_the_period_ends(db: Database, frozen: FrozenClock) -> None:
    config.use(config.changed(signin_max_failures=3, signin_lock_minutes=10))
    assert (throttle.MAX_FAILURES, throttle.LOCK) == (3, timedelta(minutes=10))  # the names callers knew
    assert fail(db, 3) == [False, False, True]
    with pytest.raises(TooManyRequests) as locked:
        check(db)
    assert locked.value.retry_after == 600
    frozen.advance(minutes=10, seconds=1)
    check(db)


def test_failures_count_within_a_window_and_a_success_forgets_them(db: Database, frozen: FrozenClock) -> None:
    config.use(config.changed(signin_max_failures=3))
    assert fail(db, 2) == [False, False]
    frozen.advance(throttle.WINDOW + timedelta(seconds=1))
    assert fail(db, 2) == [False, False]  # the window started again
    with db.transaction() as s:
        throttle.record_success(s, EMAIL)
    assert fail(db, 2) == [False, False]
    check(db)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = throttle.NOT_A_SETTING  # type: ignore[attr-defined]
