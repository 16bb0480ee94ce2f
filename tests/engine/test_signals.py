"""engine.signals: who a signal reaches, what waits for one, what a broadcast leaves in the trail."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import jobs, signals
from engine.db import Database
from engine.errors import Invalid
from engine.models import SignalSubscription
from engine.parties import Actor
from tests.support.engine import deploy
from tests.support.messages import audit_actions, data, ready, start
from tests.support.signals import thrower, thrower_that_hears_itself, waiter


def _waiting(db: Database) -> list[tuple[str, str]]:
    with db.transaction(write=False) as s:
        return [(r.instance_id, r.name) for r in s.scalars(select(SignalSubscription))]


def _broadcast(db: Database, actor: Actor | None, name: str, **kw: Any) -> list[str]:
    with db.transaction() as s:
        return signals.broadcast(s, actor=actor, name=name, **kw)


def test_a_waiting_catch_is_mirrored_until_the_signal_arrives(db: Database, admin: Actor,
                                                              orgs: dict[str, Any]) -> None:
    deploy(db, {"await_alarm.bpmn": waiter()})
    iid = start(db, admin, "await_alarm", {"sending": orgs["sending"]})
    assert _waiting(db) == [(iid, "alarm")]
    assert _broadcast(db, admin, "alarm", payload={"level": 1}) == [iid]
    assert _waiting(db) == []
    assert ready(db, iid) == ["after"]
    assert "signal.delivered" in audit_actions(db, iid)
    assert _broadcast(db, admin, "alarm") == []  # nothing waits any more


def test_people_reach_their_own_instances_the_platform_those_within_the_sender(
        db: Database, admin: Actor, orgs: dict[str, Any]) -> None:
    deploy(db, {"await_alarm.bpmn": waiter(), "raise_alarm.bpmn": thrower()})
    mine = start(db, admin, "await_alarm", {"sending": orgs["sending"]})
    theirs = start(db, admin, "await_alarm", {"sending": orgs["hosting"]})
    source = start(db, admin, "raise_alarm", {"sending": orgs["hosting"]})
    with db.transaction(write=False) as s:
        assert signals.receivers(s, actor=orgs["outsider"], name="alarm") == []
        assert signals.receivers(s, actor=orgs["sender"], name="alarm") == [mine]
        assert sorted(signals.receivers(s, actor=admin, name="alarm")) == sorted([mine, theirs])
        assert signals.receivers(s, actor=None, name="alarm", source_instance_id=source) == [theirs]


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_a_signal_needs_a_sensible_name(db: Database, admin: Actor, name: str) -> None:
    with pytest.raises(Invalid):
        _broadcast(db, admin, name)


def test_a_signal_its_thrower_catches_too_still_reaches_the_others(db: Database, admin: Actor,
                                                                   orgs: dict[str, Any]) -> None:
    """BPMN broadcasts a signal: a catch inside the throwing instance does not keep it from the others."""
    deploy(db, {"await_alarm.bpmn": waiter(), "shout_and_hear.bpmn": thrower_that_hears_itself()})
    other = start(db, admin, "await_alarm", {"sending": orgs["sending"]})
    source = start(db, admin, "shout_and_hear", {"sending": orgs["sending"]})
    assert ready(db, source) == ["heard"]  # its own catch took it
    jobs.run_due(db)
    assert ready(db, other) == ["after"]
    assert data(db, other)["alarm_data"] == {"level": 5}
