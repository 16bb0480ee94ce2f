"""Notifications: e-mail the people concerned when a task is assigned, nearly due and overdue.

`on_tasks_created` (called by execution.save in the same unit of work) only enqueues 'notify'
jobs; the worker composes and sends the messages later, so a request never waits for a mail
server. Each job checks again that the task is still ready before it sends anything: a reminder
for finished work is noise.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, event, inspect, select, update
from sqlalchemy.orm import Session, lazyload, load_only

from . import audit, jobqueue
from .config import settings
from .mailer import DeliveryFailed, Mail, Mailer, OutboxMailer, configured_mailer
from .mailtexts import ENGINE, MailWriter
from .models import (
    HumanTask,
    InstanceStatus,
    Job,
    JobStatus,
    Membership,
    Organisation,
    OutboxMessage,
    ProcessInstance,
    TaskState,
    User,
    utcnow,
)
from .pagination import Page, paginate
from .parties import Actor

log = logging.getLogger("ecvet.notifications")

ASSIGNED = "assigned"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
EVENTS = (ASSIGNED, DUE_SOON, OVERDUE)
JOB_KIND = "notify"


def reminder_lead() -> timedelta:
    """How long before the due date the 'due soon' reminder goes (setting ``reminder_lead_hours``)."""
    return timedelta(hours=settings().reminder_lead_hours)


def max_delivery_attempts() -> int:
    return max(1, settings().mail_max_attempts)


def _assigned(task: HumanTask) -> bool:
    return task.organisation_id is not None or task.user_id is not None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def schedule_reminders(session: Session, task: HumanTask) -> None:
    """Enqueue 'due soon' (unless its time has passed) and 'overdue' for the task's current due date.

    Reminders carry the due date they were made for; if the date changes later, the old ones do
    nothing, so calling this again after a change is all a new due date needs.
    """
    if task.due_at is None or not _assigned(task):
        return
    due = _utc(task.due_at)
    now = utcnow()
    lead = reminder_lead()
    if lead > timedelta(0) and due - lead > now:
        jobqueue.add(session, kind=JOB_KIND, due_at=due - lead, instance_id=task.instance_id, task_id=task.id,
                     payload={"event": DUE_SOON, "due_at": due.isoformat()})
    jobqueue.add(session, kind=JOB_KIND, due_at=due, instance_id=task.instance_id, task_id=task.id,
                 payload={"event": OVERDUE, "due_at": due.isoformat()})


def on_tasks_created(session: Session, instance: ProcessInstance, created: list[HumanTask]) -> None:
    """Called by execution.save in the same unit of work for every newly projected user task."""
    now = utcnow()
    for task in created:
        if not _assigned(task):
            continue  # a lane-less task is nobody's: there is no one to tell
        jobqueue.add(session, kind=JOB_KIND, due_at=now, instance_id=instance.id, task_id=task.id,
                 payload={"event": ASSIGNED})
        schedule_reminders(session, task)


def on_tasks_closed(session: Session, closed: list[HumanTask]) -> int:
    """Cancel the pending notifications of tasks that were completed or cancelled.

    The handler would skip them anyway; cancelling keeps them out of the pending-jobs and job-lag
    metrics and off the worker's plate.
    """
    if not closed:
        return 0
    # instance_id is indexed on jobs: the update touches the instances' own jobs, not every pending one
    stmt = (
        update(Job)
        .where(Job.instance_id.in_(sorted({t.instance_id for t in closed})), Job.task_id.in_([t.id for t in closed]),
               Job.kind == JOB_KIND, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), row_version=Job.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE's result is a cursor result: it has the row count.
    return cast("CursorResult[Any]", session.execute(stmt)).rowcount or 0


@event.listens_for(Session, "before_flush")
def _closed_tasks_cancel_their_notifications(session: Session, _context: Any, _instances: Any) -> None:
    """Every path that closes a task (tasks.complete, execution.sync_tasks) changes HumanTask.state
    on a loaded row; this sees those changes in the flush that writes them, in the same transaction.
    Only a task with a due date has reminders to cancel: one without has at most its 'assigned' notice
    pending, which the worker skips for finished work, so closing it costs no statement."""
    closed = [
        obj for obj in session.dirty
        if isinstance(obj, HumanTask) and obj.state != TaskState.READY and _assigned(obj) and obj.due_at is not None
        and inspect(obj).attrs.state.history.has_changes()
    ]
    if closed:
        on_tasks_closed(session, closed)


# --- the worker's side -----------------------------------------------------------------------------

def recipients(session: Session, task: HumanTask) -> list[User]:
    """Active members of the organisation bound to the task's role, or the one bound user; the lane's
    owners when a script named them."""
    return recipients_of(session, [task]).get(task.id, [])


def recipients_of(session: Session, tasks: list[HumanTask]) -> dict[str, list[User]]:
    """:func:`recipients` of many tasks, by task id, in at most two statements: the people named by id
    (lane owners, bound users) and the members of the bound organisations; each list ordered by user id."""
    by_id: set[int] = set()
    org_ids: set[int] = set()
    for task in tasks:
        if task.owners:
            by_id.update(owner.user_id for owner in task.owners)
        elif task.user_id is not None:
            by_id.add(task.user_id)
        elif task.organisation_id is not None:
            org_ids.add(task.organisation_id)
    no_memberships = lazyload(User.memberships)  # a message needs no memberships
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_(by_id), User.is_active.is_(True)).options(no_memberships))} if by_id else {}
    members: dict[int, list[User]] = {}
    if org_ids:
        stmt = (
            select(User, Membership.organisation_id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id.in_(org_ids), User.is_active.is_(True))
            .order_by(User.id)
            .options(no_memberships)
        )
        for user, org_id in session.execute(stmt):
            members.setdefault(org_id, []).append(user)
    out: dict[str, list[User]] = {}
    for task in tasks:
        if task.owners:
            wanted = sorted({owner.user_id for owner in task.owners})
            out[task.id] = [users[i] for i in wanted if i in users]
        elif task.user_id is not None:
            out[task.id] = [users[task.user_id]] if task.user_id in users else []
        elif task.organisation_id is not None:
            out[task.id] = list(members.get(task.organisation_id, []))
        else:
            out[task.id] = []
    return out


def _when(moment: datetime | None, _: MailWriter) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC") if moment else _("no due date")


def task_link(task: HumanTask) -> str:
    """Path of the task in the API, prefixed with the setting ``base_url`` when that is set."""
    return f"{settings().base_url.rstrip('/')}/api/tasks/{task.id}"


def compose(event: str, task: HumanTask, instance: ProcessInstance, user: User, party: str | None) -> Mail:
    """The message for one recipient, written for a VET coordinator or company mentor in their language."""
    _ = ENGINE.writer(user.language)
    process = instance.process_key + (f" / {instance.business_key}" if instance.business_key else "")
    due = _when(task.due_at, _)
    names = {"task": task.name, "process": process, "due": due}
    if event == OVERDUE:
        subject = _("[ECVET] OVERDUE: {task} ({process}) was due {due}", **names)
        opening = _("The task \"{task}\" is overdue: it was due on {due} and has not been completed yet. "
                    "Please complete it as soon as possible, or tell the other parties of the mobility about "
                    "the delay.", **names)
    elif event == DUE_SOON:
        subject = _("[ECVET] Due soon: {task} ({process}) is due {due}", **names)
        opening = _("Reminder: the task \"{task}\" is due on {due} and is still open.", **names)
    else:
        subject = _("[ECVET] New task: {task} ({process})", **names)
        opening = _("A new task \"{task}\" is waiting for {party}.", task=task.name, party=party or _("you"))
    lines = [
        _("Hello {name},", name=user.name),
        "",
        opening,
        "",
        _("Task:         {value}", value=task.name),
        _("Process:      {value}", value=instance.process_key),
        _("Business key: {value}", value=instance.business_key or "-"),
        _("Your role:    {value}", value=task.lane or task.role or "-"),
        *([_("Organisation: {value}", value=party)] if party else []),
        _("Due:          {value}", value=due),
        _("Open it:      {value}", value=task_link(task)),
    ]
    if task.instructions:
        lines += ["", _("Instructions:"), task.instructions]
    lines += ["", _("This message was sent automatically by ECVET Flow; you receive it because you are a party "
                    "to this task.")]
    return Mail(to=user.email, subject=subject, body="\n".join(lines), kind=event, task_id=task.id,
                instance_id=instance.id)


def _stale_reminder(task: HumanTask, payload: dict[str, Any]) -> bool:
    """A reminder made for a due date the task no longer has (changed or cleared since)."""
    made_for = payload.get("due_at")
    if task.due_at is None or not made_for:
        return True
    try:
        return datetime.fromisoformat(made_for) != task.due_at
    except ValueError:
        return True


_MESSAGE_COLUMNS = (
    load_only(ProcessInstance.status, ProcessInstance.process_key, ProcessInstance.business_key),
    lazyload(ProcessInstance.definition),  # eager by default: not needed for a message
    lazyload(ProcessInstance.parties),
)


@dataclass
class _Notice:
    """One job's message to one recipient, composed and ready to record or deliver."""

    job: Job
    task: HumanTask
    instance: ProcessInstance
    event: str
    mail: Mail


def _composed(session: Session, batch: list[Job]) -> list[_Notice]:
    """The messages of `batch`, read with a handful of statements however many jobs it holds: the tasks
    (with their owners), the instances' status and keys, the organisations' names and the recipients.
    A job whose task is no longer ready, whose instance cannot go on, or whose reminder is stale has none."""
    task_ids = {job.task_id for job in batch if job.task_id}
    tasks = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)))} if task_ids else {}
    ready = [t for t in tasks.values() if t.state == TaskState.READY]
    if not ready:
        return []
    # Not the instance's state (the serialised workflow, tens of kilobytes): a message needs its status,
    # key and business key only; any other attribute still loads on first use.
    instances = {i.id: i for i in session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_({t.instance_id for t in ready}))
        .options(*_MESSAGE_COLUMNS))}
    org_ids = {t.organisation_id for t in ready if t.organisation_id is not None}
    names: dict[int, str] = {}
    if org_ids:
        stmt = select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        names.update(session.execute(stmt).all())
    people = recipients_of(session, ready)
    notices: list[_Notice] = []
    for job in batch:
        payload = dict(job.payload or {})
        event = payload.get("event", ASSIGNED)
        task = tasks.get(job.task_id) if job.task_id else None
        if task is None or task.state != TaskState.READY:
            continue
        instance = instances.get(task.instance_id)
        if instance is None or instance.status not in InstanceStatus.ACTIVE:
            continue  # suspended, in error or ended: nobody can act on the task now
        if event in (DUE_SOON, OVERDUE) and _stale_reminder(task, payload):
            continue
        wanted = set(payload["only"]) if payload.get("only") is not None else None
        party = names.get(task.organisation_id) if task.organisation_id is not None else None
        for user in people.get(task.id, []):
            if wanted is None or user.email in wanted:
                notices.append(_Notice(job, task, instance, event, compose(event, task, instance, user, party)))
    return notices


def _sent(session: Session, notice: _Notice, transport: str, outbox_id: int) -> None:
    """A message went out: its audit event and its log line."""
    mail, task = notice.mail, notice.task
    audit.record(session, actor_id=None, action="notification.sent", instance_id=notice.instance.id,
                 task_id=task.id, event=notice.event, to=mail.to, transport=transport, outbox_id=outbox_id)
    log.info("notification %s sent to %s", notice.event, mail.to,
             extra={"instance_id": notice.instance.id, "task_id": task.id, "transport": transport})


def notify(session: Session, job: Job, mailer: Mailer | None = None) -> None:
    """Worker: send one event's message to each recipient of a task that is still ready."""
    mailer = mailer or configured_mailer()
    failed: list[str] = []
    for notice in _composed(session, [job]):
        try:
            row = mailer.send(session, notice.mail)
        except DeliveryFailed as exc:
            failed.append(notice.mail.to)
            audit.record(session, actor_id=None, action="notification.failed", instance_id=notice.instance.id,
                         task_id=notice.task.id, event=notice.event, to=notice.mail.to,
                         transport=mailer.transport, outbox_id=exc.record.id, error=exc.record.error)
            log.warning("notification %s to %s failed: %s", notice.event, notice.mail.to, exc.record.error,
                        extra={"instance_id": notice.instance.id, "task_id": notice.task.id})
            continue
        _sent(session, notice, row.transport, row.id)
    if failed:
        _retry_failed(session, job, dict(job.payload or {}), failed)


def notify_many(session: Session, batch: list[Job], mailer: Mailer | None = None) -> bool:
    """Worker: the messages of many jobs in the caller's one unit of work, when the transport only
    records them (the outbox): the reads, the outbox rows and the audit rows each take one statement for
    the whole batch instead of several per job. Over SMTP it declines (returns False, having done
    nothing): a delivered message cannot be rolled back, so each job keeps a unit of work of its own."""
    mailer = mailer or configured_mailer()
    if not isinstance(mailer, OutboxMailer):
        return False
    notices = _composed(session, batch)
    ids = mailer.record_many(session, [notice.mail for notice in notices])
    for notice, outbox_id in zip(notices, ids, strict=True):
        _sent(session, notice, mailer.transport, outbox_id)  # kept rows: one INSERT for the batch
    return True


def _retry_failed(session: Session, job: Job, payload: dict[str, Any], failed: list[str]) -> None:
    """Try again later for the recipients that failed only, so nobody gets the same mail twice.

    Raising RetryLater instead would roll back the messages that did go out, and resend them.
    """
    attempt = int(payload.get("attempt", 1))
    if attempt >= max_delivery_attempts():
        log.error("notification %s for task %s abandoned after %s attempts: %s", payload.get("event"),
                  job.task_id, attempt, ", ".join(failed),
                  extra={"instance_id": job.instance_id, "task_id": job.task_id})
        return
    retry = {**payload, "only": sorted(failed), "attempt": attempt + 1}
    jobqueue.add(session, kind=JOB_KIND, due_at=utcnow() + jobqueue.backoff(attempt, base_seconds=60),
                 instance_id=job.instance_id, task_id=job.task_id, payload=retry)


# --- reading the outbox ----------------------------------------------------------------------------

def list_outbox(
    session: Session,
    *,
    actor: Actor,
    to: str | None = None,
    task_id: str | None = None,
    instance_id: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[OutboxMessage]:
    """Administrators see every message; anyone else only those addressed to their own e-mail."""
    stmt = select(OutboxMessage)
    if not actor.is_admin:
        stmt = stmt.where(OutboxMessage.to_email == actor.email.strip().lower())
    if to:
        stmt = stmt.where(OutboxMessage.to_email == to.strip().lower())
    if task_id:
        stmt = stmt.where(OutboxMessage.task_id == task_id)
    if instance_id:
        stmt = stmt.where(OutboxMessage.instance_id == instance_id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return paginate(session, stmt, [OutboxMessage.id], cursor=cursor, limit=limit)

