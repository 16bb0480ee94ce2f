"""BPMN messages between instances and from outside: subscriptions, correlation, delivery, keeping.

How a message travels (SpiffWorkflow 3.2.0, notes hazard 3):

* **Waiting.** Every save (:func:`on_save`, called by ``execution.save`` in the same unit of work)
  mirrors the instance's waiting message catches into ``message_subscriptions``: one row per
  (message name, correlations) the instance waits for, only while it is running or waiting.
* **Sending.** :func:`deliver` (``POST /api/messages``, and the worker for messages thrown by
  instances) finds the one instance whose subscription matches (see :func:`correlates`), loads it
  through ``engine.execution``, hands the message to Spiff with ``workflow.send_event`` (which
  raises when nothing catches it, unlike ``catch``) and runs the instance on. Without a waiting
  instance, the latest version of a process whose message start event has that name is started.
  Otherwise the message is kept (``pending_messages``) until it expires
  (setting ``message_ttl_seconds``, default 7 days).
* **Thrown.** A message an instance throws and does not catch itself leaves the run in
  ``RunOutcome.thrown_messages``; :func:`on_save` turns each into a ``message`` job, so the receiver
  is changed in its own unit of work by the worker, never in the sender's. It reaches only instances
  that share its sender's context (:func:`candidates`): a catch it singles out by a correlation key,
  or an instance whose parties are all the sender's. Deployment refuses catches of thrown messages
  that could not be singled out so (``engine.bundle``).
* **Kept, then caught.** When a save shows a subscription that a kept, unexpired message matches,
  :func:`on_save` enqueues a ``message`` job that delivers it.

Correlations have Spiff's own shape: ``{correlation key name: {property id: value}}``, e.g.
``{"mobility": {"mobility_id": "M-1"}}``. A catching instance has correlations once it threw or caught
a correlated message, or when its catch event computes them from its own data
(``spiffworkflow:processVariableCorrelation``). The message payload is what the receiver's
``bpmn:correlationPropertyRetrievalExpression`` reads, so it must carry those values too; its
``spiffworkflow:messageVariable`` names the variable the payload lands in.
"""
from __future__ import annotations

import copy
import json
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from . import audit, jobs
from .config import settings
from .errors import Conflict, Invalid, NotFound
from .models import (
    InstanceParty,
    InstanceStatus,
    Job,
    JobStatus,
    MessageSubscription,
    PendingMessage,
    ProcessDefinition,
    ProcessInstance,
    User,
    utcnow,
)
from .parties import Actor
from .runtime import RunOutcome

DEFAULT_TTL = timedelta(days=7)
JOB_KIND = "message"

Correlations = dict[str, Any]

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


class UndeliverableMessage(Exception):
    """A worker-side failure that retrying cannot fix: the job fails with this reason."""


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


def _jsonable(value: Any) -> Any:
    """JSON-native copy of engine data (hazard 9): dates and UUIDs become strings, sets lists."""

    def default(obj: Any) -> Any:
        if isinstance(obj, (datetime, date)):
            return obj.isoformat()
        if isinstance(obj, UUID):
            return str(obj)
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        return str(obj)

    return json.loads(json.dumps(value, default=default))


def _canonical(name: str, correlations: Correlations) -> str:
    return json.dumps([name, correlations], sort_keys=True, separators=(",", ":"))


def _check_keys(correlation_keys: Any) -> Correlations:
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
    return _jsonable(correlation_keys)


# --- what an instance waits for ------------------------------------------------------------------

@dataclass
class _Catch:
    name: str
    correlations: Correlations
    definition: MessageEventDefinition


def waiting_catches(workflow: BpmnWorkflow) -> list[_Catch]:
    """Message catches the instance waits on, with the correlations Spiff will check them against.

    Read from the same registry ``workflow.waiting_events()`` renders (event type
    ``MessageEventDefinition``, Spiff's and spiff's subclass alike), but by task, so the messages of
    an event-based gateway (a ``MultipleEventDefinition``) are seen and the definition is at hand.
    A catch without correlation properties accepts any message of its name: its correlations are {}.
    """
    found: list[_Catch] = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition):
            candidates = list(definition.event_definitions)
        else:
            candidates = [definition]
        for item in candidates:
            if isinstance(item, MessageEventDefinition) and item.name:
                correlations = dict(task.workflow.correlations) if item.correlation_properties else {}
                found.append(_Catch(item.name, _jsonable(correlations), item))
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
        jobs.enqueue(session, kind=JOB_KIND, payload={
            "name": definition.name,
            "correlation_keys": _jsonable(event.correlations or {}),
            "payload": _jsonable(event.payload if event.payload is not None else {}),
            "source_instance_id": instance.id,
        })
        audit.record(session, actor_id=None, action="message.thrown", instance_id=instance.id,
                     name=definition.name, correlation_keys=_jsonable(event.correlations or {}))


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
                if not _may_reach(session, _sender(session, message.sender_id), instance):
                    continue
                if not _in_context(session, message.source_instance_id, instance.id,
                                   message.correlation_keys, correlations):
                    continue
                if message.id not in scheduled:
                    scheduled.add(message.id)
                    jobs.enqueue(session, kind=JOB_KIND, instance_id=instance.id,
                                 payload={"pending_message_id": message.id})
                break


# --- who may reach whom --------------------------------------------------------------------------

def _sender(session: Session, user_id: int | None) -> Actor | None:
    """The Actor a kept message was sent by; None for the platform (messages thrown by instances)."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return Actor(user_id=-1, email="", is_admin=False)  # a party of nothing: reaches nobody
    return Actor.of(user)


def _party_clause(actor: Actor) -> Any:
    conditions = [InstanceParty.user_id == actor.user_id]
    if actor.organisation_ids:
        conditions.append(InstanceParty.organisation_id.in_(actor.organisation_ids))
    return exists().where(InstanceParty.instance_id == ProcessInstance.id, or_(*conditions))


def _may_reach(session: Session, actor: Actor | None, instance: ProcessInstance) -> bool:
    if actor is None or actor.is_admin:
        return True
    return any(
        p.user_id == actor.user_id or (p.organisation_id is not None and p.organisation_id in actor.organisation_ids)
        for p in instance.parties
    )


Party = tuple[int | None, int | None]


def _parties_of(session: Session, instance_ids: list[str]) -> dict[str, set[Party]]:
    """The (organisation id, user id) pairs bound in each instance, whatever their roles."""
    found: dict[str, set[Party]] = {i: set() for i in instance_ids}
    if instance_ids:
        rows = session.execute(select(InstanceParty.instance_id, InstanceParty.organisation_id, InstanceParty.user_id)
                               .where(InstanceParty.instance_id.in_(instance_ids)))
        for instance_id, org_id, user_id in rows:
            found[instance_id].add((org_id, user_id))
    return found


def _within(sender: set[Party], receiver: set[Party]) -> bool:
    """The receiver's parties are all parties of the sender: the message tells no one anything new."""
    return receiver <= sender


def _in_context(session: Session, source_instance_id: str | None, receiver_id: str,
                message_keys: Correlations | None, subscription: Correlations | None) -> bool:
    """May a message from ``source_instance_id`` (None: not from an instance) reach this catch?"""
    if source_instance_id is None or keyed(message_keys, subscription):
        return True
    parties = _parties_of(session, [source_instance_id, receiver_id])
    return _within(parties[source_instance_id], parties[receiver_id])


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
            parties = _parties_of(session, [source_instance_id, *loose])
            sender = parties.pop(source_instance_id)
            for instance_id, receiver in parties.items():
                if not _within(sender, receiver):
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
    keys = _check_keys(correlation_keys)
    # Any JSON value (a messagePayload expression may yield a list or a string); the API sends objects.
    data = _jsonable(payload if payload is not None else {})
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
        instance = _start(session, actor, definition, parties, data, source_instance_id)
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
    actor: Actor | None,
    definition: ProcessDefinition,
    parties: dict[str, Any] | None,
    payload: Any,
    source_instance_id: str | None,
) -> ProcessInstance:
    from . import instances

    if parties is None and actor is None and source_instance_id is not None:
        source = session.get(ProcessInstance, source_instance_id)
        roles = definition.roles or {}
        parties = {
            p.role: {"organisation_id": p.organisation_id} if p.organisation_id is not None else {"user_id": p.user_id}
            for p in (source.parties if source is not None else [])
            if p.role in roles
        }
    return instances.start(session, actor=actor or SYSTEM, process_key=definition.key, version=definition.version,
                           variables=payload if isinstance(payload, dict) else {}, parties=parties or {})


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
    from . import execution

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
    audit.record(session, actor_id=actor_id, action="message.delivered", instance_id=instance.id,
                 name=name, source_instance_id=source_instance_id, pending_message_id=pending_message_id,
                 correlation_keys=correlation_keys, started=started)
    execution.advance(session, instance, workflow, actor_id=actor_id)


def deliver_kept(session: Session, pending_message_id: int) -> str | None:
    """Deliver a kept message if exactly one reachable instance now waits for it; its id, or None.

    Expired or already delivered messages are never delivered. A receiver that cannot take the
    payload expires the message at once (audited as 'message.rejected'), so it is not retried forever.
    """
    message = session.get(PendingMessage, pending_message_id, with_for_update=True, populate_existing=True)
    now = utcnow()
    if message is None or message.delivered_at is not None or message.expires_at <= now:
        return None
    sender = _sender(session, message.sender_id)
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


@jobs.handler(JOB_KIND)
def run(session: Session, job: Job) -> None:
    """Worker: deliver a message an instance threw, or a kept message a new catch now matches."""
    data = job.payload or {}
    if data.get("pending_message_id") is not None:
        deliver_kept(session, int(data["pending_message_id"]))
        return
    try:
        deliver(session, actor=None, name=data["name"], correlation_keys=data.get("correlation_keys") or {},
                payload=data.get("payload"), source_instance_id=data.get("source_instance_id"),
                parties=data.get("parties"))
    except AmbiguousMessage as exc:
        # Not a race (a Conflict would be retried forever): the job fails with the reason.
        raise UndeliverableMessage(exc.message) from exc


def list_kept(
    session: Session, *, actor: Actor, include_expired: bool = False, cursor: str | None = None, limit: int = 50
) -> Any:
    """Kept messages not delivered yet (admins only), oldest first."""
    from .pagination import paginate
    from .parties import require_admin

    require_admin(actor)
    stmt = select(PendingMessage).where(PendingMessage.delivered_at.is_(None))
    if not include_expired:
        stmt = stmt.where(PendingMessage.expires_at > utcnow())
    return paginate(session, stmt, [PendingMessage.id], cursor=cursor, limit=limit)
