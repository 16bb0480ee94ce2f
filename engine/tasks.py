"""Human tasks: the caller's task list as SQL, task detail with its form, completion with validation."""
from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from . import actions, audit, deployments, execution, forms
from .errors import Conflict, Forbidden, Invalid, NotFound
from .models import HumanTask, InstanceStatus, ProcessInstance, TaskOwner, TaskState, utcnow
from .pagination import Page, paginate_parts
from .parties import Actor


def is_assignee(actor: Actor, task: HumanTask) -> bool:
    """Members of the bound organisation, or the bound user: the only people who may act on a task.
    When a script named the lane's owners (``lane_owners``), those people alone."""
    if task.owners:
        return any(owner.user_id == actor.user_id for owner in task.owners)
    return (task.user_id is not None and task.user_id == actor.user_id) or (
        task.organisation_id is not None and task.organisation_id in actor.organisation_ids
    )


def assigned_to(actor: Actor) -> Any:
    """:func:`is_assignee` as SQL over ``HumanTask``."""
    party = [HumanTask.user_id == actor.user_id]
    if actor.organisation_ids:
        party.append(HumanTask.organisation_id.in_(actor.organisation_ids))
    owned = select(TaskOwner.task_id).where(TaskOwner.user_id == actor.user_id)
    return or_(HumanTask.id.in_(owned), and_(~HumanTask.owners.any(), or_(*party)))


def can_see(actor: Actor, task: HumanTask) -> bool:
    return actor.is_admin or is_assignee(actor, task)


def get(session: Session, *, actor: Actor, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None or not can_see(actor, task):
        raise NotFound(f"No task {task_id}")
    return task


#: Who works on a task, as the inbox filters it: claimed by or bound to me, my organisation's, nobody's yet.
ASSIGNMENTS = ("me", "organisation", "unassigned")


def assignment_filter(actor: Actor, assignment: str | None) -> Any:
    """The SQL condition of one of :data:`ASSIGNMENTS` (None: no condition)."""
    if assignment is None:
        return None
    if assignment not in ASSIGNMENTS:
        raise Invalid("Unknown assignment", errors={"assignment": [f"One of {', '.join(ASSIGNMENTS)}"]})
    if assignment == "me":
        return or_(HumanTask.claimed_by == actor.user_id, HumanTask.user_id == actor.user_id)
    mine = HumanTask.organisation_id.in_(actor.organisation_ids or {-1})
    return mine if assignment == "organisation" else mine & HumanTask.claimed_by.is_(None)


def list_for(
    session: Session,
    *,
    actor: Actor,
    state: str | None = TaskState.READY,
    process_key: str | None = None,
    instance_id: str | None = None,
    overdue: bool | None = None,
    assignment: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[HumanTask]:
    """Only the caller's tasks, even for admins: an admin's inbox is what is assigned to them."""
    # Tasks whose lane a script narrowed to named people (lane_owners) are in those people's lists only.
    owned = select(TaskOwner.task_id).where(TaskOwner.user_id == actor.user_id)
    stmt = select(HumanTask).where(or_(~HumanTask.owners.any(), HumanTask.id.in_(owned)))
    assigned = assignment_filter(actor, assignment)
    if assigned is not None:
        stmt = stmt.where(assigned)
    if state:
        if state not in TaskState.ALL:
            raise Invalid("Unknown task state", errors={"state": [f"One of {', '.join(TaskState.ALL)}"]})
        stmt = stmt.where(HumanTask.state == state)
    if process_key:
        stmt = stmt.where(HumanTask.process_key == process_key)
    if instance_id:
        stmt = stmt.where(HumanTask.instance_id == instance_id)
    if overdue is not None:
        late = HumanTask.due_at < utcnow()
        stmt = stmt.where(late if overdue else or_(HumanTask.due_at.is_(None), ~late))
    return paginate_parts(session, stmt, parties_of(actor), [HumanTask.created_at, HumanTask.id],
                          cursor=cursor, limit=limit)


def parties_of(actor: Actor) -> list[Any]:
    """:func:`is_assignee` as SQL, one condition per party the caller acts for and no task in two of
    them: each organisation, then tasks bound to the caller that none of those organisations holds."""
    organisations = sorted(actor.organisation_ids)
    parts: list[Any] = [HumanTask.organisation_id == organisation for organisation in organisations]
    mine = HumanTask.user_id == actor.user_id
    if organisations:
        mine = and_(mine, or_(HumanTask.organisation_id.is_(None), HumanTask.organisation_id.not_in(organisations)))
    return [*parts, mine]


_FORM_CACHE: dict[tuple[str, str], str] = {}
_FORM_CACHE_SIZE = 1024


def form_schema(session: Session, task: HumanTask) -> str | None:
    """The task's JSON Schema as deployed with its version; immutable, so cached by content hash."""
    if not task.form:
        return None
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    key = (instance.definition.content_hash, task.form)
    cached = _FORM_CACHE.get(key)
    if cached is None:
        cached = deployments.definition_file(session, instance.definition, task.form).decode("utf-8")
        if len(_FORM_CACHE) > _FORM_CACHE_SIZE:
            _FORM_CACHE.clear()
        _FORM_CACHE[key] = cached
    return cached


def shown_schema(session: Session, task: HumanTask) -> str | None:
    """The form as this task shows and enforces it: spiff-arena's dynamic enums
    (``options_from_task_data_var:``) filled from the task's data; otherwise the deployed schema."""
    schema_text = form_schema(session, task)
    if schema_text is None or forms.OPTIONS_MARKER not in schema_text or task.state != TaskState.READY:
        return schema_text
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    spiff_task = execution.find_task(execution.open_workflow(instance), task.id)
    return forms.with_task_data(schema_text, spiff_task.data if spiff_task is not None else {})


def ui_schema(session: Session, task: HumanTask) -> dict[str, Any] | None:
    """The task's UI schema (spiff ``formUiSchemaFilename``) as deployed with its version, if it has one."""
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    name = next((t.get("ui_form") for t in instance.definition.user_tasks or [] if t.get("bpmn_id") == task.bpmn_id),
                None)
    if not name:
        return None
    return forms.parse_schema(deployments.definition_file(session, instance.definition, name).decode("utf-8"))


def _properties(spiff_task: Any) -> dict[str, Any]:
    """The spiff extension properties of a task (``recordAction``, ``formJsonSchemaFilename``...)."""
    return (getattr(spiff_task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}


def detail(session: Session, *, actor: Actor, task_id: str) -> dict[str, Any]:
    """Task row, its JSON Schema and current values of the form's own fields (never other data)."""
    task = get(session, actor=actor, task_id=task_id)
    schema_text = shown_schema(session, task)
    values: dict[str, Any] = {}
    if task.state == TaskState.READY and schema_text is not None:
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        workflow = execution.open_workflow(instance)
        spiff_task = execution.find_task(workflow, task.id)
        if spiff_task is not None:
            values = forms.prefill(schema_text, spiff_task.data)
            action = _properties(spiff_task).get("recordAction")
            if action:
                context = actions.ActionContext(session, actor, instance, task, spiff_task.data)
                values.update(forms.fit(schema_text, actions.prefilled(action, context)))
    return {
        "task": task,
        "form": {"schema": forms.parse_schema(schema_text) if schema_text else None, "values": values,
                 "ui_schema": ui_schema(session, task)},
    }


# The instance of a task as the statement's snapshot saw it, beside the row the lock returned: on
# PostgreSQL a lock that waited for another transaction returns the newest instance row but the joined
# task rows of the older snapshot, so a version that differs means "reload what was joined".
_SNAPSHOT = aliased(ProcessInstance)


_COMPLETION_STATEMENTS: dict[str, Any] = {}


def _completion_statement(session: Session) -> Any:
    """The task's instance (definition and parties joined) with every ready task of it, in one statement.

    Built once per dialect with the task id as a bound parameter: composing it (an alias, two eager
    loads, the lock) cost more CPU than running it."""
    dialect = session.get_bind().dialect.name
    cached = _COMPLETION_STATEMENTS.get(dialect)
    if cached is None:
        owner = select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id")).scalar_subquery()
        seen = select(_SNAPSHOT.lock_version).where(_SNAPSHOT.id == ProcessInstance.id).scalar_subquery()
        stmt = (
            select(ProcessInstance, HumanTask, seen)
            .outerjoin(HumanTask,
                       (HumanTask.instance_id == ProcessInstance.id) & (HumanTask.state == TaskState.READY))
            .where(ProcessInstance.id == owner)
            .options(joinedload(ProcessInstance.parties), joinedload(HumanTask.owners))
            .execution_options(populate_existing=True)
        )
        cached = _COMPLETION_STATEMENTS[dialect] = lock_instance(session, stmt)
    return cached


def lock_instance(session: Session, stmt: Any) -> Any:
    """The instance row lock of a completion (PostgreSQL ``FOR UPDATE``); SQLite's BEGIN IMMEDIATE has
    made the unit of work exclusive already."""
    if session.get_bind().dialect.name == "sqlite":
        return stmt
    return stmt.with_for_update(of=ProcessInstance)


def lock_for_completion(session: Session, task_id: str) -> tuple[HumanTask, ProcessInstance]:
    """Lock the task's instance row and read what a completion needs in one round trip: the instance,
    its definition and parties, and its ready tasks (kept for `execution.sync_tasks`). A racing request
    that got here first has committed by then, so the loser answers 409, not 500 and not a second
    completion.

    One of three protections against double completion, each tested on its own
    (tests/api/test_concurrency.py): this row lock (PostgreSQL), SQLite's up-front write lock
    (BEGIN IMMEDIATE, engine/db.py) and the instance's optimistic ``lock_version``.
    """
    rows = session.execute(_completion_statement(session), {"task_id": task_id}).unique().all()
    if not rows:
        raise NotFound(f"No task {task_id}")
    instance = rows[0][0]
    ready = [task for _instance, task, _seen in rows if task is not None]
    if rows[0][2] != instance.lock_version:  # the lock waited for a change: the joined tasks are older
        ready = list(session.scalars(execution.READY_ROWS.execution_options(populate_existing=True),
                                     {"instance_id": instance.id}))
    execution.preload_ready(session, instance.id, ready)
    task = next((t for t in ready if t.id == task_id), None)
    if task is None:  # not ready any more (or never): read it as it is now
        task = session.get(HumanTask, task_id, populate_existing=True)
    if task is None:
        raise NotFound(f"No task {task_id}")
    return task, instance


def complete(
    session: Session,
    *,
    actor: Actor,
    task_id: str,
    data: dict[str, Any],
    on_behalf: bool = False,
) -> HumanTask:
    """Validate against the form, run the task and the engine, project the result; all or nothing."""
    task, instance = lock_for_completion(session, task_id)
    if not can_see(actor, task):
        raise NotFound(f"No task {task_id}")
    if not is_assignee(actor, task):
        if not (actor.is_admin and on_behalf):
            raise Forbidden("This task belongs to another party; an administrator must set on_behalf to act")
    elif on_behalf:
        on_behalf = False  # the assignee acts for themself
    if task.claimed_by is not None and task.claimed_by != actor.user_id and not on_behalf:
        # A colleague claimed it: only they complete it, or anyone once it is unclaimed (engine/claims.py).
        raise Conflict("A colleague has claimed this task; only they can complete it until it is unclaimed")
    if task.state != TaskState.READY:
        raise Conflict(f"Task {task_id} is already {task.state}")
    if instance.status not in (InstanceStatus.WAITING, InstanceStatus.RUNNING):
        raise Conflict(f"The instance is {instance.status}; its tasks cannot be completed")
    forms.validate(shown_schema(session, task), data)

    workflow = execution.open_for_change(instance)
    spiff_task = execution.find_task(workflow, task.id)
    if spiff_task is None or spiff_task.state != SpiffState.READY:
        raise Conflict(f"Task {task_id} is no longer ready")

    submitted = copy.deepcopy(data)
    properties = _properties(spiff_task)
    if properties.get("recordAction"):
        context = actions.ActionContext(session, actor, instance, task, spiff_task.data)
        submitted.update(actions.run(properties["recordAction"], context, copy.deepcopy(data)))

    def _run_task() -> None:
        # Hazard 6: keep the submission independent of any nested data shared with earlier tasks.
        spiff_task.data.update(submitted)
        spiff_task.run()

    now = utcnow()
    task.state = TaskState.COMPLETED
    task.completed_at = now
    task.completed_by = actor.user_id
    task.completed_on_behalf = on_behalf
    audit.record(session, actor_id=actor.user_id, action="task.completed", instance_id=instance.id,
                 task_id=task.id, bpmn_id=task.bpmn_id, role=task.role, on_behalf=on_behalf, data=data)
    execution.advance(session, instance, workflow, actor_id=actor.user_id, before=_run_task)
    execution.keep_after_commit(session, instance, workflow)
    return task
