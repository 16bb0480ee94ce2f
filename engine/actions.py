"""Task actions: domain code that runs when a user task completes, named by the task's `recordAction`.

A BPMN user task may carry `<spiffworkflow:property name="recordAction" value="mou.approve"/>`. On
completion the registered function gets the validated form data, writes its domain records in the
same unit of work, and returns values (usually record ids) merged into the task data, so big
documents stay in their own tables and process data only references them. An action that refuses
(e.g. a stale approval) raises an engine error and nothing of the completion is kept.

An action may also register a *prefill* (:func:`prefill`): values its form starts with that only the
server knows, such as who signs (the signed-in account). They replace what the process data holds
for those fields, so a form never shows another party's answer as the reader's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .errors import EngineError, Invalid
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
Prefill = Callable[[ActionContext], dict[str, Any]]
PREFILLS: dict[str, Prefill] = {}


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


def prefill(name: str) -> Callable[[Prefill], Prefill]:
    """Register the form values the action `name` starts its form with, for the person reading it."""
    def register(fn: Prefill) -> Prefill:
        PREFILLS[name] = fn
        return fn

    return register


def prefilled(name: str, context: ActionContext) -> dict[str, Any]:
    """The values the action's prefill gives for this reader, or nothing when it has none."""
    fn = PREFILLS.get(name)
    if fn is None:
        return {}
    try:
        return fn(context) or {}
    except EngineError:
        return {}  # a convenience, never a reason a task cannot be shown
