"""What the worker does for each kind of job: fire timers, run service tasks, deliver messages, e-mail.

The top of the engine: these open and run instances through :mod:`engine.execution` (and messages may
start instances), which itself only schedules jobs. :mod:`engine.jobs` runs each claimed job with the
handler :data:`BY_KIND` names for its kind.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import (
    audit,
    datastores,
    deployments,
    execution,
    instances,
    jobqueue,
    messages,
    notifications,
    services,
    signals,
    timers,
)
from .models import InstanceStatus, Job, ProcessDefinition, ProcessInstance, utcnow
from .runtime import IncidentInfo, RunOutcome, error_message

Handler = Callable[[Session, Job], None]


def _active(session: Session, job: Job) -> ProcessInstance | None:
    instance = session.get(ProcessInstance, job.instance_id)
    if instance is None or instance.status not in InstanceStatus.ACTIVE:
        return None  # suspended, ended or in error: its jobs wait for an operator (or nothing)
    return instance


def fire_timer(session: Session, job: Job) -> None:
    """Refresh the instance's timers and run what they released, like a request would."""
    instance = _active(session, job)
    if instance is None:
        return
    workflow = execution.open_workflow(instance)
    before = {str(t.id) for t in workflow.get_tasks(state=TaskState.WAITING)}
    # refresh_timers first: do_engine_steps only refreshes at its end, so a timer released
    # there would sit READY until the next run (pinned in tests/engine/test_spiff_hazards.py).
    execution.advance(session, instance, workflow, actor_id=None, before=workflow.refresh_timers)
    fired = before - {str(t.id) for t in workflow.get_tasks(state=TaskState.WAITING)}
    audit.record(session, actor_id=None, action="timer.fired", instance_id=instance.id,
                 due_at=job.due_at.isoformat(), released=len(fired), at_time=utcnow().isoformat())


def run_service(session: Session, job: Job) -> None:
    """Call the connector of a ready service task; retry with backoff, an incident after the last try."""
    instance = _active(session, job)
    if instance is None:
        return
    workflow = execution.open_workflow(instance)
    task = execution.find_task(workflow, job.task_id or "")
    if task is None or task.state != TaskState.READY:
        return  # cancelled by a boundary event, or already run
    try:
        with services.job_session(session), datastores.using(session):
            task.run()
    except SpiffWorkflowException as exc:
        message = error_message(exc)
        if job.attempts < job.max_attempts:
            raise jobqueue.RetryLater(message, delay=jobqueue.backoff(job.attempts)) from exc
        outcome = RunOutcome(incidents=[IncidentInfo(
            kind="service", message=f"{message} (after {job.attempts} attempt(s))",
            task_id=str(task.id), bpmn_id=task.task_spec.bpmn_id)])
        execution.save(session, instance, workflow, outcome, actor_id=None)
        return
    audit.record(session, actor_id=None, action="service.completed", instance_id=instance.id,
                 task_id=str(task.id), bpmn_id=task.task_spec.bpmn_id, attempts=job.attempts)
    execution.advance(session, instance, workflow, actor_id=None)


def deliver_message(session: Session, job: Job) -> None:
    """Deliver a message an instance threw, or a kept message a new catch now matches."""
    data = job.payload or {}
    if data.get("pending_message_id") is not None:
        messages.deliver_kept(session, int(data["pending_message_id"]))
        return
    try:
        messages.deliver(session, actor=None, name=data["name"], correlation_keys=data.get("correlation_keys") or {},
                         payload=data.get("payload"), source_instance_id=data.get("source_instance_id"),
                         parties=data.get("parties"))
    except messages.AmbiguousMessage as exc:
        # Not a race (a Conflict would be retried forever): the job fails with the reason.
        raise messages.UndeliverableMessageError(exc.message) from exc


def deliver_signal(session: Session, job: Job) -> None:
    """Broadcast a signal an instance threw to the instances within its sender's context."""
    data = job.payload or {}
    signals.broadcast(session, actor=None, name=data["name"], payload=data.get("payload"),
                      source_instance_id=data.get("source_instance_id"))


def start_by_timer(session: Session, job: Job) -> None:
    """A timer start event is due: start an instance of the latest version, binding the parties the
    process declares (``timerStartParties``); a cycle schedules its next start."""
    data = job.payload or {}
    definition = session.get(ProcessDefinition, data.get("definition_id"))
    if definition is None or deployments.get_definition(session, key=definition.key).id != definition.id:
        return  # a later version was deployed: its own schedule replaced this one
    start = deployments.timer_start(session, definition, data.get("element_id") or "")
    if start is None:
        return
    instance = instances.start(session, actor=messages.SYSTEM, process_key=definition.key,
                               version=definition.version, parties=dict(start.parties), by_timer=True)
    audit.record(session, actor_id=None, action="timer_start.fired", instance_id=instance.id,
                 process_key=definition.key, element_id=start.element_id, due_at=job.due_at.isoformat())
    cycles_left = int(data.get("cycles_left", 1))
    if cycles_left in {0, 1}:
        return
    # The next interval after now: a worker that was down starts a missed instance once, not once per interval.
    interval = timedelta(seconds=max(float(data.get("interval_seconds") or 0), 1.0))
    due = job.due_at + interval
    if due <= utcnow():
        due += interval * (1 + (utcnow() - due) // interval)
    jobqueue.add(session, kind=deployments.TIMER_START_JOB, due_at=due,
                 payload={**data, "cycles_left": cycles_left - 1 if cycles_left > 0 else cycles_left})


def send_notification(session: Session, job: Job) -> None:
    """E-mail the people of a task that is still ready (assigned, due soon, overdue)."""
    notifications.notify(session, job)


BY_KIND: dict[str, Handler] = {
    timers.JOB_KIND: fire_timer,
    services.JOB_KIND: run_service,
    messages.JOB_KIND: deliver_message,
    signals.JOB_KIND: deliver_signal,
    deployments.TIMER_START_JOB: start_by_timer,
    notifications.JOB_KIND: send_notification,
}

#: Kinds whose jobs may run many in one unit of work (engine/jobs.py run_claimed_together).
TOGETHER_BY_KIND: dict[str, Callable[[Session, list[Job]], bool]] = {
    notifications.JOB_KIND: notifications.notify_many,
}
