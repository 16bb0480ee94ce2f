"""engine/bulk.py: many instances started in batches are the instances `instances.start` makes."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.generate import sequential_process
from engine import bulk, instances, tasks
from engine.db import Database
from engine.errors import Forbidden, Invalid
from engine.models import AuditEvent, HumanTask, InstanceStatus, Job, ProcessInstance, utcnow
from engine.parties import Actor
from tests.support.bpmn import intermediate_timer
from tests.support.bundles import FORM, process, user_task
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


def test_bulk_completions_leave_the_rows_one_by_one_completions_leave_and_the_instance_goes_on(
        db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"steps.bpmn": sequential_process("steps", 4, lanes=LANES)})
    bound = {"sending": orgs["sending"], "hosting": orgs["hosting"]}
    began = utcnow() - timedelta(days=9)
    with db.transaction() as s:
        ids = bulk.start_many(s, actor=admin, process_key="steps",
                              starts=[bulk.NewInstance(bound, complete=n, started_at=began) for n in (0, 1, 3, 4)])
    with db.transaction(write=False) as s:
        rows = {i: list(s.scalars(select(HumanTask).where(HumanTask.instance_id == i).order_by(HumanTask.created_at)))
                for i in ids}
        assert [[(t.bpmn_id, t.state) for t in rows[i]] for i in ids] == [
            [("task_0", "ready")],
            [("task_0", "completed"), ("task_1", "ready")],
            [("task_0", "completed"), ("task_1", "completed"), ("task_2", "completed"), ("task_3", "ready")],
            [("task_0", "completed"), ("task_1", "completed"), ("task_2", "completed"), ("task_3", "completed")],
        ]
        third = rows[ids[2]]
        lanes = [orgs["sending"], orgs["hosting"]] * 2
        assert [t.organisation_id for t in third] == lanes
        assert {(t.completed_by, t.completed_on_behalf) for t in third[:3]} == {(admin.user_id, True)}
        times = [t.completed_at for t in third[:3] if t.completed_at is not None]
        assert times == sorted(times)  # spread between the start and now
        assert began < times[0]
        statuses = [s.get_one(ProcessInstance, i).status for i in ids]
        assert statuses == [InstanceStatus.WAITING] * 3 + [InstanceStatus.COMPLETED]
        done = s.get_one(ProcessInstance, ids[3])
        assert done.completed_at == max(t.completed_at for t in rows[ids[3]] if t.completed_at)
        assert s.get_one(ProcessInstance, ids[0]).created_at == began
        # what the host sees now: the hosting lane's ready tasks
        assert sorted((t.instance_id, t.bpmn_id) for t in tasks.list_for(s, actor=orgs["host"]).items) == sorted(
            [(ids[1], "task_1"), (ids[2], "task_3")])
    assert _count(db, AuditEvent, AuditEvent.action == "task.completed") == 0 + 1 + 3 + 4
    assert _count(db, AuditEvent, AuditEvent.action == "task.created") == 1 + 2 + 4 + 4
    assert _count(db, AuditEvent, AuditEvent.action == "instance.status_changed") == 4 + 1  # waiting; completed
    assert _count(db, Job, Job.kind == "notify") == 3  # only ready tasks are announced
    # the engine takes over where the bulk load stopped
    with db.transaction() as s:
        tasks.complete(s, actor=orgs["host"], task_id=rows[ids[2]][-1].id, data={})
    with db.transaction(write=False) as s:
        assert s.get_one(ProcessInstance, ids[2]).status == InstanceStatus.COMPLETED


def test_bulk_refuses_to_complete_more_tasks_than_the_process_has(
        db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"steps.bpmn": sequential_process("steps", 2, lanes=LANES)})
    bound = {"sending": orgs["sending"], "hosting": orgs["hosting"]}
    with pytest.raises(Invalid, match="fewer than 3"), db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="steps", starts=[bulk.NewInstance(bound, complete=3)])
    deploy(db, {"formed.bpmn": process("formed", [("ask", user_task("ask", form="ask.json"))]), "ask.json": FORM})
    with pytest.raises(Invalid, match="without its form"), db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="formed", starts=[bulk.NewInstance({}, complete=1)])
    with db.transaction() as s:  # started and left at the form: fine
        bulk.start_many(s, actor=admin, process_key="formed", starts=[bulk.NewInstance({})])
    with pytest.raises(Invalid, match="negative"), db.transaction() as s:
        bulk.start_many(s, actor=admin, process_key="steps", starts=[bulk.NewInstance(bound, complete=-1)])
    assert _count(db, ProcessInstance) == 1  # the one left at its form; nothing of the refused ones
