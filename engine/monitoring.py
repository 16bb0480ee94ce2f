"""Where instances stand: aggregates for monitors and process owners, scoped to what the caller may see.

Every figure across instances is one SQL aggregate over the engine's projections (``process_instances``,
``tasks``, ``incidents``, ``message_subscriptions``); nothing here deserialises more than the one
instance whose diagram is highlighted. A non-admin sees only instances their organisation (or they
personally) take part in, by the same rule as :func:`engine.instances.list_for`.

Phase of an open instance: the name of each ready user task (with its lane's role); an instance with
two parallel ready tasks counts in both phases. An open instance without a ready task is in the phase
"Incident", "Waiting for a message", "Waiting for a timer" or "Automatic step" (first that applies).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import Session

from . import deployments, instances
from .diagrams import (
    ElementState,
    InstanceHighlights,
    diagram_file,
    diagram_index,
    element_states,
    instance_diagram,
    version_diagram,
)
from .errors import NotFound
from .models import (
    DefinitionFile,
    HumanTask,
    Incident,
    InstanceStatus,
    MessageSubscription,
    Organisation,
    ProcessDefinition,
    ProcessInstance,
    TaskState,
    User,
    utcnow,
)
from .parties import Actor

OPEN_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR, InstanceStatus.SUSPENDED)
MAX_DAYS = 366

PHASE_INCIDENT = "Incident"
PHASE_MESSAGE = "Waiting for a message"
PHASE_TIMER = "Waiting for a timer"
PHASE_AUTOMATIC = "Automatic step"


def _visible(stmt: Any, actor: Actor) -> Any:
    """Restrict a statement over ProcessInstance to the instances the actor is a party of."""
    if actor.is_admin:
        return stmt
    return stmt.where(instances.party_filter(actor))


# --------------------------------------------------------------------------------------------------
# Dashboard aggregates
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    process_key: str
    process_name: str
    status: str
    count: int


def _process_names(session: Session, keys: set[str]) -> dict[str, str]:
    """The newest version's name of each key (rows in version order: later ones win)."""
    if not keys:
        return {}
    stmt = (select(ProcessDefinition.key, ProcessDefinition.name)
            .where(ProcessDefinition.key.in_(sorted(keys))).order_by(ProcessDefinition.version))
    return {key: name for key, name in session.execute(stmt)}


def instances_by_status(session: Session, *, actor: Actor) -> list[StatusCount]:
    """Instances per process key and status (one GROUP BY), the dashboard's first table."""
    stmt = select(ProcessInstance.process_key, ProcessInstance.status, func.count(ProcessInstance.id))
    rows = list(session.execute(_visible(stmt, actor).group_by(ProcessInstance.process_key, ProcessInstance.status)))
    names = _process_names(session, {r[0] for r in rows})
    return sorted(
        (StatusCount(key, names.get(key) or key, status, count) for key, status, count in rows),
        key=lambda r: (r.process_key, InstanceStatus.ALL.index(r.status) if r.status in InstanceStatus.ALL else 99),
    )


@dataclass(frozen=True)
class PhaseCount:
    process_key: str
    phase: str
    role: str | None
    bpmn_id: str | None
    instances: int
    overdue_tasks: int = 0


def instances_by_phase(session: Session, *, actor: Actor, process_key: str | None = None) -> list[PhaseCount]:
    """Open instances per phase: ready user tasks by element, then the ones waiting on something else."""
    now = utcnow()
    overdue = func.sum(case((and_(HumanTask.due_at.is_not(None), HumanTask.due_at < now), 1), else_=0))
    stmt = (
        select(HumanTask.process_key, HumanTask.name, HumanTask.role, HumanTask.bpmn_id,
               func.count(func.distinct(HumanTask.instance_id)), overdue)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.state == TaskState.READY, ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(HumanTask.process_key, HumanTask.name, HumanTask.role, HumanTask.bpmn_id)
    )
    if process_key:
        stmt = stmt.where(HumanTask.process_key == process_key)
    result = [
        PhaseCount(key, name, role, bpmn_id, count, int(late or 0))
        for key, name, role, bpmn_id, count, late in session.execute(_visible(stmt, actor))
    ]

    has_ready = exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == TaskState.READY)
    has_incident = exists().where(Incident.instance_id == ProcessInstance.id, Incident.resolved_at.is_(None))
    has_message = exists().where(MessageSubscription.instance_id == ProcessInstance.id)
    phase = case(
        (has_incident, literal(PHASE_INCIDENT)),
        (has_message, literal(PHASE_MESSAGE)),
        (ProcessInstance.next_due_at.is_not(None), literal(PHASE_TIMER)),
        else_=literal(PHASE_AUTOMATIC),
    ).label("phase")
    waiting = (
        select(ProcessInstance.process_key, phase, func.count(ProcessInstance.id))
        .where(ProcessInstance.status.in_(OPEN_STATUSES), ~has_ready)
        .group_by(ProcessInstance.process_key, phase)
    )
    if process_key:
        waiting = waiting.where(ProcessInstance.process_key == process_key)
    result += [PhaseCount(key, name, None, None, count)
               for key, name, count in session.execute(_visible(waiting, actor))]
    return sorted(result, key=lambda p: (p.process_key, -p.instances, p.phase))


@dataclass(frozen=True)
class OverdueTask:
    task_id: str
    name: str
    process_key: str
    instance_id: str
    business_key: str | None
    role: str | None
    assignee: str | None  # the organisation's name, or the bound user's name
    created_at: datetime
    due_at: datetime


def overdue_tasks(session: Session, *, actor: Actor, limit: int = 50) -> list[OverdueTask]:
    """Ready tasks past their due date, most overdue first, in the instances the actor may see."""
    stmt = (
        select(HumanTask, ProcessInstance.business_key, Organisation.name, User.name)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(Organisation, Organisation.id == HumanTask.organisation_id)
        .outerjoin(User, User.id == HumanTask.user_id)
        .where(HumanTask.state == TaskState.READY, HumanTask.due_at.is_not(None), HumanTask.due_at < utcnow())
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(max(1, min(limit, 500)))
    )
    return [
        OverdueTask(task.id, task.name, task.process_key, task.instance_id, business_key, task.role,
                    org_name or user_name, task.created_at, task.due_at)
        for task, business_key, org_name, user_name in session.execute(_visible(stmt, actor))
    ]


@dataclass(frozen=True)
class OpenIncident:
    id: int
    instance_id: str
    process_key: str
    business_key: str | None
    bpmn_id: str | None
    kind: str
    message: str
    created_at: datetime


def open_incidents(session: Session, *, actor: Actor, instance_id: str | None = None,
                   limit: int = 50) -> list[OpenIncident]:
    """Unresolved incidents, newest first; parties see those of their own instances."""
    stmt = (
        select(Incident, ProcessInstance.process_key, ProcessInstance.business_key)
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(Incident.resolved_at.is_(None))
        .order_by(Incident.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    if instance_id:
        stmt = stmt.where(Incident.instance_id == instance_id)
    return [
        OpenIncident(i.id, i.instance_id, key, business_key, i.bpmn_id, i.kind, i.message, i.created_at)
        for i, key, business_key in session.execute(_visible(stmt, actor))
    ]


@dataclass(frozen=True)
class DayCount:
    day: date
    started: int
    completed: int


def _as_date(value: Any) -> date:
    """SQLite's date() gives 'YYYY-MM-DD', PostgreSQL's a date: one type for the caller."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def counts_over_time(session: Session, *, actor: Actor, days: int = 30) -> list[DayCount]:
    """Instances started and completed per UTC day for the last `days` days, today included, zeros kept."""
    days = max(1, min(int(days), MAX_DAYS))
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=utcnow().tzinfo)
    series: dict[date, list[int]] = {first + timedelta(days=i): [0, 0] for i in range(days)}
    for column, slot in ((ProcessInstance.created_at, 0), (ProcessInstance.completed_at, 1)):
        day = func.date(column)
        stmt = select(day, func.count(ProcessInstance.id)).where(column >= since).group_by(day)
        for value, count in session.execute(_visible(stmt, actor)):
            bucket = series.get(_as_date(value))
            if bucket is not None:
                bucket[slot] += count
    return [DayCount(d, started, completed) for d, (started, completed) in sorted(series.items())]


# --------------------------------------------------------------------------------------------------
# Process owners: versions and the instances on each
# --------------------------------------------------------------------------------------------------


@dataclass
class VersionInfo:
    version: int
    name: str
    content_hash: str
    created_at: datetime
    files: list[str]
    instances: int = 0
    open_instances: int = 0


@dataclass
class ProcessVersions:
    key: str
    name: str
    versions: list[VersionInfo] = field(default_factory=list)

    @property
    def latest(self) -> VersionInfo:
        return self.versions[-1]

    @property
    def instances(self) -> int:
        return sum(v.instances for v in self.versions)


def definitions_overview(session: Session, *, key: str | None = None) -> list[ProcessVersions]:
    """Every process key with its versions, their files and how many instances run on each."""
    defs = select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
                  ProcessDefinition.content_hash, ProcessDefinition.created_at)
    if key:
        defs = defs.where(ProcessDefinition.key == key)
    rows = list(session.execute(defs.order_by(ProcessDefinition.key, ProcessDefinition.version)))
    ids = [r[0] for r in rows]
    files: dict[int, list[str]] = defaultdict(list)
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        for def_id, filename in session.execute(
            select(DefinitionFile.definition_id, DefinitionFile.filename)
            .where(DefinitionFile.definition_id.in_(ids)).order_by(DefinitionFile.filename)
        ):
            files[def_id].append(filename)
        open_count = func.sum(case((ProcessInstance.status.in_(OPEN_STATUSES), 1), else_=0))
        for def_id, total, still_open in session.execute(
            select(ProcessInstance.definition_id, func.count(ProcessInstance.id), open_count)
            .where(ProcessInstance.definition_id.in_(ids)).group_by(ProcessInstance.definition_id)
        ):
            counts[def_id] = (total, int(still_open or 0))
    by_key: dict[str, ProcessVersions] = {}
    for def_id, k, version, name, content_hash, created_at in rows:
        entry = by_key.setdefault(k, ProcessVersions(k, name))
        entry.name = name  # the newest version's name wins (rows are in version order)
        total, still_open = counts.get(def_id, (0, 0))
        entry.versions.append(VersionInfo(version, name, content_hash, created_at, files[def_id], total, still_open))
    if key and not by_key:
        raise NotFound(f"No process definition '{key}'")
    return list(by_key.values())


# --------------------------------------------------------------------------------------------------
# Heatmap: where the instances of one version wait now
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    element_id: str
    kind: str  # "task" (ready user tasks), "message" (waiting catches), "timer", "incident"
    count: int
    overdue: int = 0


@dataclass
class Heatmap:
    process_key: str
    version: int
    filename: str
    open_instances: int
    cells: list[HeatCell]
    unplaced_timers: int = 0  # instances waiting on a timer that cannot be pinned to one element
    element_names: dict[str, str] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        """Count per element id, summed over kinds (what the diagram overlay shows)."""
        out: dict[str, int] = defaultdict(int)
        for cell in self.cells:
            out[cell.element_id] += cell.count
        return dict(out)


def busiest_version(session: Session, *, actor: Actor, process_key: str) -> int | None:
    """The newest version of the process with open instances the actor sees (None: there is none, so the
    latest version): what the heatmap opens on, rather than a new version nothing runs on yet."""
    stmt = (
        select(func.max(ProcessDefinition.version))
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == process_key, ProcessInstance.status.in_(OPEN_STATUSES))
    )
    newest: int | None = session.scalar(_visible(stmt, actor))
    return newest


def heatmap(session: Session, *, actor: Actor, process_key: str, version: int | None = None) -> Heatmap:
    """Ready tasks, message waits, pinned timers and open incidents per BPMN element of one version.

    Aggregates only: ready tasks and incidents carry their element id; a message subscription is
    placed on the catch events of its message name in the diagram; a pending timer (``next_due_at``)
    of an instance with no ready task is placed on the process's only intermediate timer catch event,
    and otherwise counted as unplaced (which timer waits is known only inside the instance state).
    """
    if version is None:
        version = busiest_version(session, actor=actor, process_key=process_key)
    definition = deployments.get_definition(session, key=process_key, version=version)
    filename, index = diagram_index(session, definition)
    of_version = and_(ProcessInstance.definition_id == definition.id, ProcessInstance.status.in_(OPEN_STATUSES))
    cells: list[HeatCell] = []

    now = utcnow()
    overdue = func.sum(case((and_(HumanTask.due_at.is_not(None), HumanTask.due_at < now), 1), else_=0))
    tasks = (
        select(HumanTask.bpmn_id, func.count(HumanTask.id), overdue)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(of_version, HumanTask.state == TaskState.READY)
        .group_by(HumanTask.bpmn_id)
    )
    cells += [HeatCell(b, "task", c, int(o or 0)) for b, c, o in session.execute(_visible(tasks, actor))]

    subscriptions = (
        select(MessageSubscription.name, func.count(func.distinct(MessageSubscription.instance_id)))
        .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
        .where(of_version)
        .group_by(MessageSubscription.name)
    )
    for name, count in session.execute(_visible(subscriptions, actor)):
        for element_id in index.message_catches.get(name, ()):
            cells.append(HeatCell(element_id, "message", count))

    has_ready = exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == TaskState.READY)
    timers = select(func.count(ProcessInstance.id)).where(
        of_version, ProcessInstance.next_due_at.is_not(None), ~has_ready)
    timer_count = session.scalar(_visible(timers, actor)) or 0
    unplaced = 0
    if timer_count:
        if len(index.timer_catches) == 1:
            cells.append(HeatCell(index.timer_catches[0], "timer", timer_count))
        else:
            unplaced = timer_count

    incidents = (
        select(Incident.bpmn_id, func.count(Incident.id))
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(of_version, Incident.resolved_at.is_(None), Incident.bpmn_id.is_not(None))
        .group_by(Incident.bpmn_id)
    )
    cells += [HeatCell(b, "incident", c) for b, c in session.execute(_visible(incidents, actor))]

    open_count = session.scalar(_visible(select(func.count(ProcessInstance.id)).where(of_version), actor)) or 0
    cells.sort(key=lambda c: (-c.count, c.element_id, c.kind))
    names = {c.element_id: index.names.get(c.element_id, c.element_id) for c in cells}
    return Heatmap(definition.key, definition.version, filename, open_count, cells, unplaced, names)


def parties_of(session: Session, *, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
    """Role, organisation or user, by name, for the instance page."""
    instance = instances.get(session, actor=actor, instance_id=instance_id)
    org_ids = [p.organisation_id for p in instance.parties if p.organisation_id is not None]
    user_ids = [p.user_id for p in instance.parties if p.user_id is not None]
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids or [-1])))}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids or [-1])))}
    lanes = instance.definition.roles or {}
    out = []
    for party in instance.parties:
        org = orgs.get(party.organisation_id) if party.organisation_id is not None else None
        user = users.get(party.user_id) if party.user_id is not None else None
        out.append({
            "role": party.role,
            "lane": lanes.get(party.role, party.role),
            "organisation": {"id": org.id, "name": org.name, "country": org.country} if org else None,
            "user": {"id": user.id, "name": user.name} if user else None,
        })
    return out


@dataclass
class InstanceOverview:
    """Everything the instance page shows, from indexed queries plus this one instance's state."""

    instance: ProcessInstance
    version: int
    process_name: str
    parties: list[dict[str, Any]]
    ready_tasks: list[dict[str, Any]]
    incidents: list[Incident]
    audit: list[dict[str, Any]]
    highlights: InstanceHighlights


def instance_overview(session: Session, *, actor: Actor, instance_id: str) -> InstanceOverview:
    """One instance for its parties and monitors: parties, ready tasks and audit trail with names."""
    described = instances.describe(session, actor=actor, instance_id=instance_id)
    instance: ProcessInstance = described["instance"]
    org_ids = {t["organisation_id"] for t in described["ready_tasks"] if t["organisation_id"]}
    user_ids = {t["user_id"] for t in described["ready_tasks"] if t["user_id"]}
    user_ids |= {e.actor_id for e in described["audit"] if e.actor_id}
    now = utcnow()
    orgs = {i: n for i, n in session.execute(select(Organisation.id, Organisation.name)
                                             .where(Organisation.id.in_(org_ids or {-1})))}
    users = {i: n for i, n in session.execute(select(User.id, User.name).where(User.id.in_(user_ids or {-1})))}
    ready = [
        {**task, "assignee": orgs.get(task["organisation_id"]) or users.get(task["user_id"]),
         "overdue": task["due_at"] is not None and task["due_at"] < now}
        for task in described["ready_tasks"]
    ]
    trail = [
        {"at": e.at, "action": e.action, "actor": users.get(e.actor_id) if e.actor_id else None,
         "task_id": e.task_id, "detail": e.detail or {}}
        for e in described["audit"]
    ]
    return InstanceOverview(
        instance=instance,
        version=described["version"],
        process_name=instance.definition.name,
        parties=parties_of(session, actor=actor, instance_id=instance_id),
        ready_tasks=ready,
        incidents=described["incidents"],
        audit=trail,
        highlights=element_states(session, actor=actor, instance_id=instance_id),
    )


def instances_of_version(session: Session, *, actor: Actor, process_key: str, version: int | None = None,
                         limit: int = 100) -> list[ProcessInstance]:
    """Newest instances on one version: the owner's 'which instances run here' and the heatmap's list."""
    definition = deployments.get_definition(session, key=process_key, version=version)
    stmt = (
        select(ProcessInstance)
        .where(ProcessInstance.definition_id == definition.id)
        .order_by(ProcessInstance.created_at.desc(), ProcessInstance.id)
        .limit(max(1, min(limit, 500)))
    )
    return list(session.scalars(_visible(stmt, actor)))


__all__ = [
    "DayCount", "ElementState", "HeatCell", "Heatmap", "InstanceHighlights", "InstanceOverview", "OpenIncident",
    "OverdueTask", "PhaseCount", "ProcessVersions", "StatusCount", "VersionInfo", "counts_over_time",
    "definitions_overview", "diagram_file", "diagram_index", "element_states", "heatmap", "instance_diagram",
    "instance_overview", "instances_by_phase", "instances_by_status", "instances_of_version", "open_incidents",
    "overdue_tasks", "parties_of", "version_diagram",
]
