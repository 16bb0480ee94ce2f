"""Operational numbers computed from the database at scrape time (no Flask, no Prometheus here).

Each figure is one indexed aggregate query, so a scrape costs a handful of small queries and the
numbers agree across every API process and worker sharing the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import HumanTask, Incident, Job, JobStatus, ProcessInstance, TaskState, utcnow


@dataclass(frozen=True)
class Numbers:
    at: datetime
    # (process_key, status) -> number of instances
    instances: dict[tuple[str, str], int] = field(default_factory=dict)
    # process_key -> ready tasks, and how many of them are past their due date
    ready_tasks: dict[str, int] = field(default_factory=dict)
    overdue_tasks: dict[str, int] = field(default_factory=dict)
    open_incidents: int = 0
    # job kind -> pending jobs (due or not)
    jobs_pending: dict[str, int] = field(default_factory=dict)
    # now - due_at of the oldest pending job that is due; 0 when nothing is waiting for a worker
    job_lag_seconds: float = 0.0
    tasks_completed: int = 0


def collect(session: Session) -> Numbers:
    now = utcnow()
    instances = {
        (key, status): count
        for key, status, count in session.execute(
            select(ProcessInstance.process_key, ProcessInstance.status, func.count())
            .group_by(ProcessInstance.process_key, ProcessInstance.status)
        )
    }
    ready: dict[str, int] = {}
    overdue: dict[str, int] = {}
    late = func.coalesce(func.sum(case((HumanTask.due_at < now, 1), else_=0)), 0)
    for key, count, late_count in session.execute(
        select(HumanTask.process_key, func.count(), late)
        .where(HumanTask.state == TaskState.READY)
        .group_by(HumanTask.process_key)
    ):
        ready[key] = int(count)
        overdue[key] = int(late_count or 0)
    completed = session.scalar(select(func.count()).select_from(HumanTask)
                               .where(HumanTask.state == TaskState.COMPLETED)) or 0
    incidents = session.scalar(select(func.count()).select_from(Incident)
                               .where(Incident.resolved_at.is_(None))) or 0
    pending = {
        kind: int(count)
        for kind, count in session.execute(
            select(Job.kind, func.count()).where(Job.status == JobStatus.PENDING).group_by(Job.kind)
        )
    }
    oldest_due = session.scalar(
        select(func.min(Job.due_at)).where(Job.status == JobStatus.PENDING, Job.due_at <= now)
    )
    lag = max(0.0, (now - oldest_due).total_seconds()) if oldest_due is not None else 0.0
    return Numbers(at=now, instances=instances, ready_tasks=ready, overdue_tasks=overdue,
                   open_incidents=int(incidents), jobs_pending=pending, job_lag_seconds=lag,
                   tasks_completed=int(completed))
