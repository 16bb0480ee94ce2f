"""Notifications: e-mail the people concerned when a task is assigned, nearly due and overdue."""
from __future__ import annotations

from sqlalchemy.orm import Session

from .models import HumanTask, ProcessInstance


def on_tasks_created(session: Session, instance: ProcessInstance, created: list[HumanTask]) -> None:
    """Called by execution.save in the same unit of work for every newly projected user task."""
    return None
