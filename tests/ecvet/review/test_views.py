"""What a party of a review reads: the action plan's status computed from its items."""
from __future__ import annotations

import pytest

from ecvet.review.views import plan_progress


@pytest.mark.parametrize(("statuses", "expected"), [
    (["open", "open"], ("open", 0, 2)),
    (["open", "in_progress"], ("in_progress", 0, 2)),
    (["done", "open"], ("in_progress", 1, 2)),
    (["done", "done"], ("done", 2, 2)),
    (["done", "dropped"], ("done", 1, 1)),
    (["open", "dropped"], ("open", 0, 1)),
    (["dropped"], ("done", 0, 0)),
])
def test_plan_is_done_only_when_no_counted_action_is_left(statuses: list[str], expected: tuple[str, int, int]) -> None:
    assert plan_progress(statuses) == expected


def test_plan_is_never_done_while_an_action_is_open() -> None:
    for open_one in (["open"], ["done", "open"], ["done", "dropped", "open"]):
        assert plan_progress(open_one)[0] != "done"
