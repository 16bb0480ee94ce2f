"""A participant's inbox across all processes: their task list as SQL, with what a person needs to read it.

`engine.tasks.list_for` is the API's list; the inbox adds ordering by due date and, for each task of
the page, the process name, the business key (which mobility or partnership) and the party's name,
in a fixed number of indexed queries. It never deserialises an instance.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from . import tasks
from .errors import Invalid
from .models import HumanTask, Organisation, ProcessDefinition, ProcessInstance, TaskOwner, TaskState, User, utcnow
from .pagination import Page, paginate
from .parties import Actor

ORDERS = ("created", "due")


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox."""

    task: HumanTask
    process_name: str
    process_version: int | None
    business_key: str | None
    party: str | None
    #: The colleague who claimed the task (or was assigned it), if anyone.
    claimer: str | None = None
    #: The instance's status: a suspended or terminated instance's task cannot be completed.
    instance_status: str | None = None


def _mine(actor: Actor) -> Any:
    """The visibility rule of `engine.tasks.is_assignee`, as SQL."""
    return tasks.assigned_to(actor)


def _by_due(session: Session, stmt: Any, *, cursor: str | None, limit: int) -> Page[HumanTask]:
    """Soonest due first, tasks without a due date after them (oldest first): two keyset phases."""
    phase, _, inner = (cursor or "d.").partition(".")
    if phase not in ("d", "n"):
        raise Invalid("The cursor is not valid; use the link of a previous page")
    items: list[HumanTask] = []
    if phase == "d":
        page = paginate(session, stmt.where(HumanTask.due_at.is_not(None)), [HumanTask.due_at, HumanTask.id],
                        cursor=inner or None, limit=limit)
        if page.next_cursor:
            return Page(page.items, "d." + page.next_cursor)
        items, inner = list(page.items), ""
    undated = stmt.where(HumanTask.due_at.is_(None))
    remaining = limit - len(items)
    if remaining <= 0:
        more = session.scalar(select(exists(undated.subquery().select())))
        return Page(items, "n." if more else None)
    page = paginate(session, undated, [HumanTask.created_at, HumanTask.id], cursor=inner or None, limit=remaining)
    return Page(items + list(page.items), "n." + page.next_cursor if page.next_cursor else None)


def list_for(
    session: Session,
    *,
    actor: Actor,
    state: str | None = TaskState.READY,
    process_key: str | None = None,
    overdue: bool | None = None,
    assignment: str | None = None,
    order: str = "created",
    cursor: str | None = None,
    limit: int = 25,
) -> Page[InboxRow]:
    """The caller's tasks (only theirs, admins included), filtered and ordered, with their context."""
    if order not in ORDERS:
        raise Invalid("Unknown order", errors={"order": [f"One of {', '.join(ORDERS)}"]})
    if order == "created":
        page = tasks.list_for(session, actor=actor, state=state, process_key=process_key, overdue=overdue,
                              assignment=assignment, cursor=cursor, limit=limit)
    else:
        if state and state not in TaskState.ALL:
            raise Invalid("Unknown task state", errors={"state": [f"One of {', '.join(TaskState.ALL)}"]})
        stmt = select(HumanTask).where(_mine(actor))
        if state:
            stmt = stmt.where(HumanTask.state == state)
        if process_key:
            stmt = stmt.where(HumanTask.process_key == process_key)
        if overdue is not None:
            late = HumanTask.due_at < utcnow()
            stmt = stmt.where(late if overdue else or_(HumanTask.due_at.is_(None), ~late))
        assigned = tasks.assignment_filter(actor, assignment)
        if assigned is not None:
            stmt = stmt.where(assigned)
        page = _by_due(session, stmt, cursor=cursor, limit=max(1, min(limit, 200)))
    return Page(describe(session, page.items), page.next_cursor)


def describe(session: Session, task_rows: list[HumanTask]) -> list[InboxRow]:
    """Process name, business key and party name for each task, in three queries for the whole page."""
    if not task_rows:
        return []
    instance_ids = {t.instance_id for t in task_rows}
    instances = {
        row.id: row
        for row in session.execute(
            select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.status, ProcessDefinition.name,
                   ProcessDefinition.version)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id.in_(instance_ids))
        )
    }
    org_ids = {t.organisation_id for t in task_rows if t.organisation_id is not None}
    user_ids = {t.user_id for t in task_rows if t.user_id is not None}
    user_ids |= {t.claimed_by for t in task_rows if t.claimed_by is not None}
    orgs: dict[int, str] = {}
    if org_ids:
        orgs = {i: n for i, n in session.execute(select(Organisation.id, Organisation.name)
                                                 .where(Organisation.id.in_(org_ids)))}
    users: dict[int, str] = {}
    if user_ids:
        users = {i: n for i, n in session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))}
    rows = []
    for task in task_rows:
        instance = instances.get(task.instance_id)
        if task.organisation_id is not None:
            party = orgs.get(task.organisation_id)
        else:
            party = users.get(task.user_id) if task.user_id is not None else None
        rows.append(InboxRow(
            task=task,
            process_name=instance.name if instance else task.process_key,
            process_version=instance.version if instance else None,
            business_key=instance.business_key if instance else None,
            party=party,
            claimer=users.get(task.claimed_by) if task.claimed_by is not None else None,
            instance_status=instance.status if instance else None,
        ))
    return rows


def processes_of(session: Session, *, actor: Actor) -> list[tuple[str, str]]:
    """(key, name) of every process the caller has had a task in: the choices of the inbox filter.

    Asked per deployed process (a few rows), each an index probe per party the caller acts for
    (``ix_tasks_org_process``, ``ix_tasks_user_process``): never a DISTINCT over every task the
    caller's organisations ever had, which grows with the years of work behind them."""
    owned = select(TaskOwner.task_id).where(TaskOwner.user_id == actor.user_id)
    unowned = ~HumanTask.owners.any()
    had = [exists().where(HumanTask.process_key == ProcessDefinition.key, party, unowned)
           for party in tasks.parties_of(actor)]
    had.append(exists().where(HumanTask.process_key == ProcessDefinition.key, HumanTask.id.in_(owned)))
    names: dict[str, str] = {}
    for key, name in session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name)
        .where(or_(*had))
        .order_by(ProcessDefinition.key, ProcessDefinition.version)
    ):
        names[key] = name  # the latest version's name wins
    return sorted(names.items())
