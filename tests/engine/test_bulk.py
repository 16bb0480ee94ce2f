"""engine/bulk.py: many instances started in batches are the instances `instances.start` makes."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bench.generate import sequential_process
from engine import bulk, instances, tasks
from engine.db import Database
from engine.errors import Forbidden, Invalid
from engine.models import AuditEvent, HumanTask, InstanceStatus, Job, ProcessInstance
from engine.parties import Actor
from tests.support.bpmn import intermediate_timer
from tests.support.engine import deploy

LANES = ("Sending organisation", "Hosting organisation")


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_bulk_started_instances_route_their_tasks_and_complete_like_any_other(
        db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"steps.bpmn": sequential_process("steps", 3, lanes=LANES)})
    bound = {"sending": orgs["sending"], "hosting": orgs["hosting"]}
    with db.transaction() as s:
        ids = bulk.start_many(s, actor=admin, process_key="steps", batch=2,
                              starts=[bulk.NewInstance(bound, business_key=f"M-{n}") for n in range(5)])
    assert len(set(ids)) == 5
    with db.transaction(write=False) as s:
        inbox = tasks.list_for(s, actor=orgs["sender"]).items
        assert sorted(t.instance_id for t in inbox) == sorted(ids)
        assert tasks.list_for(s, actor=orgs["host"]).items == []
        one = s.get(ProcessInstance, ids[0])
        assert one is not None
        assert (one.status, one.business_key, one.version) == (InstanceStatus.WAITING, "M-0", 1)
        assert [p.organisation_id for p in one.parties] == [orgs["hosting"], orgs["sending"]]
    assert _count(db, AuditEvent, AuditEvent.action == "instance.started") == 5
    assert _count(db, AuditEvent, AuditEvent.action == "task.created") == 5
    assert _count(db, Job, Job.kind == "notify") == 5  # each assignment is mailed by the worker
    assert len({t.id for t in inbox}) == 5  # copies of one engine start, each under task ids of its own
    for task in inbox[:2]:
        with db.transaction() as s:
            tasks.complete(s, actor=orgs["sender"], task_id=task.id, data={})
        with db.transaction(write=False) as s:
            nxt = instances.ready_tasks(s, s.get_one(ProcessInstance, task.instance_id))
            assert [(t.bpmn_id, t.organisation_id) for t in nxt] == [("task_1", orgs["hosting"])]
    assert _count(db, HumanTask, HumanTask.bpmn_id == "task_1") == 2


def test_only_administrators_load_in_bulk_and_only_what_stops_at_user_tasks(
        db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"steps.bpmn": sequential_process("steps", 2, lanes=LANES),
                "waits.bpmn": intermediate_timer("waits", "timeDuration", "'PT1H'")})
    bound = {"sending": orgs["sending"], "hosting": orgs["hosting"]}
    with pytest.raises(Forbidden), db.transaction() as s:
        bulk.start_many(s, actor=orgs["sender"], process_key="steps", starts=[bulk.NewInstance(bound)])
    with pytest.raises(Invalid, match="roles"), db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="steps", starts=[bulk.NewInstance({"sending": orgs["sending"]})])
    with pytest.raises(Invalid, match="one-by-one"), db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="waits", starts=[bulk.NewInstance({})])
    assert _count(db, ProcessInstance) == 0
    assert _count(db, HumanTask) == 0
