"""Timers: index each instance's next deadline as a timer job, and derive task due dates.

Firing a due timer is the worker's (``engine.handlers``); this module only schedules."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import jobqueue
from .models import InstanceStatus, ProcessInstance

JOB_KIND = "timer"


def _deadline(value: Any) -> datetime | None:
    """A pending timer's deadline from Spiff's event value (ISO string, or a cycle's dict)."""
    if isinstance(value, dict):
        value = value.get("next") if value.get("cycles", 0) != 0 else None
    if not isinstance(value, str) or not value:
        return None
    try:
        deadline: datetime = TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None
    return deadline


def _has_timer(definition: Any) -> bool:
    """A timer, or a multiple event holding one (an event-based gateway keeps its branches' events)."""
    if isinstance(definition, TimerEventDefinition):
        return True
    return any(isinstance(d, TimerEventDefinition) for d in getattr(definition, "event_definitions", None) or ())


def next_due(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest deadline among the timers the instance waits for.

    Read from the waiting tasks themselves rather than ``waiting_events()``: an event-based gateway
    shows up there as one MultipleEventDefinition with no value, and its timer would never be
    scheduled. Spiff keeps a timer's deadline in the waiting task's ``event_value``.
    """
    deadlines = [
        d for task in workflow.event_manager.tasks.values() if _has_timer(task.task_spec.event_definition)
        if (d := _deadline(task._get_internal_data("event_value"))) is not None
    ]
    return min(deadlines) if deadlines else None


def schedule(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Keep one pending timer job per instance at its earliest deadline (none while not active)."""
    due = next_due(workflow) if instance.status in InstanceStatus.ACTIVE else None
    if due == instance.next_due_at:
        return
    instance.next_due_at = due
    if instance.id is not None:
        jobqueue.cancel_pending(session, instance_id=instance.id, kinds=(JOB_KIND,))
    if due is not None:
        jobqueue.add(session, kind=JOB_KIND, due_at=due, instance_id=instance.id)


def task_due_at(task: Any, created: datetime) -> datetime | None:
    """A user task's due date: its `dueDate` property (ISO date-time or duration from creation),
    else the earliest timer on a boundary event attached to it."""
    properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}
    raw = properties.get("dueDate")
    if raw:
        raw = raw.strip().strip("'\"")
        try:
            if raw.upper().startswith("P"):
                parsed = TimerEventDefinition.parse_iso_duration(raw)
                due: datetime = created + TimerEventDefinition.get_timedelta_from_start(parsed, created)
            else:
                due = TimerEventDefinition.get_datetime(raw)
        except Exception:  # noqa: BLE001 - a malformed property must not break task creation
            return None
        return due
    parent = task.parent
    if parent is None:
        return None
    deadlines = []
    for sibling in parent.children:
        definition = getattr(sibling.task_spec, "event_definition", None)
        if sibling is task or not isinstance(definition, TimerEventDefinition):
            continue
        if sibling.state not in (TaskState.WAITING, TaskState.READY):
            continue
        deadline = _deadline(sibling._get_internal_data("event_value"))
        if deadline is not None:
            deadlines.append(deadline)
    return min(deadlines) if deadlines else None
