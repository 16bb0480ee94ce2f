"""What instances wait for: message subscriptions, correlation rules, thrown messages as jobs.

Below :mod:`engine.execution`, which calls :func:`on_save` in the unit of work of every save; delivery
(finding the receiver, running it on) is :mod:`engine.messages`, above it. SpiffWorkflow 3.2.0, notes
hazard 3:

* **Waiting.** Every save mirrors the instance's waiting message catches into
  ``message_subscriptions``: one row per (message name, correlations) the instance waits for, only
  while it is running or waiting.
* **Thrown.** A message an instance throws and does not catch itself leaves the run in
  ``RunOutcome.thrown_messages``; :func:`on_save` turns each into a ``message`` job, so the receiver
  is changed in its own unit of work by the worker, never in the sender's.
* **Kept, then caught.** When a save shows a subscription that a kept, unexpired message matches,
  :func:`on_save` enqueues a ``message`` job that delivers it, if the message may reach the instance
  (:func:`in_context`: a catch it singles out by a correlation key, or an instance whose parties are
  all the sender's).

Correlations have Spiff's own shape: ``{correlation key name: {property id: value}}``, e.g.
``{"mobility": {"mobility_id": "M-1"}}``.
"""
from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from . import audit, jobqueue
from .errors import Invalid
from .models import (
    InstanceParty,
    InstanceStatus,
    Job,
    JobStatus,
    MessageSubscription,
    PendingMessage,
    ProcessInstance,
    SignalSubscription,
    User,
    utcnow,
)
from .parties import Actor
from .runtime import RunOutcome

JOB_KIND = "message"
SIGNAL_JOB_KIND = "signal"

Correlations = dict[str, Any]


# --- correlation ---------------------------------------------------------------------------------

def correlates(message_keys: Correlations | None, subscription: Correlations | None) -> bool:
    """Does a message with ``message_keys`` correlate with a catch holding ``subscription``?

    The rule (a stricter form of SpiffWorkflow's "any key matches, or the receiver has no
    correlations yet", so Spiff always accepts what this accepts):

    1. every correlation key present in both must have the same value (all its properties equal);
    2. when both carry keys, at least one key must be present in both;
    3. a catch with no correlations (none established yet, or no correlation properties at all)
       accepts any message of its name, and a message without keys matches on its name alone
       (rule 1 only), so it is refused as ambiguous when several instances wait for that name.
    """
    message_keys = message_keys or {}
    subscription = subscription or {}
    common = set(message_keys) & set(subscription)
    if any(message_keys[key] != subscription[key] for key in common):
        return False
    return not (message_keys and subscription and not common)


def keyed(message_keys: Correlations | None, subscription: Correlations | None) -> bool:
    """Did the message single the catch out by a correlation key (a key both have, equal values)?"""
    message_keys = message_keys or {}
    subscription = subscription or {}
    return correlates(message_keys, subscription) and bool(set(message_keys) & set(subscription))


def jsonable(value: Any) -> Any:
    """JSON-native copy of engine data (hazard 9): dates and UUIDs become strings, sets lists."""

    def default(obj: Any) -> Any:
        if isinstance(obj, (datetime, date)):
            return obj.isoformat()
        if isinstance(obj, UUID):
            return str(obj)
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        return str(obj)

    native: Any = json.loads(json.dumps(value, default=default))
    return native


def _canonical(name: str, correlations: Correlations) -> str:
    return json.dumps([name, correlations], sort_keys=True, separators=(",", ":"))


def check_keys(correlation_keys: Any) -> Correlations:
    if correlation_keys is None:
        return {}
    if not isinstance(correlation_keys, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in correlation_keys.items()
    ):
        raise Invalid(
            "Correlation keys are not valid",
            errors={"correlation_keys": ["Expected {key name: {property: value}}, "
                                         "e.g. {\"mobility\": {\"mobility_id\": \"M-1\"}}"]},
        )
    checked: Correlations = jsonable(correlation_keys)
    return checked


# --- what an instance waits for ------------------------------------------------------------------

@dataclass
class Catch:
    name: str
    correlations: Correlations
    definition: MessageEventDefinition


def waiting_catches(workflow: BpmnWorkflow) -> list[Catch]:
    """Message catches the instance waits on, with the correlations Spiff will check them against.

    Read from the same registry ``workflow.waiting_events()`` renders (event type
    ``MessageEventDefinition``, Spiff's and spiff's subclass alike), but by task, so the messages of
    an event-based gateway (a ``MultipleEventDefinition``) are seen and the definition is at hand.
    A catch without correlation properties accepts any message of its name: its correlations are {}.
    """
    found: list[Catch] = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition):
            candidates = list(definition.event_definitions)
        else:
            candidates = [definition]
        for item in candidates:
            if isinstance(item, MessageEventDefinition) and item.name:
                correlations = dict(task.workflow.correlations) if item.correlation_properties else {}
                found.append(Catch(item.name, jsonable(correlations), item))
    return found


# Per parsed spec object (specs are cached per deployed version, so this is computed once each).
_CATCHING: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_SUBSCRIPTIONS = select(MessageSubscription).where(MessageSubscription.instance_id == bindparam("instance_id"))


def _catches_messages(workflow: BpmnWorkflow) -> bool:
    """Whether the process (or anything it calls) can wait for a message at all.

    Most processes cannot: their saves then cost no query here.
    """
    found = _CATCHING.get(workflow.spec)
    if found is None:
        specs = [workflow.spec, *(workflow.subprocess_specs or {}).values()]
        found = any(_is_message_catch(task_spec) for spec in specs for task_spec in spec.task_specs.values())
        _CATCHING[workflow.spec] = found
    return found


def _is_message_catch(task_spec: Any) -> bool:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return any(isinstance(d, MessageEventDefinition) for d in definition.event_definitions)
    return isinstance(definition, MessageEventDefinition) and isinstance(task_spec, CatchingEvent)


def on_save(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, outcome: RunOutcome) -> None:
    """Called by execution.save in the same unit of work: sync subscriptions, route thrown messages."""
    # A migration (definition changed in this unit of work) may leave rows of the old version behind.
    if _catches_messages(workflow) or sa_inspect(instance).attrs.definition_id.history.has_changes():
        _sync_subscriptions(session, instance, workflow)
    for event in outcome.thrown_messages:
        definition = event.event_definition
        jobqueue.add(session, kind=JOB_KIND, payload={
            "name": definition.name,
            "correlation_keys": jsonable(event.correlations or {}),
            "payload": jsonable(event.payload if event.payload is not None else {}),
            "source_instance_id": instance.id,
        })
        audit.record(session, actor_id=None, action="message.thrown", instance_id=instance.id,
                     name=definition.name, correlation_keys=jsonable(event.correlations or {}))
    if _catches_signals(workflow) or sa_inspect(instance).attrs.definition_id.history.has_changes():
        _sync_signal_subscriptions(session, instance, workflow)
    for event in outcome.thrown_signals:
        # Like a thrown message: the receivers change in their own units of work, through the worker.
        payload = jsonable(event.payload) if event.payload is not None else None
        jobqueue.add(session, kind=SIGNAL_JOB_KIND, payload={
            "name": event.event_definition.name, "payload": payload, "source_instance_id": instance.id})
        audit.record(session, actor_id=None, action="signal.thrown", instance_id=instance.id,
                     name=event.event_definition.name)


# --- signals -------------------------------------------------------------------------------------

@dataclass
class SignalCatch:
    name: str
    definition: SignalEventDefinition


def waiting_signals(workflow: BpmnWorkflow) -> list[SignalCatch]:
    """Signal catches the instance waits on (an event-based gateway's included)."""
    found: list[SignalCatch] = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        items = list(definition.event_definitions) if isinstance(definition, MultipleEventDefinition) else [definition]
        found.extend(SignalCatch(item.name, item) for item in items
                     if isinstance(item, SignalEventDefinition) and item.name)
    return found


_CATCHING_SIGNALS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_SIGNAL_ROWS = select(SignalSubscription).where(SignalSubscription.instance_id == bindparam("instance_id"))


def _catches_signals(workflow: BpmnWorkflow) -> bool:
    """Whether the process (or anything it calls) can wait for a signal; computed once per spec."""
    found = _CATCHING_SIGNALS.get(workflow.spec)
    if found is None:
        specs = [workflow.spec, *(workflow.subprocess_specs or {}).values()]
        found = any(_is_signal_catch(task_spec) for spec in specs for task_spec in spec.task_specs.values())
        _CATCHING_SIGNALS[workflow.spec] = found
    return found


def _is_signal_catch(task_spec: Any) -> bool:
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return any(isinstance(d, SignalEventDefinition) for d in definition.event_definitions)
    return isinstance(definition, SignalEventDefinition) and isinstance(task_spec, CatchingEvent)


def _sync_signal_subscriptions(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """One row per signal name the instance waits for while it is active; none otherwise."""
    wanted = {c.name for c in waiting_signals(workflow)} if instance.status in InstanceStatus.ACTIVE else set()
    with session.no_autoflush:
        rows = [r for r in session.scalars(_SIGNAL_ROWS, {"instance_id": instance.id}) if r not in session.deleted]
        rows += [o for o in session.new if isinstance(o, SignalSubscription) and o.instance_id == instance.id]
    have: set[str] = set()
    for row in rows:
        if row.name in wanted and row.name not in have:
            have.add(row.name)
        elif row in session.new:
            session.expunge(row)
        else:
            session.delete(row)
    for name in sorted(wanted - have):
        session.add(SignalSubscription(instance_id=instance.id, name=name))


def _sync_subscriptions(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Make the instance's subscription rows match its waiting catches (none unless it is active)."""
    wanted: dict[str, tuple[str, Correlations]] = {}
    if instance.status in InstanceStatus.ACTIVE:
        for catch in waiting_catches(workflow):
            wanted.setdefault(_canonical(catch.name, catch.correlations), (catch.name, catch.correlations))
    with session.no_autoflush:
        # One flush at commit (as execution.save wants): rows added earlier in this unit of work are
        # not in the database yet, so they are taken from the session, deleted ones left out.
        rows = [r for r in session.scalars(_SUBSCRIPTIONS, {"instance_id": instance.id})
                if r not in session.deleted]
        rows += [o for o in session.new if isinstance(o, MessageSubscription) and o.instance_id == instance.id]
    have: dict[str, MessageSubscription] = {}
    for row in rows:
        key = _canonical(row.name, row.correlations or {})
        if key in wanted and key not in have:
            have[key] = row
        elif row in session.new:
            session.expunge(row)
        else:
            session.delete(row)
    for key, (name, correlations) in wanted.items():
        if key not in have:
            session.add(MessageSubscription(instance_id=instance.id, name=name, correlations=correlations))
    if wanted:
        _schedule_kept(session, instance, list(wanted.values()))


def _schedule_kept(session: Session, instance: ProcessInstance, wanted: list[tuple[str, Correlations]]) -> None:
    """Enqueue delivery of the oldest kept, unexpired message matching each subscription.

    Checked on every save of a waiting instance, not only when a subscription is new: a loop may
    wait again for the same message with the same correlations, and a resumed instance for what was
    kept while it was suspended. A message already queued for this instance is not queued twice.
    """
    names = {name for name, _ in wanted}
    with session.no_autoflush:
        kept = list(session.scalars(
            select(PendingMessage)
            .where(PendingMessage.name.in_(names), PendingMessage.delivered_at.is_(None),
                   PendingMessage.expires_at > utcnow())
            .order_by(PendingMessage.id)
        ))
        if not kept:
            return
        scheduled = {
            (job.payload or {}).get("pending_message_id")
            for job in session.scalars(select(Job).where(
                Job.kind == JOB_KIND, Job.instance_id == instance.id,
                Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING))))
        }
        scheduled |= {(o.payload or {}).get("pending_message_id") for o in session.new
                      if isinstance(o, Job) and o.kind == JOB_KIND and o.instance_id == instance.id}
        for name, correlations in wanted:
            for message in kept:
                if message.name != name or message.source_instance_id == instance.id:
                    continue
                if not correlates(message.correlation_keys, correlations):
                    continue
                if not may_reach(sender_of(session, message.sender_id), instance):
                    continue
                if not in_context(session, message.source_instance_id, instance.id,
                                   message.correlation_keys, correlations):
                    continue
                if message.id not in scheduled:
                    scheduled.add(message.id)
                    jobqueue.add(session, kind=JOB_KIND, instance_id=instance.id,
                                 payload={"pending_message_id": message.id})
                break


# --- who may reach whom --------------------------------------------------------------------------

def sender_of(session: Session, user_id: int | None) -> Actor | None:
    """The Actor a kept message was sent by; None for the platform (messages thrown by instances)."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return Actor(user_id=-1, email="", is_admin=False)  # a party of nothing: reaches nobody
    return Actor.of(user)


def may_reach(actor: Actor | None, instance: ProcessInstance) -> bool:
    if actor is None or actor.is_admin:
        return True
    return any(
        p.user_id == actor.user_id or (p.organisation_id is not None and p.organisation_id in actor.organisation_ids)
        for p in instance.parties
    )


Party = tuple[int | None, int | None]


def parties_of(session: Session, instance_ids: list[str]) -> dict[str, set[Party]]:
    """The (organisation id, user id) pairs bound in each instance, whatever their roles."""
    found: dict[str, set[Party]] = {i: set() for i in instance_ids}
    if instance_ids:
        rows = session.execute(select(InstanceParty.instance_id, InstanceParty.organisation_id, InstanceParty.user_id)
                               .where(InstanceParty.instance_id.in_(instance_ids)))
        for instance_id, org_id, user_id in rows:
            found[instance_id].add((org_id, user_id))
    return found


def within(sender: set[Party], receiver: set[Party]) -> bool:
    """The receiver's parties are all parties of the sender: the message tells no one anything new."""
    return receiver <= sender


def in_context(session: Session, source_instance_id: str | None, receiver_id: str,
                message_keys: Correlations | None, subscription: Correlations | None) -> bool:
    """May a message from ``source_instance_id`` (None: not from an instance) reach this catch?"""
    if source_instance_id is None or keyed(message_keys, subscription):
        return True
    parties = parties_of(session, [source_instance_id, receiver_id])
    return within(parties[source_instance_id], parties[receiver_id])
