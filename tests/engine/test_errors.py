"""engine/errors.py: each error carries the HTTP status and title it maps to, and its details."""
from __future__ import annotations

import pytest

from engine.errors import (
    Conflict,
    EngineError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)


@pytest.mark.parametrize(("error", "status"), [
    (NotFound, 404), (Forbidden, 403), (Unauthorized, 401), (Conflict, 409), (Invalid, 422),
])
def test_each_error_maps_to_its_status_with_a_title(error: type[EngineError], status: int) -> None:
    raised = error("what happened", errors={"field": ["why"]})
    assert isinstance(raised, EngineError)
    assert (raised.status, raised.message, raised.errors) == (status, "what happened", {"field": ["why"]})
    assert raised.title
    assert str(raised) == "what happened"


def test_refusals_for_a_while_say_when_to_come_back() -> None:
    locked = TooManyRequests("locked", retry_after=90)
    assert (locked.status, locked.retry_after) == (429, 90)
    down = Unavailable("database down")
    assert (down.status, down.retry_after) == (503, 5)


def test_only_errors_that_say_so_keep_the_changes_of_their_unit_of_work() -> None:
    assert not any(error("x").keep_changes for error in (NotFound, Forbidden, Conflict, Invalid))
