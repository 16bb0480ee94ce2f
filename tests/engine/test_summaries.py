"""engine/summaries.py: administrators read the worker's row while it is fresh; everyone else counts live."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.generate import sequential_process
from engine import bulk, summaries
from engine.clock import FrozenClock
from engine.db import Database
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
        assert _waiting(summaries.dashboard(s, actor=orgs["sender"])) == 5  # a party's view is live
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
