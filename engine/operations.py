"""Operator controls: suspend, resume, terminate, incidents and their retry, due dates, version moves."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, deployments, execution, jobqueue, notifications
from .errors import Conflict, Invalid, NotFound
from .models import HumanTask, Incident, InstanceStatus, ProcessInstance, TaskState, utcnow
from .pagination import Page, paginate
from .parties import Actor, require_admin
from .runtime import SPEC_SERIALIZER, RunOutcome

FINAL = (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)


def _instance(session: Session, instance_id: str) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"No process instance {instance_id}")
    return instance


def suspend(session: Session, *, actor: Actor, instance_id: str, reason: str | None = None) -> ProcessInstance:
    """Stop all automatic work and all task completion until resumed; ready tasks stay visible."""
    require_admin(actor)
    instance = _instance(session, instance_id)
    if instance.status in FINAL or instance.status == InstanceStatus.SUSPENDED:
        raise Conflict(f"The instance is {instance.status}; it cannot be suspended")
    previous = instance.status
    instance.status = InstanceStatus.SUSPENDED
    instance.next_due_at = None
    instance.updated_at = utcnow()
    jobqueue.cancel_pending(session, instance_id=instance.id)
    audit.record(session, actor_id=actor.user_id, action="instance.suspended", instance_id=instance.id,
                 previous=previous, reason=reason)
    return instance


def resume(session: Session, *, actor: Actor, instance_id: str) -> ProcessInstance:
    """Recompute the status from the engine and reschedule timers, service tasks and messages."""
    require_admin(actor)
    instance = _instance(session, instance_id)
    if instance.status != InstanceStatus.SUSPENDED:
        raise Conflict(f"The instance is {instance.status}, not suspended")
    workflow = execution.open_workflow(instance)
    open_incident = execution.has_open_incident(session, instance.id)
    instance.status = InstanceStatus.ERROR if open_incident else InstanceStatus.RUNNING
    audit.record(session, actor_id=actor.user_id, action="instance.resumed", instance_id=instance.id)
    execution.advance(session, instance, workflow, actor_id=actor.user_id)
    return instance


def terminate(session: Session, *, actor: Actor, instance_id: str, reason: str | None = None) -> ProcessInstance:
    """End the instance for good: ready tasks are cancelled, no job runs for it again."""
    require_admin(actor)
    instance = _instance(session, instance_id)
    if instance.status in FINAL:
        raise Conflict(f"The instance is already {instance.status}")
    workflow = execution.open_workflow(instance)
    workflow.cancel()
    previous = instance.status
    instance.status = InstanceStatus.TERMINATED
    instance.completed_at = utcnow()
    audit.record(session, actor_id=actor.user_id, action="instance.terminated", instance_id=instance.id,
                 previous=previous, reason=reason)
    jobqueue.cancel_pending(session, instance_id=instance.id)
    execution.save(session, instance, workflow, RunOutcome(), actor_id=actor.user_id)
    return instance


def list_incidents(
    session: Session,
    *,
    actor: Actor,
    open_only: bool = True,
    instance_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Incident]:
    require_admin(actor)
    stmt = select(Incident)
    if open_only:
        stmt = stmt.where(Incident.resolved_at.is_(None))
    if instance_id:
        stmt = stmt.where(Incident.instance_id == instance_id)
    return paginate(session, stmt, [Incident.id], cursor=cursor, limit=limit)


def retry_incident(
    session: Session, *, actor: Actor, incident_id: int, data: dict[str, Any] | None = None
) -> Incident:
    """Resolve an incident and run its failed task again, after merging corrected data into it."""
    require_admin(actor)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"No incident {incident_id}")
    if incident.resolved_at is not None:
        raise Conflict("The incident is already resolved")
    instance = _instance(session, incident.instance_id)
    if instance.status in FINAL:
        raise Conflict(f"The instance is {instance.status}; nothing can be retried")
    if instance.status == InstanceStatus.SUSPENDED:
        raise Conflict("The instance is suspended; resume it first")
    workflow = execution.open_workflow(instance)
    if incident.task_id:
        task = execution.find_task(workflow, incident.task_id)
        if task is None:
            raise Conflict("The failed task no longer exists in the instance")
        if task.state == SpiffState.ERROR:
            if data:
                task.data.update(data)
            task._set_state(SpiffState.READY)
    elif data:
        raise Invalid("Data can only be corrected for an incident on a task", errors={"data": ["no task"]})
    incident.resolved_at = utcnow()
    session.flush()  # save() recomputes the status from the incidents still open
    audit.record(session, actor_id=actor.user_id, action="incident.retried", instance_id=instance.id,
                 task_id=incident.task_id, incident_id=incident.id, data=data or {})
    execution.advance(session, instance, workflow, actor_id=actor.user_id)
    return incident


def set_due_date(session: Session, *, actor: Actor, task_id: str, due_at: datetime | None) -> HumanTask:
    require_admin(actor)
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"No task {task_id}")
    if task.state != TaskState.READY:
        raise Conflict(f"Task {task_id} is {task.state}; only a ready task has a due date to change")
    if due_at is not None and due_at.tzinfo is None:
        raise Invalid("The due date needs a time zone", errors={"due_at": ["ISO 8601 with offset, e.g. Z"]})
    old = task.due_at
    task.due_at = due_at
    audit.record(session, actor_id=actor.user_id, action="task.due_date_changed", instance_id=task.instance_id,
                 task_id=task.id, old=old.isoformat() if old else None,
                 new=due_at.isoformat() if due_at else None)
    notifications.schedule_reminders(session, task)
    return task


def migrate(session: Session, *, actor: Actor, instance_id: str, version: int | None = None) -> dict[str, Any]:
    """Move an instance to another version of its process when SpiffWorkflow's diff says it is safe.

    Safe means: every task the instance has already created maps onto the new version (no removed
    task), including inside running subprocesses. Otherwise refuse (409) and name the blockers.
    """
    require_admin(actor)
    instance = _instance(session, instance_id)
    if instance.status in FINAL:
        raise Conflict(f"The instance is {instance.status}; it cannot change version")
    target = deployments.get_definition(session, key=instance.process_key, version=version)
    if target.id == instance.definition_id:
        raise Conflict(f"The instance already runs on version {target.version}")
    workflow = execution.open_workflow(instance)
    new_spec, new_subs = execution.specs_for(target)
    registry = SPEC_SERIALIZER.registry
    top_diff, sub_diffs = diff_workflow(registry, workflow, new_spec, new_subs)
    blockers = sorted({t.task_spec.bpmn_id or t.task_spec.name for t in top_diff.removed})
    for sp_id, sp_diff in sub_diffs.items():
        if sp_diff is None:
            blockers.append(f"subprocess {workflow.subprocesses[sp_id].spec.name} (missing in new version)")
        else:
            blockers.extend(t.task_spec.bpmn_id or t.task_spec.name for t in sp_diff.removed)
    if blockers:
        raise Conflict(
            f"Version {target.version} cannot take this instance over: tasks it already has are gone",
            errors={"removed": blockers},
        )
    migrate_workflow(top_diff, workflow, new_spec)
    for sp_id, sp_diff in sub_diffs.items():
        subprocess = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, subprocess, new_subs[subprocess.spec.name])
    workflow.subprocess_specs = new_subs
    old_version = instance.definition.version
    instance.definition_id = target.id
    instance.definition = target
    audit.record(session, actor_id=actor.user_id, action="instance.migrated", instance_id=instance.id,
                 from_version=old_version, to_version=target.version)
    execution.advance(session, instance, workflow, actor_id=actor.user_id)
    return {"instance": instance, "from_version": old_version, "to_version": target.version}
