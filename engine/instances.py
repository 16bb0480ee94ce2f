"""Process instances: start with a party binding, read what the caller may see, list by SQL."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from . import audit, deployments, execution
from .errors import Forbidden, Invalid, NotFound
from .models import (
    HumanTask,
    Incident,
    InstanceParty,
    InstanceStatus,
    Organisation,
    ProcessInstance,
    TaskState,
    User,
)
from .pagination import Page, paginate
from .parties import Actor

PartyRef = int | Mapping[str, int]


def _parse_binding(role: str, value: Any) -> tuple[int | None, int | None]:
    """An int is an organisation id; {"organisation_id": n} or {"user_id": n} say it explicitly."""
    if isinstance(value, bool):
        raise Invalid("Invalid party binding", errors={f"parties.{role}": ["Expected an id"]})
    if isinstance(value, int):
        return value, None
    if isinstance(value, Mapping) and len(value) == 1:
        if isinstance(value.get("organisation_id"), int):
            return value["organisation_id"], None
        if isinstance(value.get("user_id"), int):
            return None, value["user_id"]
    raise Invalid(
        "Invalid party binding",
        errors={f"parties.{role}": ["Expected an organisation id, {'organisation_id': n} or {'user_id': n}"]},
    )


def start(
    session: Session,
    *,
    actor: Actor,
    process_key: str,
    version: int | None = None,
    business_key: str | None = None,
    variables: Mapping[str, Any] | None = None,
    parties: Mapping[str, Any],
) -> ProcessInstance:
    """Start an instance and run it until it waits; every lane role must be bound to a party."""
    definition = deployments.get_definition(session, key=process_key, version=version)
    roles = definition.roles or {}
    errors: dict[str, list[str]] = {}
    bindings: dict[str, tuple[int | None, int | None]] = {}
    for role, value in (parties or {}).items():
        if role not in roles:
            errors[f"parties.{role}"] = [f"'{role}' is not a role of this process; roles: {sorted(roles)}"]
            continue
        try:
            bindings[role] = _parse_binding(role, value)
        except Invalid as exc:
            errors.update(exc.errors)
    for role, lane in roles.items():
        if role not in (parties or {}):
            errors[f"parties.{role}"] = [f"Role '{role}' (lane '{lane}') needs a party"]
    for role, (org_id, user_id) in bindings.items():
        if org_id is not None and session.get(Organisation, org_id) is None:
            errors[f"parties.{role}"] = [f"No organisation {org_id}"]
        if user_id is not None and session.get(User, user_id) is None:
            errors[f"parties.{role}"] = [f"No user {user_id}"]
    if errors:
        raise Invalid("The party binding is not valid", errors=errors)
    if not actor.is_admin:
        own = any(
            (org_id in actor.organisation_ids) or (user_id == actor.user_id)
            for org_id, user_id in bindings.values()
        )
        if not own:
            raise Forbidden("You may only start instances in which your organisation takes part")

    instance = ProcessInstance(
        definition_id=definition.id,
        process_key=definition.key,
        business_key=business_key,
        status=InstanceStatus.RUNNING,
        state="",
        started_by=actor.user_id,
    )
    instance.definition = definition
    instance.parties = [
        InstanceParty(role=role, organisation_id=org_id, user_id=user_id)
        for role, (org_id, user_id) in sorted(bindings.items())
    ]
    session.add(instance)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="instance.started", instance_id=instance.id,
                 process_key=definition.key, version=definition.version, business_key=business_key,
                 parties={r: {"organisation_id": o, "user_id": u} for r, (o, u) in bindings.items()})
    workflow = execution.new_workflow(definition, variables or {})
    execution.advance(session, instance, workflow, actor_id=actor.user_id)
    return instance


def _party_filter(actor: Actor) -> Any:
    conditions = [InstanceParty.user_id == actor.user_id]
    if actor.organisation_ids:
        conditions.append(InstanceParty.organisation_id.in_(actor.organisation_ids))
    return exists().where(InstanceParty.instance_id == ProcessInstance.id, or_(*conditions))


def can_see(session: Session, actor: Actor, instance: ProcessInstance) -> bool:
    if actor.is_admin:
        return True
    return any(
        p.user_id == actor.user_id or (p.organisation_id is not None and p.organisation_id in actor.organisation_ids)
        for p in instance.parties
    )


def get(session: Session, *, actor: Actor, instance_id: str) -> ProcessInstance:
    """An instance is visible to admins and to its parties; to anyone else it does not exist."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not can_see(session, actor, instance):
        raise NotFound(f"No process instance {instance_id}")
    return instance


def list_for(
    session: Session,
    *,
    actor: Actor,
    process_key: str | None = None,
    status: str | None = None,
    business_key: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ProcessInstance]:
    stmt = select(ProcessInstance)
    if not actor.is_admin:
        stmt = stmt.where(_party_filter(actor))
    if process_key:
        stmt = stmt.where(ProcessInstance.process_key == process_key)
    if status:
        if status not in InstanceStatus.ALL:
            raise Invalid("Unknown status", errors={"status": [f"One of {', '.join(InstanceStatus.ALL)}"]})
        stmt = stmt.where(ProcessInstance.status == status)
    if business_key:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    return paginate(session, stmt, [ProcessInstance.created_at, ProcessInstance.id], cursor=cursor, limit=limit)


def ready_tasks(session: Session, instance: ProcessInstance) -> list[HumanTask]:
    stmt = (
        select(HumanTask)
        .where(HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY)
        .order_by(HumanTask.created_at, HumanTask.id)
    )
    return list(session.scalars(stmt))


def incidents(session: Session, instance: ProcessInstance) -> list[Incident]:
    stmt = select(Incident).where(Incident.instance_id == instance.id).order_by(Incident.id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class TrailEvent:
    """An audit event as one caller may read it (see :func:`trail`)."""

    id: int
    at: datetime
    actor_id: int | None
    action: str
    task_id: str | None
    detail: dict[str, Any]


# Detail keys that carry what a party submitted or an operator corrected: readable by that party only.
_SUBMITTED = ("data",)


def trail(session: Session, instance: ProcessInstance, *, actor: Actor | None = None) -> list[TrailEvent]:
    """The instance's audit trail; for a party, what other parties submitted in their tasks is withheld.

    Every party sees that a task was completed, by whom and when, but the form data stays with the
    party the task belonged to (and admins): the host's assessment results, for instance, must not
    reach the home side through the trail before the transcript is released.
    """
    events = audit.for_instance(session, instance.id)
    own_tasks: set[str] | None = None
    if actor is not None and not actor.is_admin:
        from . import tasks as task_service

        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
        own_tasks = {t.id for t in rows if task_service.is_assignee(actor, t)}
    out = []
    for e in events:
        detail = dict(e.detail or {})
        if own_tasks is not None and any(k in detail for k in _SUBMITTED) and e.task_id not in own_tasks:
            for key in _SUBMITTED:
                if key in detail:
                    detail[key] = None
            detail["withheld"] = "submitted by another party"
        out.append(TrailEvent(e.id, e.at, e.actor_id, e.action, e.task_id, detail))
    return out


def describe(session: Session, *, actor: Actor, instance_id: str) -> dict[str, Any]:
    """Everything a party or monitor needs about one instance, assembled from indexed queries."""
    from . import tasks as task_service

    instance = get(session, actor=actor, instance_id=instance_id)
    ready = []
    for task in ready_tasks(session, instance):
        mine = task_service.can_see(actor, task)
        ready.append({
            "id": task.id if mine else None,
            "bpmn_id": task.bpmn_id,
            "name": task.name,
            "role": task.role,
            "organisation_id": task.organisation_id,
            "user_id": task.user_id,
            "created_at": task.created_at,
            "due_at": task.due_at,
            "actionable": task_service.is_assignee(actor, task),
        })
    return {
        "instance": instance,
        "version": instance.definition.version,
        "parties": {p.role: {"organisation_id": p.organisation_id, "user_id": p.user_id} for p in instance.parties},
        "ready_tasks": ready,
        "incidents": incidents(session, instance),
        "audit": trail(session, instance, actor=actor),
    }
