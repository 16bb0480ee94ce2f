"""Driving message tests: the fixture processes, sending, and what an instance holds and waits for."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from engine import instances, jobs, messages, tasks
from engine.config import ROOT
from engine.db import Database
from engine.execution import open_workflow
from engine.models import (
    AuditEvent,
    HumanTask,
    Job,
    MessageSubscription,
    ProcessInstance,
    TaskState,
)
from engine.parties import Actor
from tests.support.bpmn import wrap
from tests.support.engine import row

FIXTURES = ROOT / "tests" / "fixtures" / "messages"
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CONFIRMED = "placement_confirmed"


def files(*names: str) -> dict[str, bytes]:
    return {f"{n}.bpmn": (FIXTURES / f"{n}.bpmn").read_bytes() for n in names}


def keys(mobility_id: str) -> dict[str, Any]:
    return {"mobility": {"mobility_id": mobility_id}}


def start(db: Database, actor: Actor, key: str, parties: dict[str, Any], **variables: Any) -> str:
    with db.transaction() as s:
        return instances.start(s, actor=actor, process_key=key, parties=parties, variables=variables).id


def send(db: Database, actor: Actor | None, name: str, **kw: Any) -> messages.DeliveryResult:
    with db.transaction() as s:
        return messages.deliver(s, actor=actor, name=name, correlation_keys=kw.pop("correlation_keys", {}),
                                payload=kw.pop("payload", {}), **kw)


def ready(db: Database, instance_id: str) -> list[str]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                 HumanTask.state == TaskState.READY))
        return [r.bpmn_id for r in rows]


def data(db: Database, instance_id: str) -> dict[str, Any]:
    """The data of the instance's ready task (or of its root when none is ready)."""
    with db.transaction(write=False) as s:
        workflow = open_workflow(row(s, ProcessInstance, instance_id))
    ready_tasks = workflow.get_tasks(state=SpiffState.READY, manual=True)
    return dict(ready_tasks[0].data) if ready_tasks else dict(workflow.task_tree.data)


def subscriptions(db: Database, instance_id: str) -> list[tuple[str, dict[str, Any]]]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
        return [(r.name, r.correlations) for r in rows]


def audit_actions(db: Database, instance_id: str) -> list[str]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))
        return [r.action for r in rows]


def complete(db: Database, actor: Actor, instance_id: str, bpmn_id: str, values: dict[str, Any]) -> None:
    with db.transaction() as s:
        row = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id,
                                                HumanTask.state == TaskState.READY)).one()
        tasks.complete(s, actor=actor, task_id=row.id, data=values)


def run_message_jobs(db: Database) -> int:
    """Run every due job (the worker's loop) and say how many message jobs finished in it.

    Other kinds (notifications, timers) may run too: only message deliveries are counted.
    """

    def finished() -> set[int]:
        with db.transaction(write=False) as s:
            return set(s.scalars(select(Job.id).where(Job.kind == "message", Job.status.in_(("done", "failed")))))

    before = finished()
    jobs.run_due(db)
    return len(finished() - before)


HANDOVER_LANE = ('<bpmn:laneSet id="ls"><bpmn:lane id="l_s" name="Sending organisation">'
                 '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>'
                 '<bpmn:flowNodeRef>wait</bpmn:flowNodeRef><bpmn:flowNodeRef>use</bpmn:flowNodeRef>'
                 '</bpmn:lane></bpmn:laneSet>')
HANDOVER = '<bpmn:message id="m" name="handover"/>'


def handover_thrower(*, throws: bool = True) -> bytes:
    """Process 'notify': ends by throwing 'handover' (no correlation), or, as a later version, not."""
    definition = ('<bpmn:messageEventDefinition id="d" messageRef="m"><bpmn:extensionElements>'
                  '<spiffworkflow:messagePayload>{"note": note}</spiffworkflow:messagePayload>'
                  '</bpmn:extensionElements></bpmn:messageEventDefinition>') if throws else ""
    return wrap("notify", f"""<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming>{definition}</bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>""", HANDOVER_LANE).replace(
        b"<bpmn:process ", HANDOVER.encode() + b"<bpmn:process ", 1)


def handover_catcher(catch: str = "event") -> bytes:
    """Process 'await_handover': waits for 'handover' with no correlation, then a user task 'use'."""
    if catch == "event":
        wait = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2'
                '</bpmn:outgoing><bpmn:messageEventDefinition id="d" messageRef="m"><bpmn:extensionElements>'
                '<spiffworkflow:messageVariable>got</spiffworkflow:messageVariable></bpmn:extensionElements>'
                '</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>')
    else:
        wait = ('<bpmn:receiveTask id="wait" messageRef="m"><bpmn:incoming>f1</bpmn:incoming>'
                '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:receiveTask>')
    return wrap("await_handover", f"""<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
{wait}<bpmn:userTask id="use" name="Use it"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask><bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="use"/>
<bpmn:sequenceFlow id="f3" sourceRef="use" targetRef="end"/>""", HANDOVER_LANE).replace(
        b"<bpmn:process ", HANDOVER.encode() + b"<bpmn:process ", 1)
