"""Broadcasting BPMN signals into every instance that waits for them: from outside (``POST /api/signals``)
and, through the worker, signals instances threw (``engine.handlers``).

A signal has a name and an optional payload and no correlation: unlike a message it reaches every
waiting catch, not one. Who it may reach is scoped by parties as messages are (:mod:`engine.messages`):

* a person reaches the instances in which their organisation (or they themselves) take part;
  administrators reach every instance;
* a signal an instance throws reaches the other instances whose parties are all parties of the sender
  (:func:`engine.subscriptions.within`), never the sender itself (SpiffWorkflow has already handed it to
  the sender's own catches), so one mobility's signal never wakes another partnership's process.

What instances wait for is mirrored into ``signal_subscriptions`` on every save
(:mod:`engine.subscriptions`). The payload lands in the catch's ``spiffworkflow:variableName`` (an
extension of the ``bpmn:signal``); a signal nobody waits for is dropped (BPMN: signals are not kept),
which the audit trail records with the instances it reached (none).
"""
from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, execution
from .errors import Invalid
from .models import InstanceStatus, ProcessInstance, SignalSubscription
from .parties import Actor
from .subscriptions import SIGNAL_JOB_KIND, jsonable, may_reach, parties_of, waiting_signals, within

JOB_KIND = SIGNAL_JOB_KIND
MAX_NAME = 255


def receivers(session: Session, *, actor: Actor | None, name: str, source_instance_id: str | None = None) -> list[str]:
    """Ids of the active instances waiting for signal ``name`` that the sender may reach, oldest first."""
    stmt = (
        select(SignalSubscription.instance_id)
        .join(ProcessInstance, ProcessInstance.id == SignalSubscription.instance_id)
        .where(SignalSubscription.name == name, ProcessInstance.status.in_(InstanceStatus.ACTIVE))
        .order_by(ProcessInstance.created_at, SignalSubscription.instance_id)
    )
    if source_instance_id is not None:
        stmt = stmt.where(SignalSubscription.instance_id != source_instance_id)
    found = list(dict.fromkeys(session.scalars(stmt)))
    if source_instance_id is not None and found:
        parties = parties_of(session, [source_instance_id, *found])
        sender = parties.pop(source_instance_id)
        return [i for i in found if within(sender, parties[i])]
    if actor is not None and not actor.is_admin:
        return [i for i in found if (instance := session.get(ProcessInstance, i)) is not None
                and may_reach(actor, instance)]
    return found


def broadcast(
    session: Session,
    *,
    actor: Actor | None,
    name: str,
    payload: Any = None,
    source_instance_id: str | None = None,
) -> list[str]:
    """Hand the signal to every instance it may reach that waits for it; their ids.

    ``actor=None`` is the platform delivering a signal an instance threw. Each receiver is run on in
    this unit of work, as a message delivery is; the send and each delivery are audited.
    """
    if not name or not name.strip():
        raise Invalid("A signal needs a name", errors={"name": ["Missing"]})
    if len(name) > MAX_NAME:
        raise Invalid("The signal name is too long", errors={"name": [f"At most {MAX_NAME} characters"]})
    data = jsonable(payload) if payload is not None else None
    actor_id = actor.user_id if actor is not None else None
    delivered = []
    for instance_id in receivers(session, actor=actor, name=name, source_instance_id=source_instance_id):
        instance = session.get(ProcessInstance, instance_id)
        if instance is not None and _deliver_into(session, instance, name=name, payload=data, actor_id=actor_id,
                                                  source_instance_id=source_instance_id):
            delivered.append(instance_id)
    audit.record(session, actor_id=actor_id, action="signal.sent", instance_id=source_instance_id, name=name,
                 delivered_to=delivered)
    return delivered


def _deliver_into(
    session: Session,
    instance: ProcessInstance,
    *,
    name: str,
    payload: Any,
    actor_id: int | None,
    source_instance_id: str | None,
) -> bool:
    workflow = execution.open_workflow(instance)
    catch = next((c for c in waiting_signals(workflow) if c.name == name), None)
    if catch is None:
        return False  # the subscription row is older than the state: nothing waits any more
    try:  # send_event, not catch: an uncaught signal must not come back out as one this instance threw
        workflow.send_event(BpmnEvent(catch.definition, payload=copy.deepcopy(payload)))
    except WorkflowException:
        return False
    audit.record(session, actor_id=actor_id, action="signal.delivered", instance_id=instance.id, name=name,
                 source_instance_id=source_instance_id)
    execution.advance(session, instance, workflow, actor_id=actor_id)
    return True
