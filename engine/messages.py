"""BPMN messages between instances and from outside: subscriptions, correlation, delivery, keeping."""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy.orm import Session

from .models import ProcessInstance
from .runtime import RunOutcome


def on_save(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, outcome: RunOutcome) -> None:
    """Called by execution.save in the same unit of work: sync subscriptions, route thrown messages."""
    return None
