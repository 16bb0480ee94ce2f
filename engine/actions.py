"""Task actions: domain code that runs when a user task completes, named by the task's `recordAction`.

A BPMN user task may carry `<spiffworkflow:property name="recordAction" value="mou.approve"/>`. On
completion the registered function gets the validated form data, writes its domain records in the
same unit of work, and returns values (usually record ids) merged into the task data, so big
documents stay in their own tables and process data only references them. An action that refuses
(e.g. a stale approval) raises an engine error and nothing of the completion is kept.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .errors import Invalid
from .models import HumanTask, ProcessInstance
from .parties import Actor


@dataclass(frozen=True)
class ActionContext:
    session: Session
    actor: Actor
    instance: ProcessInstance
    task: HumanTask
    task_data: dict[str, Any]  # the process data visible to the task (read-only by convention)


Action = Callable[[ActionContext, dict[str, Any]], dict[str, Any] | None]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn

    return register


def run(name: str, context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    fn = ACTIONS.get(name)
    if fn is None:
        raise Invalid(f"The process names an unknown record action '{name}'", errors={"_": [name]})
    return fn(context, data) or {}
