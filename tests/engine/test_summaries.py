"""engine/summaries.py: administrators read the worker's row while it is fresh; everyone else counts live."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bench.generate import sequential_process
from engine import bulk, summaries
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import InstanceParty
from engine.parties import Actor
from engine.worker import Worker
from tests.support.engine import deploy
from tests.support.statements import counted

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LANES = ("Sending organisation", "Hosting organisation")


def _start(db: Database, admin: Actor, orgs: dict[str, Any], count: int) -> None:
    with db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="steps",
                        starts=[bulk.NewInstance({"sending": orgs["sending"], "hosting": orgs["hosting"]})] * count)


def _waiting(board: summaries.Dashboard) -> int:
    return sum(r.count for r in board.by_status if r.status == "waiting")


def test_the_worker_keeps_the_administrators_counts_and_the_page_reads_one_row(
        db: Database, orgs: dict[str, Any], admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"steps.bpmn": sequential_process("steps", 2, lanes=LANES)})
    _start(db, admin, orgs, 3)
    Worker(db).refresh_summaries()
    _start(db, admin, orgs, 2)  # after the worker's count: the row does not know them yet
    with counted(db.engine) as statements, db.transaction(write=False) as s:
        board = summaries.dashboard(s, actor=admin)
    assert [text for text in statements if not text.startswith("BEGIN")][0].startswith("SELECT dashboard_summaries")
    assert len([text for text in statements if not text.startswith("BEGIN")]) == 1
    assert _waiting(board) == 3
    assert board.series[-1].started == 3
    assert len(board.series) == summaries.DEFAULT_DAYS
    assert [(p.bpmn_id, p.instances) for p in board.phases] == [("task_0", 3)]
    with db.transaction(write=False) as s:
        assert _waiting(summaries.dashboard(s, actor=orgs["sender"])) == 3  # their organisation's row
        both = Actor(user_id=orgs["sender"].user_id, email="", organisation_ids=frozenset({orgs["sending"],
                                                                                         orgs["other"]}))
        assert _waiting(summaries.dashboard(s, actor=both)) == 5  # two organisations: no one row is theirs, live
        assert _waiting(summaries.dashboard(s, actor=admin, days=7)) == 5  # another window too
    frozen.advance(seconds=summaries.MAX_AGE.total_seconds() + 1)
    with db.transaction(write=False) as s:
        assert _waiting(summaries.dashboard(s, actor=admin)) == 5  # no worker for a minute: counted live
    worker = Worker(db)
    worker.refresh_summaries()
    _start(db, admin, orgs, 1)
    worker.refresh_summaries()  # within REFRESH_SECONDS of the last: nothing recomputed
    with db.transaction(write=False) as s:
        assert _waiting(summaries.dashboard(s, actor=admin)) == 5
    frozen.advance(timedelta(days=1))
    Worker(db).refresh_summaries()
    with db.transaction(write=False) as s:
        board = summaries.dashboard(s, actor=admin)
    assert [d.started for d in board.series[-2:]] == [6, 0]


def test_a_member_reads_their_organisations_row_and_sees_nothing_of_other_organisations(
        db: Database, orgs: dict[str, Any], admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, {"steps.bpmn": sequential_process("steps", 2, lanes=LANES)})
    _start(db, admin, orgs, 2)
    Worker(db).refresh_summaries()
    with counted(db.engine) as statements, db.transaction(write=False) as s:
        board = summaries.dashboard(s, actor=orgs["host"])
    sent = [text for text in statements if not text.startswith("BEGIN")]
    assert len(sent) == 2  # am I bound to an instance myself (an index probe)? then the organisation's row
    assert sent[1].startswith("SELECT dashboard_summaries")
    assert _waiting(board) == 2
    with db.transaction(write=False) as s:
        assert summaries.dashboard(s, actor=orgs["outsider"]).by_status == []  # their own organisation's: empty
    _start(db, admin, orgs, 1)
    frozen.advance(seconds=summaries.REFRESH.total_seconds() + 1)
    Worker(db).refresh_summaries()  # the administrators' row again, the organisations' not yet (ORG_REFRESH)
    with db.transaction(write=False) as s:
        assert _waiting(summaries.dashboard(s, actor=admin)) == 3
        assert _waiting(summaries.dashboard(s, actor=orgs["host"])) == 2
    frozen.advance(summaries.ORG_REFRESH)
    Worker(db).refresh_summaries()
    with db.transaction(write=False) as s:
        assert _waiting(summaries.dashboard(s, actor=orgs["host"])) == 3


def test_someone_bound_to_an_instance_themself_counts_live(
        db: Database, orgs: dict[str, Any], admin: Actor, frozen: FrozenClock) -> None:
    """A learner bound to their own mobility sees it beside their organisation's: not one row's view."""
    deploy(db, {"steps.bpmn": sequential_process("steps", 2, lanes=LANES)})
    _start(db, admin, orgs, 1)
    with db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="steps", starts=[
            bulk.NewInstance({"sending": orgs["other"], "hosting": orgs["other"]})])
        row = s.scalars(select(InstanceParty).where(InstanceParty.organisation_id == orgs["other"])).first()
        assert row is not None
        row.organisation_id, row.user_id = None, orgs["sender"].user_id
    Worker(db).refresh_summaries()
    with db.transaction(write=False) as s:
        assert _waiting(summaries.dashboard(s, actor=orgs["sender"])) == 2  # live: the organisation's and their own
