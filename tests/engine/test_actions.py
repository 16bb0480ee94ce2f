"""Task actions: domain code runs on completion in the same unit of work, or refuses it whole."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bench.generate import sequential_process
from engine import actions, instances, tasks
from engine.db import Database
from engine.errors import Conflict
from engine.execution import open_workflow
from engine.models import AuditEvent, HumanTask, TaskState
from engine.parties import Actor
from tests.support.engine import actor_for, deploy, row
from tests.support.factories import make_org, make_user

SEEN: list[dict[str, Any]] = []


@actions.action("test.record")
def _record(context: actions.ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    SEEN.append({"data": data, "task": context.task.bpmn_id, "actor": context.actor.user_id})
    if data.get("stale"):
        raise Conflict("stale: the document changed since you read it")
    return {"record_id": 42}


def with_action(key: str) -> bytes:
    xml = sequential_process(key, 2, lanes=("Sending organisation",)).decode()
    props = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="recordAction" '
             'value="test.record"/></spiffworkflow:properties></bpmn:extensionElements>')
    opening = '<bpmn:userTask id="task_0" name="Step 0">'
    return xml.replace(opening, opening + props).encode()


def setup(db: Database, admin: Actor) -> tuple[Actor, str, str]:
    deploy(db, {"a.bpmn": with_action("a")})
    org = make_org(db)
    member = actor_for(db, make_user(db, organisation_ids=[org.id]).id)
    with db.transaction() as s:
        inst = instances.start(s, actor=admin, process_key="a", parties={"sending": org.id})
        task_id = instances.ready_tasks(s, inst)[0].id
    SEEN.clear()
    return member, inst.id, task_id


def test_action_result_lands_in_task_data(db: Database, admin: Actor) -> None:
    member, iid, task_id = setup(db, admin)
    with db.transaction() as s:
        tasks.complete(s, actor=member, task_id=task_id, data={"note": "ok"})
    assert SEEN == [{"data": {"note": "ok"}, "task": "task_0", "actor": member.user_id}]
    with db.transaction(write=False) as s:
        workflow = open_workflow(instances.get(s, actor=admin, instance_id=iid))
        ready = workflow.get_tasks(state=16, manual=True)[0]
        assert ready.data["record_id"] == 42
        assert ready.data["note"] == "ok"


def test_refusing_action_keeps_nothing(db: Database, admin: Actor) -> None:
    member, iid, task_id = setup(db, admin)
    with pytest.raises(Conflict), db.transaction() as s:
        tasks.complete(s, actor=member, task_id=task_id, data={"stale": True})
    with db.transaction(write=False) as s:
        assert row(s, HumanTask, task_id).state == TaskState.READY
        actions_logged = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid)
                                                      .order_by(AuditEvent.id))]
        assert "task.completed" not in actions_logged
