"""engine/subscriptions.py: what instances wait for, kept in step with every save.

The correlation rule, and kept messages scheduled for the catch they may reach.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import messages, operations
from engine import subscriptions as subscriptions_module
from engine.db import Database
from engine.errors import Invalid
from engine.models import PendingMessage
from engine.parties import Actor
from tests.support.engine import deploy, row
from tests.support.messages import (
    CONFIRMED,
    T0,
    data,
    files,
    handover_catcher,
    handover_thrower,
    keys,
    ready,
    run_message_jobs,
    send,
    start,
    subscriptions,
)


@pytest.mark.parametrize(("message", "subscription", "expected"), [
    ({"k": {"p": 1}}, {"k": {"p": 1}}, True),
    ({"k": {"p": 1}}, {"k": {"p": 2}}, False),                       # a shared key disagrees
    ({"k": {"p": 1}}, {}, True),                                     # receiver has no correlations yet
    ({}, {"k": {"p": 1}}, True),                                     # unkeyed message: name alone
    ({"k": {"p": 1}}, {"other": {"q": 1}}, False),                   # both keyed, nothing shared
    ({"k": {"p": 1}, "x": {"y": 2}}, {"k": {"p": 1}}, True),         # extra message key is fine
    ({"k": {"p": 1}, "x": {"y": 2}}, {"k": {"p": 1}, "x": {"y": 3}}, False),  # every shared key must agree
])
def test_correlation_rule(message: dict[str, Any], subscription: dict[str, Any], expected: bool) -> None:
    assert messages.correlates(message, subscription) is expected


def test_an_event_based_gateway_subscribes_to_each_of_its_messages(db: Database, admin: Actor) -> None:
    """waiting_events() shows the gateway only as one nameless MultipleEventDefinition."""
    deploy(db, files("await_decision"))
    iid = start(db, admin, "await_decision", {})
    assert sorted(subscriptions(db, iid)) == [("placement_accepted", {}), ("placement_rejected", {})]
    assert send(db, admin, "placement_accepted", payload={"from": "2027-03-01"}).instance_id == iid
    assert ready(db, iid) == ["ua"]
    assert data(db, iid)["acc"] == {"from": "2027-03-01"}
    assert subscriptions(db, iid) == []  # the other branch is gone with it


@pytest.mark.usefixtures("frozen")
def test_a_message_sent_before_its_catch_is_kept_then_delivered_by_the_worker(db: Database, orgs: dict) -> None:
    deploy(db, files("await_confirmation"))
    result = send(db, orgs["sender"], CONFIRMED, correlation_keys=keys("M-9"),
                  payload={"mobility_id": "M-9", "weeks": 6})
    assert result.kept
    assert result.instance_id is None
    assert result.expires_at == T0 + timedelta(days=7)

    parties = {"sending": orgs["sending"]}
    other = start(db, orgs["sender"], "await_confirmation", parties, mobility_id="M-8")
    assert run_message_jobs(db) == 0  # a catch for another mobility does not take it
    target = start(db, orgs["sender"], "await_confirmation", parties, mobility_id="M-9")
    assert ready(db, target) == []  # delivered by the worker, in the receiver's own unit of work
    assert run_message_jobs(db) == 1

    assert ready(db, target) == ["review"]
    assert data(db, target)["confirmation"] == {"mobility_id": "M-9", "weeks": 6}
    assert ready(db, other) == []
    with db.transaction(write=False) as s:
        kept = row(s, PendingMessage, result.pending_message_id)
        assert kept.delivered_to == target
        assert kept.delivered_at == T0
    assert run_message_jobs(db) == 0


def test_a_suspended_receiver_gets_the_message_kept_for_it_after_resuming(
    db: Database, admin: Actor, orgs: dict
) -> None:
    deploy(db, files("await_confirmation"))
    iid = start(db, orgs["sender"], "await_confirmation", {"sending": orgs["sending"]}, mobility_id="M-1")
    with db.transaction() as s:
        operations.suspend(s, actor=admin, instance_id=iid)
    kept = send(db, admin, CONFIRMED, correlation_keys=keys("M-1"), payload={"mobility_id": "M-1"})
    assert kept.kept  # a suspended instance takes nothing in
    with db.transaction() as s:
        operations.resume(s, actor=admin, instance_id=iid)
    assert run_message_jobs(db) == 1
    assert ready(db, iid) == ["review"]


def test_a_kept_message_from_an_instance_waits_for_a_catch_within_the_senders_parties(
    db: Database, orgs: dict
) -> None:
    deploy(db, {"notify.bpmn": handover_thrower()})
    start(db, orgs["sender"], "notify", {"sending": orgs["sending"]}, note="keys are at the desk")
    assert run_message_jobs(db) == 1
    with db.transaction(write=False) as s:
        kept = s.scalars(select(PendingMessage)).one()
    # an uncorrelated catch of a message a deployed process throws cannot even be deployed ...
    with pytest.raises(Invalid):
        deploy(db, {"await_handover.bpmn": handover_catcher()})
    # ... but once no deployed version throws it any more, an old instance's kept message is still there
    deploy(db, {"notify.bpmn": handover_thrower(throws=False)})
    deploy(db, {"await_handover.bpmn": handover_catcher()})

    theirs = start(db, orgs["outsider"], "await_handover", {"sending": orgs["other"]})
    assert run_message_jobs(db) == 0
    assert ready(db, theirs) == []
    assert subscriptions(db, theirs) == [("handover", {})]
    ours = start(db, orgs["sender"], "await_handover", {"sending": orgs["sending"]})
    assert run_message_jobs(db) == 1
    assert ready(db, ours) == ["use"]
    assert data(db, ours)["got"] == {"note": "keys are at the desk"}
    assert ready(db, theirs) == []
    with db.transaction(write=False) as s:
        assert row(s, PendingMessage, kept.id).delivered_to == ours


def test_a_catch_is_singled_out_only_by_a_key_both_carry_with_equal_values() -> None:
    assert subscriptions_module.keyed(keys("M-1"), keys("M-1"))
    assert not subscriptions_module.keyed(keys("M-1"), {})  # correlates, but by name alone
    assert not subscriptions_module.keyed(keys("M-1"), keys("M-2"))
    assert not subscriptions_module.keyed({}, {})


def test_correlation_keys_are_checked_and_made_json_native() -> None:
    assert subscriptions_module.check_keys(None) == {}
    when = datetime(2027, 3, 1, tzinfo=UTC)
    assert subscriptions_module.check_keys({"case": {"at": when, "ids": (1, 2)}}) == \
        {"case": {"at": when.isoformat(), "ids": [1, 2]}}
    for wrong in ([1], {"case": "M-1"}, {1: {"id": 1}}):
        with pytest.raises(Invalid) as refused:
            subscriptions_module.check_keys(wrong)
        assert list(refused.value.errors) == ["correlation_keys"]


def test_a_receiver_is_within_the_senders_context_when_all_its_parties_are_the_senders() -> None:
    sender = {(1, None), (2, None), (None, 7)}
    assert subscriptions_module.within(sender, {(1, None)})
    assert subscriptions_module.within(sender, {(1, None), (None, 7)})
    assert not subscriptions_module.within(sender, {(1, None), (3, None)})
