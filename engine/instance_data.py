"""What data an instance holds, task by task, as a party or an administrator may read it (issue 11 item 4).

``GET /api/process-instances/{id}/data``: every task that ran or runs (user tasks with or without a
form, scripts, events...) with its data, in the engine's order; a multi-instance activity with its
instances in index order, each with its item; then the process's own data. Readable by the instance's
parties and administrators (404 for anyone else).

A party does not read what another party submitted, as in the audit trail (:func:`engine.instances.trail`):
every top-level key another party's completed task submitted is left out of every task's data and of the
process data, and listed under ``withheld``. Administrators read everything.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import execution, instances, tasks
from .models import AuditEvent, HumanTask, ProcessInstance
from .parties import Actor
from .runtime import bpmn_id_of
from .subscriptions import jsonable

# Tasks that ran, run or wait; FUTURE/LIKELY/MAYBE ones have no data of their own yet, CANCELLED ones none to show.
_SHOWN = SpiffState.COMPLETED | SpiffState.READY | SpiffState.STARTED | SpiffState.WAITING | SpiffState.ERROR


def foreign_keys(session: Session, instance: ProcessInstance, actor: Actor) -> set[str]:
    """Top-level data keys other parties submitted in their tasks (none for administrators)."""
    if actor.is_admin:
        return set()
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
    own = {t.id for t in rows if tasks.is_assignee(actor, t)}
    completed = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                         AuditEvent.action == "task.completed"))
    keys: set[str] = set()
    for event in completed:
        submitted = (event.detail or {}).get("data")
        if event.task_id not in own and isinstance(submitted, dict):
            keys.update(submitted)
    return keys


def _visible(data: Any, hidden: set[str]) -> tuple[dict[str, Any], list[str]]:
    plain = jsonable(dict(data or {}))
    withheld = sorted(k for k in plain if k in hidden)
    return {k: v for k, v in plain.items() if k not in hidden}, withheld


def _entry(task: Task, hidden: set[str], roles: dict[str, str]) -> dict[str, Any]:
    spec = task.task_spec
    extensions = getattr(spec, "extensions", {}) or {}
    lane = getattr(spec, "lane", None)
    data, withheld = _visible(task.data, hidden)
    return {
        "id": str(task.id),
        "bpmn_id": bpmn_id_of(task),
        "name": getattr(spec, "bpmn_name", None) or bpmn_id_of(task),
        "type": type(spec).__name__,
        "state": SpiffState.get_name(task.state).lower(),
        "role": roles.get(lane) if lane else None,
        "form": (extensions.get("properties") or {}).get("formJsonSchemaFilename"),
        "data": data,
        "withheld": withheld,
    }


def _instances_of(task: Task, hidden: set[str], roles: dict[str, str]) -> list[dict[str, Any]]:
    """The children of a multi-instance activity in index order, each with its index and item."""
    spec: Any = task.task_spec  # a MultiInstanceTask: its child spec's name, input item
    children = [c for c in task.children if c.task_spec.name == spec.task_spec]
    out = []
    for position, child in enumerate(children):
        key = child.internal_data.get("key_or_index")
        if spec.input_item is not None and spec.input_item.exists(child):
            item = spec.input_item.get(child)
        else:
            item = child.internal_data.get("item")
        entry = _entry(child, hidden, roles)
        entry["index"] = key if key is not None else position
        entry["item"] = jsonable(item)
        out.append(entry)
    if all(isinstance(e["index"], int) for e in out):
        out.sort(key=lambda e: e["index"])
    return out


def read(session: Session, *, actor: Actor, instance_id: str) -> dict[str, Any]:
    """The instance's data as ``actor`` may read it (NotFound for anyone but its parties and admins)."""
    instance = instances.get(session, actor=actor, instance_id=instance_id)
    workflow = execution.open_workflow(instance)
    hidden = foreign_keys(session, instance, actor)
    roles = {lane: role for role, lane in (instance.definition.roles or {}).items()}
    listed: list[dict[str, Any]] = []
    inside: set[Any] = set()  # multi-instance children, listed under their activity
    for task in workflow.get_tasks(state=_SHOWN):
        if task.id in inside or bpmn_id_of(task) is None:
            continue
        entry = _entry(task, hidden, roles)
        if isinstance(task.task_spec, MultiInstanceTask):
            entry["instances"] = _instances_of(task, hidden, roles)
            inside.update(c.id for c in task.children if c.task_spec.name == getattr(task.task_spec, "task_spec", None))
        listed.append(entry)
    process, withheld = _visible(workflow.data, hidden)
    return {
        "instance_id": instance.id,
        "status": instance.status,
        "tasks": listed,
        "process": {"data": process, "withheld": withheld},
    }
