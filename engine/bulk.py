"""Starting many instances at once (a migration, an import, a load test): rows in batches, not requests.

`instances.start` costs a unit of work per instance (ORM objects, flushes, the job and audit rows one
by one). `start_many` runs the same engine start for each instance in memory and writes what
`execution.save` would have written (instance, parties, ready tasks, audit trail, notification jobs)
with one multi-row INSERT per table and batch. Instances started with the same variables are the
same up to their task ids, so SpiffWorkflow runs the first of each kind and the others are its state
with every task id replaced by a new one. It is for processes whose start ends at user tasks:
an instance that would wait on a timer, a service task or a message, or that raises an incident, is
refused (422) so it goes the one-by-one way, where those are scheduled.

An import of work under way (or a load test that wants realistic task tables) asks for the first
`complete` user tasks to be completed too: each the first ready one, with no form data, by the
importing administrator on the parties' behalf, at times spread between `started_at` and now. The
rows are those `tasks.complete` leaves (completed task rows, `task.completed` and status audit rows).
A task with a form or a record action is refused (422): its data must pass the form and its action
write the domain's records, which only `tasks.complete` does.
"""
from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import deployments, execution, notifications, services, subscriptions, timers
from .errors import Invalid
from .models import (
    AuditEvent,
    HumanTask,
    InstanceParty,
    InstanceStatus,
    Job,
    JobStatus,
    Organisation,
    ProcessDefinition,
    ProcessInstance,
    TaskState,
    new_id,
    utcnow,
)
from .parties import Actor, require_admin
from .runtime import bpmn_id_of, dump_state, ready_user_tasks, run_engine

BATCH = 1000
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class NewInstance:
    """One instance to start: organisation id per role, and optionally a business key and variables."""

    parties: Mapping[str, int]
    business_key: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    complete: int = 0  # user tasks completed after the start (see the module's docstring)
    started_at: datetime | None = None  # when it started (an import's past); None: now


@dataclass
class _Rows:
    instances: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def write(self, session: Session) -> None:
        for model, rows in ((ProcessInstance, self.instances), (InstanceParty, self.parties),
                            (HumanTask, self.tasks), (AuditEvent, self.audit), (Job, self.jobs)):
            if rows:
                session.execute(insert(model), rows)
                rows.clear()


def start_many(session: Session, *, actor: Actor, process_key: str, starts: Sequence[NewInstance],
               batch: int = BATCH) -> list[str]:
    """Start every instance of `starts` on the latest version of `process_key` (administrators only).

    All or nothing, like any unit of work: one refused instance refuses the lot. Returns the ids.
    """
    require_admin(actor)
    definition = deployments.get_definition(session, key=process_key)
    _check_parties(session, definition, starts)
    loader = _Loader(definition, actor)
    ids: list[str] = []
    for number, start in enumerate(starts):
        ids.append(loader.start_one(start, number))
        if len(loader.rows.instances) >= batch:
            loader.rows.write(session)
    loader.rows.write(session)
    return ids


def _check_parties(session: Session, definition: ProcessDefinition, starts: Sequence[NewInstance]) -> None:
    roles = set(definition.roles or {})
    wrong = [n for n, s in enumerate(starts) if set(s.parties) != roles]
    if wrong:
        raise Invalid(f"Every instance binds exactly the roles {sorted(roles)}",
                      errors={"starts": [f"instance {n} does not" for n in wrong[:20]]})
    negative = [n for n, s in enumerate(starts) if s.complete < 0]
    if negative:
        raise Invalid("A number of tasks to complete is never negative",
                      errors={"starts": [f"instance {n}" for n in negative[:20]]})
    wanted = {org for s in starts for org in s.parties.values()}
    known = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(sorted(wanted)))))
    if wanted - known:
        missing = [f"No organisation {o}" for o in sorted(wanted - known)]
        raise Invalid("Unknown organisations", errors={"starts": missing})


@dataclass(frozen=True)
class _Step:
    """One engine run of a template: the user task it completed (None: the start), the status it
    left the instance in, and the user tasks that became ready."""

    completed: Any | None
    status: str
    created: list[Any]


@dataclass(frozen=True)
class _Template:
    """An instance as the engine left it after its start (and completions), to copy under new task ids."""

    state: str
    steps: list[_Step]
    task_ids: frozenset[str]


class _Trail:
    """The audit rows of one instance, as `audit.record` would add them."""

    def __init__(self, actor: Actor, instance_id: str) -> None:
        self.actor, self.instance_id = actor, instance_id
        self.rows: list[dict[str, Any]] = []

    def add(self, at: datetime, action: str, task_id: str | None, **detail: Any) -> None:
        self.rows.append({"at": at, "actor_id": self.actor.user_id, "action": action,
                          "instance_id": self.instance_id, "task_id": task_id, "detail": detail})


def _refuse(number: int, why: str) -> Invalid:
    return Invalid(f"Instance {number} {why}: start it with the one-by-one path",
                   errors={"starts": [f"instance {number}"]})


def _check_stops_at_user_tasks(workflow: Any, outcome: Any, number: int) -> None:
    waits_elsewhere = (timers.next_due(workflow) is not None or subscriptions.waiting_catches(workflow)
                       or any(services.is_service_task(t) for t in workflow.get_tasks(manual=True)))
    if outcome.incidents or outcome.thrown_messages or outcome.unrouted_events or waits_elsewhere:
        raise _refuse(number, "does not stop at user tasks only")


def _run(task: Any) -> None:
    task.run()


def _times(start: NewInstance, steps: int, now: datetime) -> list[datetime]:
    """When the start and each completion happened: spread evenly between `started_at` and now."""
    began = start.started_at or now
    return [began + (now - began) * i / steps for i in range(steps)]


class _Loader:
    """The rows of the instances started so far in this batch, made as `instances.start` would."""

    def __init__(self, definition: ProcessDefinition, actor: Actor) -> None:
        self.definition = definition
        self.actor = actor
        self.lane_to_role = {lane: role for role, lane in (definition.roles or {}).items()}
        self.rows = _Rows()
        self.templates: dict[str, _Template] = {}

    def _template(self, start: NewInstance, number: int) -> _Template:
        """The engine's start with these variables (and completions): run once, then copied."""
        key = json.dumps([dict(start.variables), start.complete], sort_keys=True, default=str)
        found = self.templates.get(key)
        if found is not None:
            return found
        workflow = execution.new_workflow(self.definition, start.variables)
        outcome = run_engine(workflow, raise_expression_errors=True)
        _check_stops_at_user_tasks(workflow, outcome, number)
        ready: set[str] = set()

        def step(completed: Any | None, status: str) -> _Step:
            now_ready = ready_user_tasks(workflow)
            ids = {str(t.id) for t in now_ready}
            if ready - ids - ({str(completed.id)} if completed is not None else set()):
                raise _refuse(number, "cancels user tasks while completing")
            created = [t for t in now_ready if str(t.id) not in ready]
            ready.clear()
            ready.update(ids)
            return _Step(completed, status, created)

        steps = [step(None, execution.compute_status(workflow, outcome, False))]
        for _ in range(start.complete):
            waiting = ready_user_tasks(workflow)
            if not waiting:
                raise _refuse(number, f"has fewer than {start.complete} user tasks to complete")
            task = waiting[0]
            properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}
            if properties.get("formJsonSchemaFilename") or properties.get("recordAction"):
                # Its data would have to pass the form, its record action write the domain's records.
                raise _refuse(number, f"would complete {bpmn_id_of(task)} without its form or record action")
            outcome = run_engine(workflow, before=functools.partial(_run, task))
            _check_stops_at_user_tasks(workflow, outcome, number)
            steps.append(step(task, execution.compute_status(workflow, outcome, False, steps[-1].status)))
        found = _Template(state=dump_state(workflow), steps=steps,
                          task_ids=frozenset(str(t.id) for t in workflow.get_tasks()))
        if not workflow.subprocesses:  # a call activity's ids are not all task ids: run those one by one
            self.templates[key] = found
        return found

    def start_one(self, start: NewInstance, number: int) -> str:
        definition, actor, rows = self.definition, self.actor, self.rows
        template = self._template(start, number)
        fresh: dict[str, str] = {}
        # 96 random bits per instance and a counter per task: ids as unique as uuid4's, at a fraction of
        # the cost of a hundred uuid4() calls per instance.
        base = os.urandom(12).hex()
        prefix = f"{base[:8]}-{base[8:12]}-{base[12:16]}-{base[16:20]}-{base[20:24]}"

        def renamed(match: re.Match[str]) -> str:
            old = match.group(0)
            if old not in template.task_ids:
                return old
            found = fresh.get(old)
            if found is None:
                found = fresh[old] = f"{prefix}{len(fresh):08x}"
            return found

        state = _UUID.sub(renamed, template.state)
        instance_id = new_id()
        times = _times(start, len(template.steps), utcnow())
        status = template.steps[-1].status
        completed_at = next((at for at, s in zip(times, template.steps, strict=True)
                             if s.status == InstanceStatus.COMPLETED), None)
        rows.instances.append({
            "id": instance_id, "definition_id": definition.id, "process_key": definition.key,
            "business_key": start.business_key, "status": status, "state": state, "lock_version": 1,
            "started_by": actor.user_id, "created_at": times[0], "updated_at": times[-1],
            "completed_at": completed_at, "next_due_at": None,
        })
        rows.parties += [{"instance_id": instance_id, "role": role, "organisation_id": org, "user_id": None,
                          "process_key": definition.key, "status": status, "created_at": times[0]}
                         for role, org in sorted(start.parties.items())]
        audit = _Trail(actor, instance_id)
        audit.add(times[0], "instance.started", None, process_key=definition.key, version=definition.version,
                  business_key=start.business_key,
                  parties={r: {"organisation_id": o, "user_id": None} for r, o in start.parties.items()})
        made: dict[str, dict[str, Any]] = {}
        previous = InstanceStatus.RUNNING
        for at, step in zip(times, template.steps, strict=True):
            if step.completed is not None:
                row = made[str(step.completed.id)]
                row.update(state=TaskState.COMPLETED, completed_at=at, completed_by=actor.user_id,
                           completed_on_behalf=True)
                audit.add(at, "task.completed", row["id"], bpmn_id=row["bpmn_id"], role=row["role"], on_behalf=True,
                          data={})
            if step.status != previous:
                audit.add(at, "instance.status_changed", None, old=previous, new=step.status)
                previous = step.status
            for task in step.created:
                made[str(task.id)] = self.task_row(task, fresh.get(str(task.id), str(task.id)), instance_id,
                                                   start.parties, audit=audit, now=at)
        rows.tasks += made.values()
        for row in made.values():
            if row["state"] == TaskState.READY:
                self.jobs(row)
        rows.audit += audit.rows
        return instance_id

    def task_row(self, task: Any, task_id: str, instance_id: str, bound: Mapping[str, int], *, audit: _Trail,
                 now: datetime) -> dict[str, Any]:
        """The row `execution.sync_tasks` projects for a new ready task (`task` of the template, under the
        copy's id), with its audit row."""
        spec = task.task_spec
        bpmn_id = bpmn_id_of(task) or ""
        lane = getattr(spec, "lane", None)
        role = self.lane_to_role.get(lane) if lane else None
        extensions = getattr(spec, "extensions", {}) or {}
        properties = extensions.get("properties", {}) or {}
        audit.add(now, "task.created", task_id, bpmn_id=bpmn_id, role=role)
        return {
            "id": task_id, "instance_id": instance_id, "process_key": self.definition.key, "bpmn_id": bpmn_id,
            "name": getattr(spec, "bpmn_name", None) or bpmn_id, "lane": lane, "role": role,
            "organisation_id": bound.get(role) if role else None, "user_id": None,
            "form": properties.get("formJsonSchemaFilename"), "instructions": extensions.get("instructionsForEndUser"),
            "state": TaskState.READY, "created_at": now, "due_at": timers.task_due_at(task, now),
            "completed_at": None, "completed_by": None, "completed_on_behalf": False,
        }

    def jobs(self, task: dict[str, Any]) -> None:
        """The notification jobs a ready task schedules (its 'assigned' notice, reminders when it has a due date)."""
        if task["organisation_id"] is None:
            return
        now, due_at = task["created_at"], task["due_at"]
        job = {"kind": notifications.JOB_KIND, "instance_id": task["instance_id"], "task_id": task["id"],
               "status": JobStatus.PENDING, "attempts": 0, "max_attempts": 1, "created_at": now, "row_version": 1}
        self.rows.jobs.append({**job, "due_at": now, "payload": {"event": notifications.ASSIGNED}})
        if due_at is not None:
            lead = notifications.reminder_lead()
            if lead > timedelta(0) and due_at - lead > now:
                self.rows.jobs.append({**job, "due_at": due_at - lead,
                                       "payload": {"event": notifications.DUE_SOON, "due_at": due_at.isoformat()}})
            self.rows.jobs.append({**job, "due_at": due_at,
                                   "payload": {"event": notifications.OVERDUE, "due_at": due_at.isoformat()}})
