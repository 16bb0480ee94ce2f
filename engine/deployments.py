"""Deploying bundles: validate everything first, then store each changed process as version n+1."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, jobqueue
from .bundle import BundleInvalid, ParsedProcess, StartRule, TimerStart, parse_bundle, start_rule_of, timer_starts_of
from .errors import Conflict, Invalid, NotFound
from .models import (
    DecisionDefinition,
    DefinitionFile,
    Deployment,
    FileBlob,
    Job,
    JobStatus,
    Organisation,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from .pagination import Page, paginate
from .parties import Actor, require_admin


@dataclass
class Deployed:
    definition: ProcessDefinition
    created: bool


@dataclass
class DeployedDecision:
    decision: DecisionDefinition
    created: bool


FileCheck = Callable[[bytes], None]
# Domain checks of files the engine accepts but the services must also be able to act on (e.g. the
# national-models decision table), by file name. Registered by the domain (records), run on every
# deployment path (API, CLI, modeler) after the engine's own validation; raising Invalid stores nothing.
FILE_CHECKS: dict[str, FileCheck] = {}


def file_check(filename: str) -> Callable[[FileCheck], FileCheck]:
    def register(fn: FileCheck) -> FileCheck:
        FILE_CHECKS[filename] = fn
        return fn

    return register


def _library(session: Session) -> dict[str, bytes]:
    """Files of the latest version of every deployed key: called processes and decisions resolve here."""
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    stmt = (
        select(DefinitionFile.filename, FileBlob.content)
        .join(ProcessDefinition, ProcessDefinition.id == DefinitionFile.definition_id)
        .join(latest, (latest.c.key == ProcessDefinition.key) & (latest.c.v == ProcessDefinition.version))
        .join(FileBlob, FileBlob.sha256 == DefinitionFile.sha256)
    )
    found = {name: content for name, content in session.execute(stmt)}
    # Decisions deployed on their own (DMN-only bundles) resolve business rule tasks too.
    newest = (select(DecisionDefinition.key, func.max(DecisionDefinition.version).label("v"))
              .group_by(DecisionDefinition.key).subquery())
    for name, content in session.execute(
            select(DecisionDefinition.filename, FileBlob.content)
            .join(newest, (newest.c.key == DecisionDefinition.key) & (newest.c.v == DecisionDefinition.version))
            .join(FileBlob, FileBlob.sha256 == DecisionDefinition.content_sha256)):
        found.setdefault(name, content)
    return found


def deploy(
    session: Session,
    *,
    actor: Actor | None,
    files: Mapping[str, bytes],
    forms_dir: Path | None,
    source: str = "api",
    max_bundle_bytes: int = 20_000_000,
    decisions: list[DeployedDecision] | None = None,
) -> list[Deployed]:
    """Deploy a bundle; `actor=None` only from the trusted CLI. Nothing is stored unless all is valid.

    Every DMN file of the bundle is also a version of its decision (``decisions`` receives them), so a
    bundle of DMN files alone deploys too.
    """
    if actor is not None:
        require_admin(actor)
    if sum(len(v) for v in files.values()) > max_bundle_bytes:
        raise Invalid("The bundle is too large", errors=[{"file": None, "element_id": None,
                                                         "message": f"bundle exceeds {max_bundle_bytes} bytes"}])
    try:
        parsed = parse_bundle(files, forms_dir=forms_dir, library=_library(session))
    except BundleInvalid as exc:
        raise Invalid(
            f"The bundle was refused with {len(exc.errors)} error(s); nothing was deployed",
            errors=[asdict(e) for e in exc.errors],
        ) from exc
    for name, content in files.items():
        if name in FILE_CHECKS:
            FILE_CHECKS[name](content)
    _check_timer_start_parties(session, parsed.processes)

    results: list[Deployed] = []
    deployment: Deployment | None = None
    for process in parsed.processes:
        existing = session.scalar(
            select(ProcessDefinition).where(
                ProcessDefinition.key == process.key, ProcessDefinition.content_hash == process.content_hash
            )
        )
        if existing is not None:
            results.append(Deployed(existing, created=False))
            continue
        if deployment is None:
            deployment = Deployment(deployed_by=actor.user_id if actor else None, source=source)
            session.add(deployment)
            session.flush()
        results.append(Deployed(_store(session, deployment, process), created=True))
        schedule_timer_starts(session, results[-1].definition, process.timer_starts)
    (decisions if decisions is not None else []).extend(
        _store_decisions(session, parsed.decisions, parsed.files, actor=actor, source=source, deployment=deployment))
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("Another deployment of the same process is in progress; try again") from exc
    for item in results:
        if item.created:
            audit.record(session, actor_id=actor.user_id if actor else None, action="definition.deployed",
                         key=item.definition.key, version=item.definition.version,
                         content_hash=item.definition.content_hash, source=source)
    return results


def _blob(session: Session, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    if session.get(FileBlob, digest) is None:
        session.add(FileBlob(sha256=digest, content=content, size=len(content)))
        session.flush()
    return digest


def _store_decisions(session: Session, found: Mapping[str, str], files: Mapping[str, bytes], *,
                     actor: Actor | None, source: str, deployment: Deployment | None) -> list[DeployedDecision]:
    """Each decision of the bundle: the existing version for the same content, else version n+1."""
    stored: list[DeployedDecision] = []
    for key, filename in sorted(found.items()):
        content = files[filename]
        existing = session.scalar(select(DecisionDefinition).where(
            DecisionDefinition.key == key, DecisionDefinition.content_sha256 == hashlib.sha256(content).hexdigest()))
        if existing is not None:
            stored.append(DeployedDecision(existing, created=False))
            continue
        if deployment is None:
            deployment = Deployment(deployed_by=actor.user_id if actor else None, source=source)
            session.add(deployment)
            session.flush()
        current = session.scalar(select(func.max(DecisionDefinition.version)).where(DecisionDefinition.key == key))
        decision = DecisionDefinition(key=key, version=(current or 0) + 1, filename=filename,
                                      content_sha256=_blob(session, content), deployment_id=deployment.id)
        session.add(decision)
        session.flush()
        audit.record(session, actor_id=actor.user_id if actor else None, action="decision.deployed", key=key,
                     version=decision.version, filename=filename)
        stored.append(DeployedDecision(decision, created=True))
    return stored


def get_decision(session: Session, *, key: str, version: int | None = None) -> tuple[DecisionDefinition, bytes]:
    """A deployed decision (the latest version unless one is named) and its DMN file."""
    stmt = select(DecisionDefinition).where(DecisionDefinition.key == key)
    if version is not None:
        stmt = stmt.where(DecisionDefinition.version == version)
    decision = session.scalar(stmt.order_by(DecisionDefinition.version.desc()).limit(1))
    if decision is None:
        raise NotFound(f"No decision '{key}'" + (f" version {version}" if version else ""))
    blob = session.get(FileBlob, decision.content_sha256)
    assert blob is not None
    return decision, blob.content


def _store(session: Session, deployment: Deployment, process: ParsedProcess) -> ProcessDefinition:
    current = session.scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == process.key)
    )
    definition = ProcessDefinition(
        key=process.key,
        version=(current or 0) + 1,
        name=process.name,
        content_hash=process.content_hash,
        deployment_id=deployment.id,
        spec_json=json.dumps(process.spec_dict),
        roles=dict(process.roles),
        per_task_roles=list(process.per_task_roles),
        user_tasks=[asdict(t) for t in process.user_tasks],
        message_starts=message_starts(process.spec),
        warnings=[asdict(w) for w in process.warnings],
    )
    session.add(definition)
    session.flush()
    for filename, content in sorted(process.files.items()):
        session.add(DefinitionFile(definition_id=definition.id, filename=filename, sha256=_blob(session, content)))
    return definition


# --- timer start events: the worker starts instances at their times ------------------------------------

TIMER_START_JOB = "timer_start"


def _check_timer_start_parties(session: Session, processes: list[ParsedProcess]) -> None:
    errors = [
        {"file": None, "element_id": start.element_id,
         "message": f"'{process.key}' binds role '{role}' of the instances its timer starts to organisation "
                    f"{org_id}, which does not exist"}
        for process in processes for start in process.timer_starts for role, org_id in start.parties.items()
        if session.get(Organisation, org_id) is None
    ]
    if errors:
        raise Invalid(f"The bundle was refused with {len(errors)} error(s); nothing was deployed", errors=errors)


def schedule_timer_starts(session: Session, definition: ProcessDefinition, starts: list[TimerStart]) -> None:
    """A new version replaces the earlier versions' schedules: one pending job per timer start event."""
    now = utcnow()
    pending = session.scalars(select(Job).where(Job.kind == TIMER_START_JOB, Job.status == JobStatus.PENDING))
    for job in pending:
        if (job.payload or {}).get("key") == definition.key:
            job.status, job.finished_at, job.row_version = JobStatus.CANCELLED, now, job.row_version + 1
    for start in starts:
        due, cycles, interval = start.first(now)
        jobqueue.add(session, kind=TIMER_START_JOB, due_at=due, payload={
            "key": definition.key, "definition_id": definition.id, "element_id": start.element_id,
            "cycles_left": cycles, "interval_seconds": interval.total_seconds()})


def timer_start(session: Session, definition: ProcessDefinition, element_id: str) -> TimerStart | None:
    """The timer start event ``element_id`` of a deployed version, as its BPMN declares it."""
    files = dict(session.execute(
        select(DefinitionFile.filename, FileBlob.content).join(FileBlob, FileBlob.sha256 == DefinitionFile.sha256)
        .where(DefinitionFile.definition_id == definition.id)).all())
    found = [s for s in timer_starts_of(files, definition.key, definition.roles or {}) if s.element_id == element_id]
    return found[0] if found else None


def message_starts(spec: Any) -> list[str]:
    """Names of the messages on the process's own message start events (POST /api/messages starts it)."""
    names = {
        task_spec.event_definition.name
        for task_spec in spec.task_specs.values()
        if isinstance(task_spec, StartEvent) and isinstance(task_spec.event_definition, MessageEventDefinition)
        and task_spec.event_definition.name
    }
    return sorted(names)


def list_definitions(
    session: Session, *, key: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page[ProcessDefinition]:
    """Every version, newest key-versions last; readable by any signed-in user (no personal data)."""
    stmt = select(ProcessDefinition)
    if key:
        stmt = stmt.where(ProcessDefinition.key == key)
    return paginate(session, stmt, [ProcessDefinition.id], cursor=cursor, limit=limit)


def latest_versions(session: Session) -> list[ProcessDefinition]:
    """The newest version of every process key, by key: what a new instance of each starts on."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(
        select(ProcessDefinition)
        .join(newest, (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.version))
        .order_by(ProcessDefinition.key)))


def get_definition(session: Session, *, key: str, version: int | None = None) -> ProcessDefinition:
    stmt = select(ProcessDefinition).where(ProcessDefinition.key == key)
    if version is not None:
        stmt = stmt.where(ProcessDefinition.version == version)
    definition = session.scalar(stmt.order_by(ProcessDefinition.version.desc()).limit(1))
    if definition is None:
        raise NotFound(f"No process definition '{key}'" + (f" version {version}" if version else ""))
    return definition


# Per (key, content hash): a deployed version never changes, so its start rule is read from its BPMN once.
_START_RULES: dict[tuple[str, str], StartRule] = {}


def start_rule(session: Session, definition: ProcessDefinition) -> StartRule:
    """Who may start this version, as its BPMN declares (``startableBy``/``startCheck``, see
    :class:`engine.bundle.StartRule`); read from the stored files, so versions deployed before the
    declaration existed have the default rule."""
    cache_key = (definition.key, definition.content_hash)
    rule = _START_RULES.get(cache_key)
    if rule is None:
        files = dict(session.execute(
            select(DefinitionFile.filename, FileBlob.content)
            .join(FileBlob, FileBlob.sha256 == DefinitionFile.sha256)
            .where(DefinitionFile.definition_id == definition.id,
                   or_(DefinitionFile.filename.like("%.bpmn"), DefinitionFile.filename.like("%.bpmn20.xml")))).all())
        rule = start_rule_of(files, definition.key)
        _START_RULES[cache_key] = rule
    return rule


def definition_file(session: Session, definition: ProcessDefinition, filename: str) -> bytes:
    row = session.scalar(
        select(DefinitionFile).where(
            DefinitionFile.definition_id == definition.id, DefinitionFile.filename == filename
        )
    )
    if row is None:
        raise NotFound(f"Version {definition.version} of '{definition.key}' has no file '{filename}'")
    return row.blob.content


def instance_counts(session: Session, *, key: str) -> dict[int, int]:
    """How many instances run on each version of a key (process owners ask before changing one)."""
    stmt = (
        select(ProcessDefinition.version, func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == key)
        .group_by(ProcessDefinition.version)
    )
    return {version: count for version, count in session.execute(stmt)}


def as_summary(definition: ProcessDefinition) -> dict[str, Any]:
    return {
        "key": definition.key,
        "version": definition.version,
        "name": definition.name,
        "content_hash": definition.content_hash,
        "roles": definition.roles,
        "warnings": definition.warnings or [],
        "created_at": definition.created_at,
    }
