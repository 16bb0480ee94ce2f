"""Delivering BPMN messages into instances: from outside (``POST /api/messages``) and, through the
worker, messages instances threw (``engine.handlers``).

Above :mod:`engine.execution` and :mod:`engine.instances` (a message may start a process); what an
instance waits for, the correlation rules and thrown messages becoming jobs are
:mod:`engine.subscriptions`, below execution.

* **Sending.** :func:`deliver` finds the one instance whose subscription matches (see
  :func:`~engine.subscriptions.correlates`), loads it through ``engine.execution``, hands the message to
  Spiff with ``workflow.send_event`` (which raises when nothing catches it, unlike ``catch``) and runs
  the instance on. Without a waiting instance, the latest version of a process whose message start
  event has that name is started. Otherwise the message is kept (``pending_messages``) until it expires
  (setting ``message_ttl_seconds``, default 7 days).
* **Thrown.** A message thrown by an instance reaches only instances that share its sender's context
  (:func:`candidates`): a catch it singles out by a correlation key, or an instance whose parties are
  all the sender's. Deployment refuses catches of thrown messages that could not be singled out so
  (``engine.bundle``).

A catching instance has correlations once it threw or caught a correlated message, or when its catch
event computes them from its own data (``spiffworkflow:processVariableCorrelation``). The message
payload is what the receiver's ``bpmn:correlationPropertyRetrievalExpression`` reads, so it must carry
those values too; its ``spiffworkflow:messageVariable`` names the variable the payload lands in.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from . import audit, execution, instances
from .config import settings
from .errors import Conflict, Invalid, NotFound
from .models import (
    InstanceParty,
    InstanceStatus,
    MessageSubscription,
    PendingMessage,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from .pagination import Page, paginate
from .parties import Actor, require_admin
from .subscriptions import (
    JOB_KIND,
    Correlations,
    check_keys,
    correlates,
    jsonable,
    keyed,
    parties_of,
    sender_of,
    waiting_catches,
    within,
)

__all__ = [
    "JOB_KIND",
    "SYSTEM",
    "AmbiguousMessage",
    "Correlations",
    "DeliveryResult",
    "UndeliverableMessageError",
    "candidates",
    "correlates",
    "deliver",
    "deliver_into",
    "deliver_kept",
    "keyed",
    "list_kept",
    "starter",
    "ttl",
    "waiting_catches",
]

DEFAULT_TTL = timedelta(days=7)

# The platform itself, when the worker delivers a message an instance threw: it may start a process
# (binding the parties of the sending instance) and reach every instance.
SYSTEM = Actor(user_id=None, email="system", is_admin=True)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DeliveryResult:
    """Where a message went: into a waiting instance, into a new one, or kept for later."""

    instance_id: str | None
    started: bool = False
    kept: bool = False
    pending_message_id: int | None = None
    expires_at: datetime | None = None


class AmbiguousMessage(Conflict):
    """More than one instance waits for the message with matching correlations (409)."""


class UndeliverableMessageError(Exception):
    """A worker-side failure that retrying cannot fix: the job fails with this reason."""


# --- who receives a message ------------------------------------------------------------------

def _party_clause(actor: Actor) -> Any:
    conditions = [InstanceParty.user_id == actor.user_id]
    if actor.organisation_ids:
        conditions.append(InstanceParty.organisation_id.in_(actor.organisation_ids))
    return exists().where(InstanceParty.instance_id == ProcessInstance.id, or_(*conditions))


def candidates(
    session: Session,
    *,
    actor: Actor | None,
    name: str,
    correlation_keys: Correlations,
    source_instance_id: str | None = None,
) -> list[str]:
    """Ids of the active instances the caller may reach that wait for this message.

    A non-admin reaches only instances in which their organisation or they themselves are a party;
    every other instance is left out before matching, so it is never revealed (nor counted).

    A message thrown by an instance (``source_instance_id``) never returns to it, and reaches another
    instance only within the sender's context: the message singled the catch out by a correlation key
    (:func:`keyed`), or every party of the receiver is a party of the sender. So an instance someone
    started waiting for a message with no correlation cannot take another partnership's or mobility's
    message: that message starts its own instance or is kept instead.
    """
    stmt = (
        select(MessageSubscription.instance_id, MessageSubscription.correlations)
        .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
        .where(MessageSubscription.name == name, ProcessInstance.status.in_(InstanceStatus.ACTIVE))
        .order_by(MessageSubscription.instance_id)
    )
    if actor is not None and not actor.is_admin:
        stmt = stmt.where(_party_clause(actor))
    if source_instance_id is not None:
        stmt = stmt.where(MessageSubscription.instance_id != source_instance_id)
    matches: dict[str, bool] = {}  # instance id -> singled out by a key
    for instance_id, correlations in session.execute(stmt):
        if correlates(correlation_keys, correlations):
            matches[instance_id] = matches.get(instance_id, False) or keyed(correlation_keys, correlations)
    if source_instance_id is not None:
        loose = [i for i, by_key in matches.items() if not by_key]
        if loose:
            parties = parties_of(session, [source_instance_id, *loose])
            sender = parties.pop(source_instance_id)
            for instance_id, receiver in parties.items():
                if not within(sender, receiver):
                    del matches[instance_id]
    return list(matches)


def starter(session: Session, name: str) -> ProcessDefinition | None:
    """The latest version of the one process whose message start event has this name, if any."""
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    stmt = select(ProcessDefinition).join(
        latest, (latest.c.key == ProcessDefinition.key) & (latest.c.v == ProcessDefinition.version)
    ).order_by(ProcessDefinition.key)
    found = [d for d in session.scalars(stmt) if name in (d.message_starts or [])]
    if len(found) > 1:
        raise AmbiguousMessage(
            f"Message '{name}' is ambiguous: {len(found)} processes start with it "
            f"({', '.join(d.key for d in found)})"
        )
    return found[0] if found else None


# --- delivery ------------------------------------------------------------------------------------

def ttl() -> timedelta:
    """How long a message nobody waits for is kept: setting ``message_ttl_seconds``, default 7 days."""
    seconds = settings().message_ttl_seconds
    return timedelta(seconds=seconds) if seconds > 0 else DEFAULT_TTL


def deliver(
    session: Session,
    *,
    actor: Actor | None,
    name: str,
    correlation_keys: Correlations | None,
    payload: Any,
    source_instance_id: str | None = None,
    parties: dict[str, Any] | None = None,
    keep: bool = True,
) -> DeliveryResult:
    """Deliver one message: into the waiting instance, into a new instance, or keep it.

    ``actor=None`` is the platform (the worker delivering a message an instance threw): it reaches
    every instance, and a process it starts gets the sending instance's parties for the roles both
    have, unless ``parties`` says otherwise.

    Matching (:func:`correlates`): the subscriptions named ``name`` of running/waiting instances the
    actor may reach (admins: all; others: those they are a party of), other than the sending one.
    One instance -> delivered. More -> :class:`AmbiguousMessage` (409). None -> the latest version of
    the process whose message start event is named ``name`` is started with ``parties`` (every role
    bound, 422 otherwise; a non-admin must bind themselves, 403 otherwise) and ``payload`` as its
    variables, and the message fires its start event. No such process -> kept until it expires
    (``keep``), or :class:`NotFound` (404) when ``keep`` is false.
    """
    if not name:
        raise Invalid("A message needs a name", errors={"name": ["Missing"]})
    keys = check_keys(correlation_keys)
    # Any JSON value (a messagePayload expression may yield a list or a string); the API sends objects.
    data = jsonable(payload if payload is not None else {})
    found = candidates(session, actor=actor, name=name, correlation_keys=keys, source_instance_id=source_instance_id)
    if len(found) > 1:
        raise AmbiguousMessage(
            f"Message '{name}' is ambiguous: {len(found)} instances wait for it with matching correlations; "
            f"send correlation keys that single one out"
        )
    actor_id = actor.user_id if actor is not None else None
    if found:
        instance = session.get(ProcessInstance, found[0])
        assert instance is not None
        deliver_into(session, instance, name=name, correlation_keys=keys, payload=data, actor_id=actor_id,
                     source_instance_id=source_instance_id)
        return DeliveryResult(instance.id)
    definition = starter(session, name)
    if definition is not None:
        instance = _start(session, actor=actor, definition=definition, parties=parties, payload=data,
                          source_instance_id=source_instance_id)
        deliver_into(session, instance, name=name, correlation_keys=keys, payload=data, actor_id=actor_id,
                     source_instance_id=source_instance_id, started=True)
        return DeliveryResult(instance.id, started=True)
    if not keep:
        raise NotFound(f"No instance waits for message '{name}' with these correlation keys, "
                       f"and no process starts with it")
    kept = PendingMessage(name=name, correlation_keys=keys, payload=data, sender_id=actor_id,
                          source_instance_id=source_instance_id, expires_at=utcnow() + ttl())
    session.add(kept)
    session.flush()
    audit.record(session, actor_id=actor_id, action="message.kept", instance_id=source_instance_id,
                 name=name, pending_message_id=kept.id, correlation_keys=keys,
                 expires_at=kept.expires_at.isoformat())
    return DeliveryResult(None, kept=True, pending_message_id=kept.id, expires_at=kept.expires_at)


def _start(
    session: Session,
    *,
    actor: Actor | None,
    definition: ProcessDefinition,
    parties: dict[str, Any] | None,
    payload: Any,
    source_instance_id: str | None,
) -> ProcessInstance:
    # An instance a thrown message starts is about the sender's subject: it takes the sender's business
    # key (a mobility's review is named after the mobility, not after its id).
    source = session.get(ProcessInstance, source_instance_id) if source_instance_id is not None else None
    business_key = source.business_key if source is not None else None
    if parties is None and actor is None and source_instance_id is not None:
        roles = definition.roles or {}
        parties = {
            p.role: {"organisation_id": p.organisation_id} if p.organisation_id is not None else {"user_id": p.user_id}
            for p in (source.parties if source is not None else [])
            if p.role in roles
        }
    return instances.start(session, actor=actor or SYSTEM, process_key=definition.key, version=definition.version,
                           variables=payload if isinstance(payload, dict) else {}, parties=parties or {},
                           business_key=business_key)


def deliver_into(
    session: Session,
    instance: ProcessInstance,
    *,
    name: str,
    correlation_keys: Correlations,
    payload: Any,
    actor_id: int | None,
    source_instance_id: str | None = None,
    pending_message_id: int | None = None,
    started: bool = False,
) -> None:
    """Hand the message to Spiff in this instance and run it on, in the caller's unit of work."""
    workflow = execution.open_workflow(instance)
    catch = next((c for c in waiting_catches(workflow)
                  if c.name == name and correlates(correlation_keys, c.correlations)), None)
    if catch is None:
        raise Conflict(f"Instance {instance.id} no longer waits for message '{name}'; try again")
    # Spiff checks correlations itself ("any key matches"): the catch's own values, overlaid with the
    # message's (equal wherever both have a key), pass that check whenever `correlates` passed.
    event = BpmnEvent(catch.definition, payload=copy.deepcopy(payload),
                      correlations={**catch.correlations, **correlation_keys})
    try:
        workflow.send_event(event)
    except WorkflowException as exc:
        raise Conflict(f"Instance {instance.id} refused message '{name}': {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a retrieval expression the payload cannot satisfy
        raise Invalid(
            f"Message '{name}' does not fit what instance {instance.id} expects: {type(exc).__name__}: {exc}",
            errors={"payload": ["It must carry the values the receiver's correlation properties read"]},
        ) from exc
    _plain_payload_into_data(workflow, catch.definition, payload)
    audit.record(session, actor_id=actor_id, action="message.delivered", instance_id=instance.id,
                 name=name, source_instance_id=source_instance_id, pending_message_id=pending_message_id,
                 correlation_keys=correlation_keys, started=started)
    execution.advance(session, instance, workflow, actor_id=actor_id)


def _plain_payload_into_data(workflow: Any, definition: Any, payload: Any) -> None:
    """A catch without ``spiffworkflow:messageVariable`` (a plain ``bpmn:message`` model) gets the payload's
    fields in its data, as BPMN's own message event does; spiff's drops it otherwise."""
    if getattr(definition, "message_var", None) is not None or not isinstance(payload, dict):
        return
    name = definition.name
    for task in workflow.get_tasks(state=SpiffState.READY | SpiffState.COMPLETED):
        if name in task.internal_data and getattr(task.task_spec, "event_definition", None) is definition:
            task.data.update(copy.deepcopy(payload))
            task.internal_data.pop(name, None)


def deliver_kept(session: Session, pending_message_id: int) -> str | None:
    """Deliver a kept message if exactly one reachable instance now waits for it; its id, or None.

    Expired or already delivered messages are never delivered. A receiver that cannot take the
    payload expires the message at once (audited as 'message.rejected'), so it is not retried forever.
    """
    message = session.get(PendingMessage, pending_message_id, with_for_update=True, populate_existing=True)
    now = utcnow()
    if message is None or message.delivered_at is not None or message.expires_at <= now:
        return None
    sender = sender_of(session, message.sender_id)
    found = candidates(session, actor=sender, name=message.name, correlation_keys=message.correlation_keys or {},
                       source_instance_id=message.source_instance_id)
    if len(found) != 1:
        return None  # nobody waits any more, or several do: it stays kept until one alone does
    instance = session.get(ProcessInstance, found[0])
    assert instance is not None
    try:
        deliver_into(session, instance, name=message.name, correlation_keys=message.correlation_keys or {},
                     payload=message.payload, actor_id=message.sender_id,
                     source_instance_id=message.source_instance_id, pending_message_id=message.id)
    except Invalid as exc:
        message.expires_at = now
        audit.record(session, actor_id=None, action="message.rejected", instance_id=instance.id,
                     name=message.name, pending_message_id=message.id, reason=exc.message)
        return None
    message.delivered_at = now
    message.delivered_to = instance.id
    return instance.id


def list_kept(
    session: Session, *, actor: Actor, include_expired: bool = False, cursor: str | None = None, limit: int = 50
) -> Page[PendingMessage]:
    """Kept messages not delivered yet (admins only), oldest first."""
    require_admin(actor)
    stmt = select(PendingMessage).where(PendingMessage.delivered_at.is_(None))
    if not include_expired:
        stmt = stmt.where(PendingMessage.expires_at > utcnow())
    return paginate(session, stmt, [PendingMessage.id], cursor=cursor, limit=limit)
