"""Process instances: start with a party binding, read what the caller may see, list by SQL.

Every start goes through :func:`start`: the API, the pages, the domain services (nominating a
learner, starting a partnership) and messages that start a process. There the engine enforces who
may start what: the process's declared :class:`~engine.bundle.StartRule` (``startableBy``) and the
domain check it names (``startCheck``, registered with :func:`start_check`). Administrators and the
platform (a message another instance threw) start anything.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, NamedTuple, TypedDict

from sqlalchemy import exists, or_, select, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import audit, deployments, execution, runtime, tasks
from .errors import Conflict, EngineError, Forbidden, Invalid, NotFound
from .models import (
    HumanTask,
    Incident,
    InstanceParty,
    InstanceStatus,
    Organisation,
    ProcessDefinition,
    ProcessInstance,
    TaskState,
    User,
    utcnow,
)
from .pagination import MAX_LIMIT, Page, keyset_after, page_of, paginate
from .parties import Actor

PartyRef = int | Mapping[str, int]


class Bound(NamedTuple):
    """The party bound to one role: an organisation, or one user."""

    organisation_id: int | None
    user_id: int | None


def _parse_binding(role: str, value: Any) -> Bound:
    """An int is an organisation id; {"organisation_id": n} or {"user_id": n} say it explicitly."""
    if isinstance(value, bool):
        raise Invalid("Invalid party binding", errors={f"parties.{role}": ["Expected an id"]})
    if isinstance(value, int):
        return Bound(value, None)
    if isinstance(value, Mapping) and len(value) == 1:
        if isinstance(value.get("organisation_id"), int) and not isinstance(value["organisation_id"], bool):
            return Bound(value["organisation_id"], None)
        if isinstance(value.get("user_id"), int) and not isinstance(value["user_id"], bool):
            return Bound(None, value["user_id"])
    raise Invalid(
        "Invalid party binding",
        errors={f"parties.{role}": ["Expected an organisation id, {'organisation_id': n} or {'user_id': n}"]},
    )


def binding(value: PartyRef) -> Bound:
    """A party reference as :func:`start` reads it (``3``, ``{"organisation_id": 3}``, ``{"user_id": 7}``)."""
    return _parse_binding("_", value)


# --- who may start what --------------------------------------------------------------------------

@dataclass(frozen=True)
class StartRequest:
    """What a start check sees: who starts which version, binding whom, with which variables."""

    actor: Actor
    definition: ProcessDefinition
    parties: Mapping[str, Bound]
    variables: Mapping[str, Any]
    business_key: str | None


StartCheck = Callable[[Session, StartRequest], None]
# Domain checks by name, named by a process's `startCheck` property (e.g. that the organisations bound
# to a review are the parties of the mobility it reviews). Registered by the domain at import time
# (records/, loaded by records.wiring), like engine.actions; a check refuses by raising Invalid (422),
# Forbidden (403) or Conflict (409), and then nothing is started.
START_CHECKS: dict[str, StartCheck] = {}


def start_check(name: str) -> Callable[[StartCheck], StartCheck]:
    def register(fn: StartCheck) -> StartCheck:
        START_CHECKS[name] = fn
        return fn

    return register


def _speaks_for(actor: Actor, bound: Bound) -> bool:
    return (bound.organisation_id is not None and bound.organisation_id in actor.organisation_ids) or \
        (bound.user_id is not None and bound.user_id == actor.user_id)


def authorise_start(session: Session, request: StartRequest) -> None:
    """Refuse a start the process does not allow this actor (403), or its domain check refuses.

    Administrators (and the platform) start anything. Anyone else: ``startableBy`` roles -> they
    must be a member of the organisation bound to one of those roles (or the user bound to it);
    ``platform`` -> nobody; undeclared -> they must be bound to some role. Then the process's
    ``startCheck``, which a server that does not know it refuses (fail closed, 409).
    """
    actor, definition = request.actor, request.definition
    if actor.is_admin:
        return
    rule = deployments.start_rule(session, definition)
    if rule.platform_only:
        raise Forbidden(f"'{definition.key}' is started by the platform only (a message another instance "
                        f"throws), not by a person")
    if rule.roles:
        if not any(_speaks_for(actor, bound) for role, bound in request.parties.items() if role in rule.roles):
            raise Forbidden(f"Only {rule.describe()} start '{definition.key}': you are not")
    elif not any(_speaks_for(actor, bound) for bound in request.parties.values()):
        raise Forbidden("You may only start instances in which your organisation takes part")
    if rule.check is not None:
        check = START_CHECKS.get(rule.check)
        if check is None:
            raise Conflict(f"'{definition.key}' names the start check '{rule.check}', which this server does "
                           f"not know: it cannot be started until an administrator fixes the deployment")
        check(session, request)


def per_task_roles(definition: ProcessDefinition) -> frozenset[str]:
    """Roles whose every user task names its own party (``partyVariable``): nobody is bound to them at
    start; domain code binds their parties (:func:`bind_party`) when it knows them."""
    return frozenset(definition.per_task_roles or [])


def bind_party(session: Session, *, actor_id: int | None, instance: ProcessInstance, role: str, key: str,
               organisation_id: int) -> str:
    """Bind one more organisation to a per-task role of a running instance, as ``"<role>:<key>"`` (a
    task whose ``partyVariable`` names that string is that organisation's); returns the bound name.
    Idempotent for the same organisation; 409 if the name is bound to another one. Only code calls
    this (the domain, which decided who takes part): nothing a party types binds anyone."""
    if role not in per_task_roles(instance.definition):
        raise Invalid(f"'{role}' is not a role whose tasks name their own party", errors={"role": [role]})
    if session.get(Organisation, organisation_id) is None:
        raise Invalid(f"No organisation {organisation_id}", errors={"organisation_id": [str(organisation_id)]})
    name = f"{role}:{key}"
    existing = next((p for p in instance.parties if p.role == name), None)
    if existing is not None:
        if existing.organisation_id != organisation_id:
            raise Conflict(f"'{name}' is bound to organisation {existing.organisation_id} already")
        return name
    instance.parties.append(InstanceParty(role=name, organisation_id=organisation_id, process_key=instance.process_key,
                                          status=instance.status, created_at=instance.created_at))
    session.flush()
    audit.record(session, actor_id=actor_id, action="instance.party_bound", instance_id=instance.id, role=name,
                 organisation_id=organisation_id)
    return name


def hand_over_user_party(session: Session, *, actor_id: int | None, instance: ProcessInstance, user_id: int,
                         organisation_id: int, reason: str) -> list[str]:
    """Every role of a running instance bound to the user ``user_id`` is bound to the organisation
    instead, with the role's ready tasks (unclaimed), e.g. a guardian whose learner came of age. Only
    code calls this (the domain, which decided that the person no longer acts); returns the roles moved."""
    if session.get(Organisation, organisation_id) is None:
        raise Invalid(f"No organisation {organisation_id}", errors={"organisation_id": [str(organisation_id)]})
    moved = sorted(p.role for p in instance.parties if p.user_id == user_id)
    for party in instance.parties:
        if party.user_id == user_id:
            party.user_id, party.organisation_id = None, organisation_id
    for task in ready_tasks(session, instance):
        if task.user_id == user_id and task.role in moved:
            task.user_id, task.organisation_id, task.claimed_by, task.claimed_at = None, organisation_id, None, None
            task.owners = []
    session.flush()
    if moved:
        audit.record(session, actor_id=actor_id, action="instance.party_handed_over", instance_id=instance.id,
                     roles=moved, user_id=user_id, organisation_id=organisation_id, reason=reason)
    return moved


def start(
    session: Session,
    *,
    actor: Actor,
    process_key: str,
    version: int | None = None,
    business_key: str | None = None,
    variables: Mapping[str, Any] | None = None,
    parties: Mapping[str, Any],
    by_timer: bool = False,
) -> ProcessInstance:
    """Start an instance and run it until it waits; every lane role must be bound to a party.

    ``by_timer``: the worker starts it because its timer start event is due; that event fires at once.

    Who may start it is the process's start rule and check (:func:`authorise_start`), whichever path
    the start comes from: 422 for a binding that is not valid, 403 for a caller the rule refuses.
    """
    definition = deployments.get_definition(session, key=process_key, version=version)
    roles = definition.roles or {}
    errors: dict[str, list[str]] = {}
    bindings: dict[str, Bound] = {}
    for role, value in (parties or {}).items():
        if role not in roles:
            errors[f"parties.{role}"] = [f"'{role}' is not a role of this process; roles: {sorted(roles)}"]
            continue
        try:
            bindings[role] = _parse_binding(role, value)
        except Invalid as exc:
            errors.update(exc.errors)
    per_task = per_task_roles(definition)
    for role, lane in roles.items():
        if role not in (parties or {}) and role not in per_task:
            errors[f"parties.{role}"] = [f"Role '{role}' (lane '{lane}') needs a party"]
    for role, (org_id, user_id) in bindings.items():
        if org_id is not None and session.get(Organisation, org_id) is None:
            errors[f"parties.{role}"] = [f"No organisation {org_id}"]
        if user_id is not None and session.get(User, user_id) is None:
            errors[f"parties.{role}"] = [f"No user {user_id}"]
    if errors:
        raise Invalid("The party binding is not valid", errors=errors)
    authorise_start(session, StartRequest(actor=actor, definition=definition, parties=dict(bindings),
                                          variables=dict(variables or {}), business_key=business_key))

    instance = ProcessInstance(
        definition_id=definition.id,
        process_key=definition.key,
        business_key=business_key,
        status=InstanceStatus.RUNNING,
        state="",
        started_by=actor.user_id,
        created_at=utcnow(),
    )
    instance.definition = definition
    instance.parties = [
        InstanceParty(role=role, organisation_id=org_id, user_id=user_id, process_key=definition.key,
                      status=InstanceStatus.RUNNING, created_at=instance.created_at)
        for role, (org_id, user_id) in sorted(bindings.items())
    ]
    session.add(instance)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="instance.started", instance_id=instance.id,
                 process_key=definition.key, version=definition.version, business_key=business_key,
                 parties={r: {"organisation_id": o, "user_id": u} for r, (o, u) in bindings.items()})
    workflow = execution.new_workflow(definition, variables or {})
    fire = (lambda: runtime.fire_start_timers(workflow, utcnow())) if by_timer else None
    try:
        execution.advance(session, instance, workflow, actor_id=actor.user_id, before=fire,
                          raise_expression_errors=True)
    except (EngineError, SQLAlchemyError):
        raise
    except Exception as exc:  # noqa: BLE001 - an expression the start data cannot satisfy (SpiffWorkflow
        # evaluates a start event's correlation outside its task error handling): nothing is started.
        raise Invalid(f"'{definition.key}' cannot start with these variables: {type(exc).__name__}: {exc}",
                      errors={"variables": [str(exc)]}) from exc
    execution.keep_after_commit(session, instance, workflow)
    return instance


def process_data(session: Session, *, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    """The data an instance holds: each task's data in the engine's order, then the process's own.

    For callers outside the engine (documents find the records a process refers to), so nobody
    else opens a workflow. Visible to the instance's parties and admins only (NotFound otherwise);
    the dicts are copies, so changing them changes nothing.
    """
    instance = get(session, actor=actor, instance_id=instance_id)
    workflow = execution.open_workflow(instance)
    return [copy.deepcopy(data) for data in [*(t.data for t in workflow.get_tasks()), workflow.data]]


def party_filter(actor: Actor) -> Any:
    conditions = [InstanceParty.user_id == actor.user_id]
    if actor.organisation_ids:
        conditions.append(InstanceParty.organisation_id.in_(actor.organisation_ids))
    return exists().where(InstanceParty.instance_id == ProcessInstance.id, or_(*conditions))


def can_see(actor: Actor, instance: ProcessInstance) -> bool:
    """Admins and the instance's parties (its organisations' members, its bound users) see it."""
    if actor.is_admin:
        return True
    return any(
        p.user_id == actor.user_id or (p.organisation_id is not None and p.organisation_id in actor.organisation_ids)
        for p in instance.parties
    )


def get(session: Session, *, actor: Actor, instance_id: str) -> ProcessInstance:
    """An instance is visible to admins and to its parties; to anyone else it does not exist."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not can_see(actor, instance):
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
    newest_first: bool = False,
) -> Page[ProcessInstance]:
    """The instances the actor is a party of (admins: all), oldest first unless `newest_first`."""
    if status and status not in InstanceStatus.ALL:
        raise Invalid("Unknown status", errors={"status": [f"One of {', '.join(InstanceStatus.ALL)}"]})
    if not actor.is_admin and not business_key:
        return _party_page(session, actor, process_key=process_key, status=status, cursor=cursor, limit=limit,
                           descending=newest_first)
    stmt = select(ProcessInstance)
    if not actor.is_admin:
        stmt = stmt.where(party_filter(actor))
    if process_key:
        stmt = stmt.where(ProcessInstance.process_key == process_key)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if business_key:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    return paginate(session, stmt, [ProcessInstance.created_at, ProcessInstance.id], cursor=cursor, limit=limit,
                    descending=newest_first)


def _party_page(session: Session, actor: Actor, *, process_key: str | None, status: str | None,
                cursor: str | None, limit: int, descending: bool) -> Page[ProcessInstance]:
    """A party's page from the copies on its own party rows (migration 1708), not from the instances.

    One branch per party the actor acts as (their user, each organisation) and status asked for (all
    six without a filter), each a range scan of ``ix_parties_{org,user}_{key_,}status`` limited to the
    page; one statement merges them (an instance where the actor plays two roles counts once) and
    reads the page's instances by primary key.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    keys = [InstanceParty.created_at, InstanceParty.instance_id]
    after = keyset_after(keys, cursor, descending=descending)
    order = [k.desc() for k in keys] if descending else keys
    parties = [InstanceParty.user_id == actor.user_id]
    parties += [InstanceParty.organisation_id == org_id for org_id in actor.organisation_ids]
    branches = []
    for party in parties:
        for one in [status] if status else InstanceStatus.ALL:
            branch = select(*keys).where(party, InstanceParty.status == one).distinct()
            if process_key:
                branch = branch.where(InstanceParty.process_key == process_key)
            if after is not None:
                branch = branch.where(after)
            branches.append(select(branch.order_by(*order).limit(limit + 1).subquery()))
    merged = union_all(*branches).subquery()
    merged_keys = [merged.c.created_at, merged.c.instance_id]
    page = select(*merged_keys).distinct().order_by(
        *([k.desc() for k in merged_keys] if descending else merged_keys)).limit(limit + 1).subquery()
    instance_order = [ProcessInstance.created_at, ProcessInstance.id]
    stmt = select(ProcessInstance).where(ProcessInstance.id.in_(select(page.c.instance_id))).order_by(
        *([k.desc() for k in instance_order] if descending else instance_order))
    return page_of(list(session.scalars(stmt)), instance_order, limit)


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
_SUBMITTED = ("data", "printed")


def trail(session: Session, instance: ProcessInstance, *, actor: Actor | None = None) -> list[TrailEvent]:
    """The instance's audit trail; for a party, what other parties submitted in their tasks is withheld.

    Every party sees that a task was completed, by whom and when, but the form data stays with the
    party the task belonged to (and admins): the host's assessment results, for instance, must not
    reach the home side through the trail before the transcript is released.
    """
    events = audit.for_instance(session, instance.id)
    own_tasks: set[str] | None = None
    if actor is not None and not actor.is_admin:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))
        own_tasks = {t.id for t in rows if tasks.is_assignee(actor, t)}
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


class PartyView(TypedDict):
    """Who a role of an instance is bound to: an organisation or one person."""

    organisation_id: int | None
    user_id: int | None


class ReadyTaskView(TypedDict):
    """A task an instance waits on, as any party or monitor of the instance sees it (the API's ReadyTask)."""

    id: Annotated[str | None, "null when the task is another party's"]
    bpmn_id: str
    name: str
    role: str | None
    organisation_id: int | None
    user_id: int | None
    created_at: datetime
    due_at: datetime | None
    actionable: bool


def describe(session: Session, *, actor: Actor, instance_id: str) -> dict[str, Any]:
    """Everything a party or monitor needs about one instance, assembled from indexed queries."""
    instance = get(session, actor=actor, instance_id=instance_id)
    ready = [
        ReadyTaskView(id=task.id if tasks.can_see(actor, task) else None, bpmn_id=task.bpmn_id, name=task.name,
                      role=task.role, organisation_id=task.organisation_id, user_id=task.user_id,
                      created_at=task.created_at, due_at=task.due_at, actionable=tasks.is_assignee(actor, task))
        for task in ready_tasks(session, instance)
    ]
    parties = {p.role: PartyView(organisation_id=p.organisation_id, user_id=p.user_id) for p in instance.parties}
    return {
        "instance": instance,
        "version": instance.definition.version,
        "parties": parties,
        "ready_tasks": ready,
        "incidents": incidents(session, instance),
        "audit": trail(session, instance, actor=actor),
    }
