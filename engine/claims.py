"""Working in an organisation: a member claims a task or hands it to a colleague, and colleagues comment.

A task routed to an organisation is shared by its members until one claims it; a claimed task is
completed only by its claimer (anyone else gets 409 until it is unclaimed, see `engine.tasks.complete`).
The claimer or an administrator unclaims; any member assigns an unclaimed task (or the claimer their
own) to a colleague of the same organisation. Tasks bound to one person (a learner) are theirs alone
and cannot be claimed. Every change and every comment is in the audit trail.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, tasks
from .errors import Conflict, Forbidden, Invalid
from .models import HumanTask, Membership, TaskComment, TaskState, User, utcnow
from .parties import Actor

COMMENT_MAX_CHARS = 2000


@dataclass(frozen=True)
class Comment:
    """A comment as a reader sees it."""

    id: int
    author_id: int
    author: str
    body: str
    created_at: datetime


def _shared_task(session: Session, actor: Actor, task_id: str) -> HumanTask:
    """A ready task of an organisation the actor belongs to (or any, for an administrator)."""
    task = tasks.get(session, actor=actor, task_id=task_id)
    if not tasks.is_assignee(actor, task) and not actor.is_admin:
        raise Forbidden("This task belongs to another party")
    if task.organisation_id is None:
        raise Conflict("This task is for one person only; nobody else can claim it")
    if task.state != TaskState.READY:
        raise Conflict(f"The task is {task.state}; it can no longer be claimed")
    return task


def _set(session: Session, actor: Actor, task: HumanTask, user_id: int | None, action: str) -> HumanTask:
    previous = task.claimed_by
    task.claimed_by = user_id
    task.claimed_at = utcnow() if user_id is not None else None
    audit.record(session, actor_id=actor.user_id, action=action, instance_id=task.instance_id, task_id=task.id,
                 bpmn_id=task.bpmn_id, claimed_by=user_id, previously_claimed_by=previous)
    return task


def claim(session: Session, *, actor: Actor, task_id: str) -> HumanTask:
    """The caller takes the task; 409 when a colleague has it already."""
    task = _shared_task(session, actor, task_id)
    if not tasks.is_assignee(actor, task):
        raise Forbidden("Only a member of the organisation can claim its task; an administrator assigns it")
    if task.claimed_by == actor.user_id:
        return task
    if task.claimed_by is not None:
        raise Conflict(f"{claimer_name(session, task)} works on this task; they can unclaim it or hand it on")
    return _set(session, actor, task, actor.user_id, "task.claimed")


def unclaim(session: Session, *, actor: Actor, task_id: str) -> HumanTask:
    """Give the task back to the whole organisation: the claimer or an administrator."""
    task = _shared_task(session, actor, task_id)
    if task.claimed_by is None:
        return task
    if task.claimed_by != actor.user_id and not actor.is_admin:
        raise Forbidden(f"Only {claimer_name(session, task)}, who claimed this task, can unclaim it")
    return _set(session, actor, task, None, "task.unclaimed")


def assign(session: Session, *, actor: Actor, task_id: str, user_id: int) -> HumanTask:
    """Hand the task to a colleague of the task's organisation (same organisation only)."""
    task = _shared_task(session, actor, task_id)
    if task.claimed_by is not None and task.claimed_by not in (actor.user_id, user_id) and not actor.is_admin:
        raise Conflict(f"{claimer_name(session, task)} works on this task; they can unclaim it or hand it on")
    if user_id not in {u.id for u in colleagues(session, actor=actor, task=task)}:
        raise Invalid("Choose a colleague of the organisation the task is for",
                      errors={"user_id": ["Not an active member of the task's organisation"]})
    if task.claimed_by == user_id:
        return task
    return _set(session, actor, task, user_id, "task.assigned")


def colleagues(session: Session, *, actor: Actor, task: HumanTask) -> list[User]:
    """The active members of the task's organisation (or its named owners), by name: whom it may be
    assigned to."""
    if task.organisation_id is None or not (actor.is_admin or tasks.is_assignee(actor, task)):
        return []
    if task.owners:  # a script named the lane's owners: only they may act on it, so only they take it
        owner_ids = [owner.user_id for owner in task.owners]
        return list(session.scalars(select(User).where(User.id.in_(owner_ids), User.is_active.is_(True))
                                    .order_by(User.name, User.id)))
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == task.organisation_id, User.is_active.is_(True))
        .order_by(User.name, User.id)
    ))


def claimer_name(session: Session, task: HumanTask) -> str | None:
    if task.claimed_by is None:
        return None
    user = session.get(User, task.claimed_by)
    return user.name if user else None


def comment(session: Session, *, actor: Actor, task_id: str, body: str) -> Comment:
    """A note on the task for everyone who may see it (any state: a finished task can be discussed)."""
    task = tasks.get(session, actor=actor, task_id=task_id)
    if not tasks.is_assignee(actor, task) and not actor.is_admin:
        raise Forbidden("This task belongs to another party")
    text = (body or "").strip()
    if not text:
        raise Invalid("Write a comment first", errors={"body": ["Write a comment first"]})
    if len(text) > COMMENT_MAX_CHARS:
        raise Invalid("The comment is too long",
                      errors={"body": [f"At most {COMMENT_MAX_CHARS} characters, this one has {len(text)}"]})
    row = TaskComment(task_id=task.id, author_id=actor.user_id, body=text, created_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="task.commented", instance_id=task.instance_id,
                 task_id=task.id, bpmn_id=task.bpmn_id, comment_id=row.id)
    author = session.get(User, actor.user_id)
    return Comment(row.id, row.author_id, author.name if author else "", row.body, row.created_at)


def comments(session: Session, *, actor: Actor, task_id: str) -> list[Comment]:
    """The task's comments, oldest first, for those who may see the task."""
    task = tasks.get(session, actor=actor, task_id=task_id)
    rows = session.execute(
        select(TaskComment, User.name).join(User, User.id == TaskComment.author_id)
        .where(TaskComment.task_id == task.id).order_by(TaskComment.id)
    )
    return [Comment(c.id, c.author_id, name, c.body, c.created_at) for c, name in rows]


def task_names(session: Session, *, instance_id: str) -> dict[str, str]:
    """Task id -> name for one instance (the caller has checked they may see it): audit lines name tasks."""
    rows = session.execute(select(HumanTask.id, HumanTask.name).where(HumanTask.instance_id == instance_id))
    return {task_id: name for task_id, name in rows}


def people(session: Session, user_ids: set[int]) -> dict[int, str]:
    """User id -> name, for the colleagues audit lines mention."""
    if not user_ids:
        return {}
    return {user_id: name for user_id, name in session.execute(select(User.id, User.name)
                                                               .where(User.id.in_(user_ids)))}
