"""engine.instance_data: each task's data in order, multi-instance children with their items, and what a
party may not read of another party's submissions."""
from __future__ import annotations

from typing import Any

import pytest

from engine import instance_data
from engine.db import Database
from engine.errors import NotFound
from engine.parties import Actor
from tests.support.engine import deploy
from tests.support.instance_data import shared_data
from tests.support.messages import complete, start


def _run(db: Database, admin: Actor, orgs: dict[str, Any]) -> str:
    deploy(db, {"shared_data.bpmn": shared_data()})
    iid = start(db, admin, "shared_data", {"sending": orgs["sending"], "hosting": orgs["hosting"]}, items=[3, 1, 2])
    complete(db, orgs["sender"], iid, "propose", {"proposal": "two weeks in Valencia"})
    complete(db, orgs["host"], iid, "assess", {"grade": 5})
    return iid


def _read(db: Database, actor: Actor, iid: str) -> dict[str, Any]:
    with db.transaction(write=False) as s:
        return instance_data.read(s, actor=actor, instance_id=iid)


def _task(view: dict[str, Any], bpmn_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in view["tasks"] if t["bpmn_id"] == bpmn_id)
    return found


def test_every_task_with_its_data_and_multi_instance_children_in_index_order(
        db: Database, admin: Actor, orgs: dict[str, Any]) -> None:
    view = _read(db, admin, _run(db, admin, orgs))
    assert [t["bpmn_id"] for t in view["tasks"]][-4:] == ["propose", "assess", "each", "review"]
    propose = _task(view, "propose")
    assert propose["form"] is None  # a task without a form shows its data
    assert propose["data"]["proposal"] == "two weeks in Valencia"
    assert propose["role"] == "sending"
    each = _task(view, "each")
    assert [(c["index"], c["item"], c["data"]["doubled"]) for c in each["instances"]] == [(0, 3, 6), (1, 1, 2),
                                                                                          (2, 2, 4)]
    assert _task(view, "review")["state"] == "ready"
    assert _task(view, "review")["data"]["grade"] == 5
    assert _task(view, "review")["withheld"] == []


def test_a_party_does_not_read_what_another_party_submitted(db: Database, admin: Actor,
                                                            orgs: dict[str, Any]) -> None:
    iid = _run(db, admin, orgs)
    sender_view = _read(db, orgs["sender"], iid)
    for task in sender_view["tasks"]:
        assert "grade" not in task["data"]
    assert _task(sender_view, "review")["withheld"] == ["grade"]
    assert _task(sender_view, "propose")["data"]["proposal"] == "two weeks in Valencia"
    host_view = _read(db, orgs["host"], iid)
    assert _task(host_view, "assess")["data"]["grade"] == 5
    assert "proposal" not in _task(host_view, "assess")["data"]
    assert _task(host_view, "assess")["withheld"] == ["proposal"]


def test_outsiders_get_nothing(db: Database, admin: Actor, orgs: dict[str, Any]) -> None:
    iid = _run(db, admin, orgs)
    with pytest.raises(NotFound):
        _read(db, orgs["outsider"], iid)
