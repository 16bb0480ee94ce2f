"""engine/inbox.py: the caller's inbox as SQL, with each task's process, business key and party by name."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.generate import sequential_process
from engine import inbox, operations, tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Invalid
from engine.parties import Actor
from tests.support.engine import deploy
from tests.support.two_lane import PROPOSAL, deploy_two_lane, ready_task, start_two_lane

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_each_row_names_the_process_business_key_and_party(db: Database, orgs: dict[str, Any]) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs, business_key="M-7")
    with db.transaction(write=False) as s:
        (row,) = inbox.list_for(s, actor=orgs["sender"]).items
        assert (row.task.instance_id, row.business_key, row.process_version) == (iid, "M-7", 1)
        assert row.process_name
        assert row.party
        assert row.task.bpmn_id == "propose"
        assert inbox.list_for(s, actor=orgs["host"]).items == []
        assert inbox.processes_of(s, actor=orgs["sender"])[0][0] == "two_lane_review"
        assert inbox.processes_of(s, actor=orgs["outsider"]) == []


def test_by_due_date_the_soonest_comes_first_and_undated_tasks_last(
        db: Database, orgs: dict[str, Any], admin: Actor, frozen: FrozenClock) -> None:
    deploy_two_lane(db)
    started = []
    for n in range(4):
        frozen.advance(seconds=1)  # undated tasks come oldest first
        started.append(start_two_lane(db, orgs["sender"], orgs, business_key=f"M-{n}"))
    due = {started[0]: T0 + timedelta(days=5), started[1]: T0 + timedelta(days=1)}  # both ahead of now
    for iid, when in due.items():
        with db.transaction() as s:
            operations.set_due_date(s, actor=admin, task_id=ready_task(db, iid).id, due_at=when)
    seen: list[str | None] = []
    cursor = None
    for _ in range(4):
        with db.transaction(write=False) as s:
            page = inbox.list_for(s, actor=orgs["sender"], order="due", cursor=cursor, limit=1)
        seen += [row.business_key for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["M-1", "M-0", "M-2", "M-3"]
    with db.transaction(write=False) as s:
        overdue_now = inbox.list_for(s, actor=orgs["sender"], order="due", overdue=True).items
    assert overdue_now == []
    frozen.advance(days=2)
    with db.transaction(write=False) as s:
        assert [r.business_key for r in inbox.list_for(s, actor=orgs["sender"], overdue=True).items] == ["M-1"]


@pytest.mark.parametrize(("option", "value"), [("order", "alphabetical"), ("cursor", "x.1"), ("state", "lost")])
def test_an_unknown_order_cursor_or_state_is_invalid(
        db: Database, orgs: dict[str, Any], option: str, value: str) -> None:
    options: dict[str, Any] = {"order": "due", option: value}
    with pytest.raises(Invalid), db.transaction(write=False) as s:
        inbox.list_for(s, actor=orgs["sender"], **options)


def test_the_filter_offers_the_processes_the_caller_had_tasks_in_done_or_not_and_no_other(
        db: Database, orgs: dict[str, Any]) -> None:
    deploy_two_lane(db)
    deploy(db, {"steps.bpmn": sequential_process("steps", 2, lanes=("Sending organisation", "Hosting organisation"))})
    iid = start_two_lane(db, orgs["sender"], orgs)
    with db.transaction(write=False) as s:
        assert [key for key, _name in inbox.processes_of(s, actor=orgs["sender"])] == ["two_lane_review"]
        assert inbox.processes_of(s, actor=orgs["host"]) == []  # the second lane's task is not there yet
    with db.transaction() as s:
        tasks.complete(s, actor=orgs["sender"], task_id=ready_task(db, iid).id, data=PROPOSAL)
    with db.transaction(write=False) as s:  # a completed task still counts: the filter also finds past work
        assert [key for key, _name in inbox.processes_of(s, actor=orgs["sender"])] == ["two_lane_review"]
        assert [key for key, _name in inbox.processes_of(s, actor=orgs["host"])] == ["two_lane_review"]
