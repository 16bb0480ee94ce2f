"""Loading, running and saving one instance: the single path every engine step goes through."""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from . import (
    audit,
    datastores,
    notifications,
    script_helpers,  # noqa: F401 - registers the helper functions scripts call
    scripting,
    services,
    subscriptions,
    timers,
)
from . import (
    connectors as built_in_connectors,
)
from .bundle.conventions import PARTY_VARIABLE_PROPERTY
from .models import (
    HumanTask,
    Incident,
    InstanceParty,
    InstanceStatus,
    Membership,
    ProcessDefinition,
    ProcessInstance,
    TaskOwner,
    TaskState,
    User,
    utcnow,
)
from .runtime import (
    SPEC_CACHE,
    WORKFLOW_CACHE,
    RunOutcome,
    bpmn_id_of,
    dump_state,
    load_state,
    ready_user_tasks,
    run_engine,
)
from .scripting import SandboxedScriptEngine


class _Engine:
    """The script engine every instance of this process runs with, and what it is made from."""

    def __init__(self) -> None:
        self.current: SandboxedScriptEngine | None = None
        self.services: dict[str, Callable[..., Any]] = {}
        self.time_limit = 1.0


_ENGINE = _Engine()


def configure(*, time_limit: float | None = None, services: Mapping[str, Callable[..., Any]] | None = None) -> None:
    """Set the script time bound and service connectors once at start-up (app factory, CLI, tests)."""
    if time_limit is not None:
        _ENGINE.time_limit = time_limit
    if services is not None:
        _ENGINE.services.clear()
        _ENGINE.services.update(services)
    _ENGINE.current = None


def script_engine() -> SandboxedScriptEngine:
    """SpiffWorkflow's script engine for this process: sandboxed scripts, our connectors."""
    if _ENGINE.current is None:
        connectors = _ENGINE.services if _ENGINE.services else services.CONNECTORS
        _ENGINE.current = SandboxedScriptEngine(time_limit=_ENGINE.time_limit, services=connectors,
                                                fallback=built_in_connectors.proxy_connector)
    return _ENGINE.current


def specs_for(definition: ProcessDefinition) -> tuple[Any, dict[str, Any]]:
    return SPEC_CACHE.get(
        f"{definition.key}:{definition.content_hash}", lambda: definition.spec_json, services.make_asynchronous
    )


def new_workflow(definition: ProcessDefinition, variables: Mapping[str, Any]) -> BpmnWorkflow:
    spec, subs = specs_for(definition)
    workflow = BpmnWorkflow(spec, subs, script_engine=script_engine())
    workflow.task_tree.data.update(copy.deepcopy(dict(variables)))
    return workflow


def open_workflow(instance: ProcessInstance) -> BpmnWorkflow:
    spec, subs = specs_for(instance.definition)
    return load_state(instance.state, spec, subs, script_engine())


def open_for_change(instance: ProcessInstance) -> BpmnWorkflow:
    """The workflow of an instance this unit of work has locked and will change: the one this process
    committed last if the row still holds exactly what it saved (engine/runtime.py WorkflowCache),
    otherwise restored from the row. Read-only callers use :func:`open_workflow`."""
    spec, subs = specs_for(instance.definition)
    kept = WORKFLOW_CACHE.take(instance.id, instance.state, spec)
    if kept is None:
        return load_state(instance.state, spec, subs, script_engine())
    kept.script_engine = script_engine()
    return kept


_KEPT_WORKFLOWS = "ecvet.kept_workflows"


def keep_after_commit(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Offer the workflow just saved to the next change of the instance in this process, once (and only
    if) this unit of work commits. Call it last: the workflow must not change after its save."""
    session.info.setdefault(_KEPT_WORKFLOWS, {})[instance.id] = (instance.state, workflow)


@orm_event.listens_for(Session, "after_commit")
def _kept_once_committed(session: Session) -> None:
    for instance_id, (state, workflow) in session.info.pop(_KEPT_WORKFLOWS, {}).items():
        WORKFLOW_CACHE.put(instance_id, state, workflow)


@orm_event.listens_for(Session, "after_soft_rollback")
def _dropped_with_any_rollback(session: Session, previous: SessionTransaction) -> None:
    """A savepoint's rollback too: what was saved inside it may be gone, so nothing is kept."""
    del previous
    session.info.pop(_KEPT_WORKFLOWS, None)


def find_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - Spiff raises its own TaskNotFoundException or KeyError
        return None


def has_open_incident(session: Session, instance_id: str) -> bool:
    stmt = select(Incident.id).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None)).limit(1)
    return session.scalar(stmt) is not None


def compute_status(
    workflow: BpmnWorkflow, outcome: RunOutcome, has_open_incident: bool, current: str = InstanceStatus.RUNNING
) -> str:
    """Terminated and suspended stay as an operator left them; otherwise the engine decides."""
    if current in (InstanceStatus.TERMINATED, InstanceStatus.SUSPENDED):
        return current
    if outcome.incidents or has_open_incident:
        return InstanceStatus.ERROR
    if workflow.is_completed():
        return InstanceStatus.COMPLETED
    if ready_user_tasks(workflow):
        return InstanceStatus.WAITING
    return InstanceStatus.RUNNING


def save(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    outcome: RunOutcome,
    *,
    actor_id: int | None,
) -> None:
    """Persist state, incidents, status and the task projection in the caller's unit of work."""
    now = utcnow()
    instance.state = dump_state(workflow)
    instance.updated_at = now
    for info in outcome.incidents:
        incident = Incident(instance_id=instance.id, task_id=info.task_id, bpmn_id=info.bpmn_id,
                            kind=info.kind, message=info.message)
        session.add(incident)
        audit.record(session, actor_id=actor_id, action="incident.raised", instance_id=instance.id,
                     task_id=info.task_id, kind=info.kind, message=info.message, bpmn_id=info.bpmn_id)
    for escalation in outcome.uncaught_escalations:
        # Not critical in BPMN: the instance goes on; who follows it sees the escalation in its trail.
        audit.record(session, actor_id=actor_id, action="escalation.uncaught", instance_id=instance.id, **escalation)
    for event in outcome.unrouted_events:
        audit.record(session, actor_id=actor_id, action="event.unrouted", instance_id=instance.id, **event)
    old_status = instance.status
    open_incident = old_status == InstanceStatus.ERROR and has_open_incident(session, instance.id)
    new_status = compute_status(workflow, outcome, open_incident, old_status)
    if new_status != old_status:
        instance.status = new_status
        audit.record(session, actor_id=actor_id, action="instance.status_changed", instance_id=instance.id,
                     old=old_status, new=new_status)
    if new_status == InstanceStatus.COMPLETED and instance.completed_at is None:
        instance.completed_at = now
    created = sync_tasks(session, instance, workflow, actor_id=actor_id)
    timers.schedule(session, instance, workflow)
    services.schedule(session, instance, workflow)
    subscriptions.on_save(session, instance, workflow, outcome)
    if created:
        notifications.on_tasks_created(session, instance, created)



READY_ROWS = select(HumanTask).where(
    HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == TaskState.READY
)
_PRELOADED = "ecvet.ready_rows"


def preload_ready(session: Session, instance_id: str, rows: list[HumanTask]) -> None:
    """Hand `sync_tasks` the instance's ready rows a caller already read in this unit of work (after
    locking the instance), so the save does not read them again."""
    session.info.setdefault(_PRELOADED, {})[instance_id] = rows


def _ready_rows(session: Session, instance_id: str) -> list[HumanTask]:
    preloaded = session.info.get(_PRELOADED, {}).pop(instance_id, None)
    if preloaded is not None:
        return list(preloaded)
    return list(session.scalars(READY_ROWS, {"instance_id": instance_id}))


def sync_tasks(
    session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, *, actor_id: int | None
) -> list[HumanTask]:
    """Make the tasks table match the engine: new ready tasks appear, vanished ones are cancelled."""
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        ready = {}
    # An instance in error stops handing out new work: the engine may have run past an unhandled
    # error (hazard 2), and nobody should act on what followed until an operator resolves it.
    creating = instance.status not in (InstanceStatus.ERROR, InstanceStatus.SUSPENDED)
    # No autoflush: everything this unit of work changed goes to the database in one flush at commit;
    # rows already completed in memory (the task being completed now) are skipped by their state.
    with session.no_autoflush:
        rows = {
            row.id: row
            for row in _ready_rows(session, instance.id)
            if row.state == TaskState.READY
        }
    now = utcnow()
    for task_id, row in rows.items():
        if task_id not in ready:
            row.state = TaskState.CANCELLED
            row.completed_at = now
            audit.record(session, actor_id=actor_id, action="task.cancelled", instance_id=instance.id,
                         task_id=task_id, bpmn_id=row.bpmn_id)
    lane_to_role = {lane: role for role, lane in (instance.definition.roles or {}).items()}
    # Roles not drawn as lanes (camunda:candidateGroups), as the deployment read them.
    task_roles = {t.get("bpmn_id"): t.get("role") for t in instance.definition.user_tasks or []}
    bindings = {p.role: p for p in instance.parties}
    created: list[HumanTask] = []
    for task_id, task in ready.items():
        if task_id in rows or not creating:
            continue  # Spiff gives every task instance a fresh UUID, loops included
        spec = task.task_spec
        bpmn_id = bpmn_id_of(task)
        lane = getattr(spec, "lane", None)
        role = lane_to_role.get(lane) if lane else task_roles.get(bpmn_id)
        party = bindings.get(role) if role else None
        properties = (getattr(spec, "extensions", {}) or {}).get("properties", {}) or {}
        if role and properties.get(PARTY_VARIABLE_PROPERTY):
            party = _party_of_task(session, instance, task, role, variable=properties[PARTY_VARIABLE_PROPERTY],
                                   bindings=bindings, actor_id=actor_id)
        # Outside every named lane (or in a process without lanes): the initiator's task (spiff-arena).
        user_id = party.user_id if party else (instance.started_by if role is None else None)
        owners = _lane_owners(session, instance, task, lane=lane, party=party, actor_id=actor_id)
        extensions = getattr(spec, "extensions", {}) or {}
        properties = extensions.get("properties", {}) or {}
        row = HumanTask(
            id=task_id,
            instance_id=instance.id,
            process_key=instance.process_key,
            bpmn_id=bpmn_id,
            name=getattr(spec, "bpmn_name", None) or bpmn_id,
            lane=lane,
            role=role,
            organisation_id=party.organisation_id if party else None,
            user_id=user_id,
            form=properties.get("formJsonSchemaFilename"),
            instructions=extensions.get("instructionsForEndUser"),
            state=TaskState.READY,
            created_at=now,
            due_at=timers.task_due_at(task, now),
        )
        row.owners = [TaskOwner(user_id=owner) for owner in owners]
        session.add(row)
        created.append(row)
        audit.record(session, actor_id=actor_id, action="task.created", instance_id=instance.id,
                     task_id=task_id, bpmn_id=bpmn_id, role=role, **({"owners": owners} if owners else {}))
    return created


def _party_of_task(session: Session, instance: ProcessInstance, task: Any, role: str, *, variable: str,
                   bindings: dict[str, InstanceParty], actor_id: int | None) -> InstanceParty | None:
    """The party of a task that names its own (``partyVariable``): the task-data variable holds a bound
    name ``"<role>:<key>"`` (or a dict with it under ``party``), e.g. one item of a multi-instance
    collection. Only names bound to this instance under the task's own role count, so data cannot hand
    the task to an outsider or to another lane; otherwise nobody but administrators sees it (audited)."""
    value = task.data.get(variable)
    name = value.get("party") if isinstance(value, dict) else value
    party = bindings.get(name) if isinstance(name, str) and name.startswith(f"{role}:") else None
    if party is None:
        audit.record(session, actor_id=actor_id, action="task.party_unbound", instance_id=instance.id,
                     task_id=str(task.id), role=role, party=str(name))
    return party


def _lane_owners(session: Session, instance: ProcessInstance, task: Any, *, lane: str | None,
                 party: InstanceParty | None, actor_id: int | None) -> list[int]:
    """The people a script named for the task's lane (spiff-arena ``lane_owners = {lane: [e-mail or id]}``).

    Only people of the party bound to the lane count: a script (or data a party typed) can narrow a
    lane to some of its members, never hand another party's work to an outsider. Names that are not
    such people are left out, and the audit trail says so; with nobody left the lane's party keeps it.
    """
    wanted = task.data.get("lane_owners")
    names = wanted.get(lane) if isinstance(wanted, dict) and lane else None
    if party is None or not isinstance(names, list) or not names:
        return []
    emails = {n.strip().lower() for n in names if isinstance(n, str)}
    ids = {n for n in names if isinstance(n, int) and not isinstance(n, bool)}
    stmt = select(User.id, User.email).where(or_(func.lower(User.email).in_(emails), User.id.in_(ids)),
                                             User.is_active.is_(True))
    if party.organisation_id is not None:
        stmt = stmt.join(Membership, Membership.user_id == User.id).where(
            Membership.organisation_id == party.organisation_id)
    else:
        stmt = stmt.where(User.id == party.user_id)
    found = {user_id: email.lower() for user_id, email in session.execute(stmt)}
    left_out = [n for n in names if not (n in found or (isinstance(n, str) and n.strip().lower() in found.values()))]
    if left_out:
        audit.record(session, actor_id=actor_id, action="task.owners_left_out", instance_id=instance.id,
                     task_id=str(task.id), lane=lane, names=[str(n) for n in left_out])
    return sorted(found)


def advance(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    actor_id: int | None,
    before: Callable[[], None] | None = None,
    raise_expression_errors: bool = False,
) -> RunOutcome:
    """Run the instance until it waits and save it (see :func:`engine.runtime.run_engine`)."""
    with datastores.using(session), scripting.running(session=session, instance=instance, actor_id=actor_id) as printed:
        outcome = run_engine(workflow, before=before, raise_expression_errors=raise_expression_errors)
    save(session, instance, workflow, outcome, actor_id=actor_id)
    for script in printed:
        # The instance log: what a script printed, for its process owner (withheld from parties, as
        # printed text may hold any party's data).
        audit.record(session, actor_id=actor_id, action="script.printed", instance_id=instance.id,
                     task_id=script.task_id or None, bpmn_id=script.bpmn_id, printed=script.lines)
    return outcome
