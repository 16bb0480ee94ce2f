"""Service tasks: the connector registry, and a job per ready service task for the worker to run.

Running one (retries with backoff, an incident after the last) is the worker's (``engine.handlers``)."""
from __future__ import annotations

import contextvars
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import jobqueue
from .config import settings
from .models import InstanceStatus, Job, ProcessInstance
from .runtime import bpmn_id_of

JOB_KIND = "service"
CONNECTORS: dict[str, Callable[..., Any]] = {}

# The unit of work of the worker job running a service task: connectors that write domain records do
# so in it, so their effect commits together with the task's completion, or not at all.
_JOB_SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar("service_job_session", default=None)


@contextmanager
def job_session(session: Session) -> Iterator[Session]:
    """Make `session` the unit of work of connectors called inside this block (the worker, tests)."""
    token = _JOB_SESSION.set(session)
    try:
        yield session
    finally:
        _JOB_SESSION.reset(token)


def current_session() -> Session:
    """The worker job's unit of work, for a connector that writes records; refused outside a job."""
    session = _JOB_SESSION.get()
    if session is None:
        raise RuntimeError("this connector runs only inside a worker job (no unit of work here)")
    return session


def connector(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a plain Python function as the connector `name` (the BPMN serviceTaskOperator)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        CONNECTORS[name] = fn
        return fn

    return register


def load_configured_connectors() -> None:
    """Import the modules the settings name (``connectors``) so they register connectors."""
    for module in settings().connectors:
        importlib.import_module(module)


def is_service_task(task: Any) -> bool:
    return isinstance(task.task_spec, ServiceTask)


def make_asynchronous(spec: Any, subprocess_specs: dict[str, Any]) -> None:
    """Service tasks become 'manual' for Spiff, so requests never block on a connector: the worker runs them."""
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, ServiceTask):
                task_spec.manual = True


def retries_of(task: Any) -> int:
    properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}
    try:
        return max(0, int(properties.get("retries", 0)))
    except (TypeError, ValueError):
        return 0


def schedule(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Enqueue a job for every ready service task that has none yet (no query when there is none)."""
    if instance.status not in InstanceStatus.ACTIVE:
        return
    ready = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if is_service_task(t)]
    if not ready:
        return
    known = set(session.scalars(select(Job.task_id).where(
        Job.instance_id == instance.id, Job.kind == JOB_KIND, Job.status.in_(("pending", "running"))
    )))
    for task in ready:
        if str(task.id) not in known:
            jobqueue.add(session, kind=JOB_KIND, instance_id=instance.id, task_id=str(task.id),
                         max_attempts=retries_of(task) + 1, payload={"bpmn_id": bpmn_id_of(task)})
