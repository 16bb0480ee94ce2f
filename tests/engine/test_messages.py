"""BPMN messages through the engine: correlation, keeping, message starts and instance-to-instance exchange."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import (  # type: ignore[attr-defined]  # its subclass keeps the name
    MessageEventDefinition,
)
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from engine import instances, messages
from engine.bundle import parse_bundle
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.execution import script_engine
from engine.models import (
    AuditEvent,
    Job,
    PendingMessage,
    ProcessDefinition,
    ProcessInstance,
)
from engine.parties import Actor
from tests.support.engine import deploy, row
from tests.support.messages import (
    CONFIRMED,
    T0,
    audit_actions,
    complete,
    data,
    files,
    handover_catcher,
    handover_thrower,
    keys,
    ready,
    run_message_jobs,
    send,
    start,
    subscriptions,
)
from tests.support.settings import environment

# --- the rule itself -----------------------------------------------------------------------------


def test_deployment_records_the_messages_that_start_a_process(db: Database) -> None:
    deploy(db, files("register_mobility", "await_confirmation", "announce_mobility"))
    with db.transaction(write=False) as s:
        rows = s.execute(select(ProcessDefinition.key, ProcessDefinition.message_starts)).all()
        starts: dict[str, list[str]] = {key: names for key, names in rows}
    # a message *thrown* by an end event (announce_mobility) starts nothing
    assert starts == {"register_mobility": ["mobility_registered"], "await_confirmation": [],
                      "announce_mobility": []}


# --- correlation into the right instance ---------------------------------------------------------

def test_a_message_correlates_into_the_right_one_of_several_waiting_instances(db: Database, orgs: dict) -> None:
    deploy(db, files("await_confirmation"))
    parties = {"sending": orgs["sending"]}
    ids = {m: start(db, orgs["sender"], "await_confirmation", parties, mobility_id=m) for m in ("M-1", "M-2", "M-3")}
    assert subscriptions(db, ids["M-2"]) == [(CONFIRMED, keys("M-2"))]

    result = send(db, orgs["sender"], CONFIRMED, correlation_keys=keys("M-2"),
                  payload={"mobility_id": "M-2", "confirmed_by": "Hotel Sol"})
    assert result == messages.DeliveryResult(ids["M-2"])

    assert ready(db, ids["M-2"]) == ["review"]
    assert data(db, ids["M-2"])["confirmation"] == {"mobility_id": "M-2", "confirmed_by": "Hotel Sol"}
    assert subscriptions(db, ids["M-2"]) == []
    assert ready(db, ids["M-1"]) == []
    assert ready(db, ids["M-3"]) == []
    assert subscriptions(db, ids["M-1"]) == [(CONFIRMED, keys("M-1"))]
    assert "message.delivered" in audit_actions(db, ids["M-2"])
    with db.transaction(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "message.delivered")).one()
        assert event.actor_id == orgs["sender"].user_id
        assert event.detail["name"] == CONFIRMED


def test_an_ambiguous_message_is_refused_and_changes_nothing(db: Database, admin: Actor, orgs: dict) -> None:
    deploy(db, files("await_confirmation"))
    parties = {"sending": orgs["sending"]}
    first = start(db, admin, "await_confirmation", parties, mobility_id="M-7")
    second = start(db, admin, "await_confirmation", parties, mobility_id="M-7")
    with pytest.raises(Conflict, match="ambiguous: 2 instances"):
        send(db, admin, CONFIRMED, correlation_keys=keys("M-7"), payload={"mobility_id": "M-7"})
    # without keys the name alone matches every waiting instance: just as ambiguous
    with pytest.raises(messages.AmbiguousMessage):
        send(db, admin, CONFIRMED, payload={"mobility_id": "M-7"})
    assert ready(db, first) == []
    assert ready(db, second) == []
    with db.transaction(write=False) as s:
        assert s.scalars(select(PendingMessage)).all() == []


def test_unmatched_message_with_keep_false_is_not_found_and_not_kept(db: Database, admin: Actor, orgs: dict) -> None:
    deploy(db, files("await_confirmation"))
    iid = start(db, admin, "await_confirmation", {"sending": orgs["sending"]}, mobility_id="M-1")
    with pytest.raises(NotFound):
        send(db, admin, CONFIRMED, correlation_keys=keys("M-404"), payload={"mobility_id": "M-404"}, keep=False)
    with pytest.raises(NotFound):
        send(db, admin, "no_such_message", keep=False)
    with db.transaction(write=False) as s:
        assert s.scalars(select(PendingMessage)).all() == []
    assert ready(db, iid) == []


def test_a_payload_without_the_correlation_property_is_invalid(db: Database, admin: Actor, orgs: dict) -> None:
    deploy(db, files("await_confirmation"))
    iid = start(db, admin, "await_confirmation", {"sending": orgs["sending"]}, mobility_id="M-1")
    with pytest.raises(Invalid, match="does not fit"):
        send(db, admin, CONFIRMED, correlation_keys=keys("M-1"), payload={"note": "no mobility id"})
    assert ready(db, iid) == []
    assert subscriptions(db, iid) == [(CONFIRMED, keys("M-1"))]


# --- kept messages -------------------------------------------------------------------------------


def test_an_expired_message_is_never_delivered(
    db: Database, orgs: dict, frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(monkeypatch, ECVET_MESSAGE_TTL_SECONDS="3600")
    deploy(db, files("await_confirmation"))
    result = send(db, orgs["sender"], CONFIRMED, correlation_keys=keys("M-5"), payload={"mobility_id": "M-5"})
    assert result.expires_at == T0 + timedelta(hours=1)
    with db.transaction(write=False) as s:
        assert [m.id for m in messages.list_kept(s, actor=Actor(0, "", is_admin=True)).items] == \
            [result.pending_message_id]

    frozen.advance(hours=1, seconds=1)
    iid = start(db, orgs["sender"], "await_confirmation", {"sending": orgs["sending"]}, mobility_id="M-5")
    run_message_jobs(db)
    assert ready(db, iid) == []
    assert subscriptions(db, iid) == [(CONFIRMED, keys("M-5"))]
    with db.transaction() as s:
        assert row(s, PendingMessage, result.pending_message_id).delivered_at is None
        assert messages.list_kept(s, actor=Actor(0, "", is_admin=True)).items == []
        # even a delivery job that was already queued refuses it once it has expired
        assert result.pending_message_id is not None
        assert messages.deliver_kept(s, result.pending_message_id) is None
    assert ready(db, iid) == []


def test_an_expired_message_queued_before_expiry_is_still_not_delivered(
    db: Database, orgs: dict, frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(monkeypatch, ECVET_MESSAGE_TTL_SECONDS="60")
    deploy(db, files("await_confirmation"))
    result = send(db, orgs["sender"], CONFIRMED, correlation_keys=keys("M-6"), payload={"mobility_id": "M-6"})
    iid = start(db, orgs["sender"], "await_confirmation", {"sending": orgs["sending"]}, mobility_id="M-6")
    with db.transaction(write=False) as s:
        assert s.scalars(select(Job).where(Job.kind == "message", Job.instance_id == iid)).one().status == "pending"
    frozen.advance(minutes=2)
    assert run_message_jobs(db) == 1
    assert ready(db, iid) == []
    with db.transaction(write=False) as s:
        assert row(s, PendingMessage, result.pending_message_id).delivered_at is None


# --- message start events ------------------------------------------------------------------------

def test_a_message_start_event_starts_a_process(db: Database, orgs: dict) -> None:
    deploy(db, files("register_mobility"))
    with pytest.raises(Invalid):  # every role needs a party
        send(db, orgs["sender"], "mobility_registered", payload={"learner": "Ana"})
    with pytest.raises(Forbidden):  # a non-admin must bind themselves
        send(db, orgs["outsider"], "mobility_registered", payload={"learner": "Ana"},
             parties={"sending": orgs["sending"]})

    result = send(db, orgs["sender"], "mobility_registered", payload={"learner": "Ana"},
                  parties={"sending": orgs["sending"]})
    assert result.started
    assert result.instance_id is not None
    assert ready(db, result.instance_id) == ["welcome"]
    assert data(db, result.instance_id)["registration"] == {"learner": "Ana"}
    assert data(db, result.instance_id)["learner"] == "Ana"  # the payload also seeds the variables
    assert subscriptions(db, result.instance_id) == []
    actions = audit_actions(db, result.instance_id)
    assert actions.index("instance.started") < actions.index("message.delivered")


def test_a_thrown_message_starts_a_process_with_the_senders_parties(db: Database, orgs: dict) -> None:
    deploy(db, files("register_mobility", "announce_mobility"))
    source = start(db, orgs["sender"], "announce_mobility", {"sending": orgs["sending"]}, learner="Bea")
    with db.transaction(write=False) as s:
        assert row(s, ProcessInstance, source).status == "completed"
        job = s.scalars(select(Job).where(Job.kind == "message")).one()
        assert job.payload["source_instance_id"] == source
        assert job.payload["name"] == "mobility_registered"
    assert run_message_jobs(db) == 1
    with db.transaction(write=False) as s:
        started = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "register_mobility")).one()
        assert {p.role: p.organisation_id for p in started.parties} == {"sending": orgs["sending"]}
        assert started.started_by is None
    assert data(db, started.id)["registration"] == {"learner": "Bea"}


def test_an_instance_a_thrown_message_starts_is_named_after_the_sender(db: Database, orgs: dict) -> None:
    """A review started by a mobility's message is about that mobility: it takes the sender's business key."""
    deploy(db, files("register_mobility", "announce_mobility"))
    with db.transaction() as s:
        instances.start(s, actor=orgs["sender"], process_key="announce_mobility", business_key="Bea — Hotel Sol",
                        parties={"sending": orgs["sending"]}, variables={"learner": "Bea"})
    assert run_message_jobs(db) == 1
    with db.transaction(write=False) as s:
        started = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "register_mobility")).one()
        assert started.business_key == "Bea — Hotel Sol"


# --- instance to instance ------------------------------------------------------------------------

def test_two_instances_exchange_messages_through_the_platform(db: Database, orgs: dict) -> None:
    deploy(db, files("request_placement", "host_placement"))
    hosting = {"hosting": orgs["hosting"]}
    host_1 = start(db, orgs["host"], "host_placement", hosting, mobility_id="M-1")
    host_2 = start(db, orgs["host"], "host_placement", hosting, mobility_id="M-2")
    assert subscriptions(db, host_1) == [("placement_offer", keys("M-1"))]

    school = start(db, orgs["sender"], "request_placement", {"sending": orgs["sending"]},
                   mobility_id="M-1", title="Commis chef", weeks=6)
    assert subscriptions(db, school) == [("placement_reply", keys("M-1"))]
    assert ready(db, host_1) == []  # the sender's unit of work never touched the receiver

    assert run_message_jobs(db) == 1
    assert ready(db, host_1) == ["answer"]
    assert data(db, host_1)["offer"] == {"mobility_id": "M-1", "title": "Commis chef", "weeks": 6}
    assert ready(db, host_2) == []
    assert subscriptions(db, host_2) == [("placement_offer", keys("M-2"))]
    with db.transaction(write=False) as s:
        delivered = s.scalars(select(AuditEvent).where(AuditEvent.action == "message.delivered")).one()
        assert delivered.instance_id == host_1
        assert delivered.detail["source_instance_id"] == school
        assert delivered.actor_id is None

    complete(db, orgs["host"], host_1, "answer", {"accepted": True})
    with db.transaction(write=False) as s:
        assert row(s, ProcessInstance, host_1).status == "completed"
    assert ready(db, school) == []
    assert run_message_jobs(db) == 1
    assert ready(db, school) == ["read_reply"]
    assert data(db, school)["reply"] == {"mobility_id": "M-1", "accepted": True}


def test_a_thrown_message_nobody_waits_for_is_kept_for_its_receiver(db: Database, orgs: dict) -> None:
    deploy(db, files("request_placement", "host_placement"))
    school = start(db, orgs["sender"], "request_placement", {"sending": orgs["sending"]},
                   mobility_id="M-3", title="Receptionist", weeks=4)
    assert run_message_jobs(db) == 1
    with db.transaction(write=False) as s:
        kept = s.scalars(select(PendingMessage)).one()
        assert (kept.name, kept.source_instance_id, kept.sender_id) == ("placement_offer", school, None)
    host = start(db, orgs["host"], "host_placement", {"hosting": orgs["hosting"]}, mobility_id="M-3")
    assert run_message_jobs(db) == 1
    assert ready(db, host) == ["answer"]
    assert data(db, host)["offer"]["title"] == "Receptionist"


def test_an_ambiguous_thrown_message_fails_its_job_with_the_reason(db: Database, orgs: dict) -> None:
    deploy(db, files("request_placement", "host_placement"))
    hosting = {"hosting": orgs["hosting"]}
    hosts = [start(db, orgs["host"], "host_placement", hosting, mobility_id="M-4") for _ in range(2)]
    start(db, orgs["sender"], "request_placement", {"sending": orgs["sending"]},
          mobility_id="M-4", title="Cook", weeks=2)
    assert run_message_jobs(db) == 1  # run once: not retried as if it were a race
    with db.transaction(write=False) as s:
        job = s.scalars(select(Job).where(Job.kind == "message")).one()
        assert job.status == "failed"
        assert "ambiguous: 2 instances" in (job.last_error or "")
        assert s.scalars(select(PendingMessage)).all() == []
    assert all(ready(db, h) == [] for h in hosts)


# --- who may send --------------------------------------------------------------------------------

def test_a_non_party_cannot_deliver_into_someone_elses_instance(db: Database, orgs: dict) -> None:
    deploy(db, files("await_confirmation"))
    parties = {"sending": orgs["sending"]}
    iid = start(db, orgs["sender"], "await_confirmation", parties, mobility_id="M-1")
    payload = {"mobility_id": "M-1"}
    for stranger in (orgs["outsider"], orgs["host"]):
        with pytest.raises(NotFound):
            send(db, stranger, CONFIRMED, correlation_keys=keys("M-1"), payload=payload, keep=False)
    # kept instead: it reaches neither this instance nor a later one the stranger is no party of
    kept = send(db, orgs["outsider"], CONFIRMED, correlation_keys=keys("M-2"), payload={"mobility_id": "M-2"})
    assert kept.kept
    later = start(db, orgs["sender"], "await_confirmation", parties, mobility_id="M-2")
    assert run_message_jobs(db) == 0
    assert ready(db, iid) == []
    assert ready(db, later) == []
    with db.transaction(write=False) as s:
        assert row(s, PendingMessage, kept.pending_message_id).delivered_at is None
    # the party itself may
    assert send(db, orgs["sender"], CONFIRMED, correlation_keys=keys("M-1"), payload=payload).instance_id == iid
    assert ready(db, iid) == ["review"]


# --- SpiffWorkflow 3.2.0 behaviour the delivery relies on (notes, hazard 3) ----------------------

def test_spiff_send_event_refuses_what_catch_would_echo_back_out() -> None:
    """send_event raises when nothing waits; catch() would quietly put the message back into
    get_events(), where the next run would route it out again as if this instance had thrown it.
    And spiff's message definition hands the payload over only through its messageVariable."""
    process = parse_bundle(files("await_confirmation")).processes[0]
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=script_engine())
    workflow.task_tree.data["mobility_id"] = "M-1"
    workflow.do_engine_steps()
    stray = BpmnEvent(MessageEventDefinition("nobody_waits"), payload={}, correlations={})
    with pytest.raises(WorkflowException, match="not waiting"):
        workflow.send_event(stray)
    assert workflow.get_events() == []
    workflow.catch(stray)
    assert [e.event_definition.name for e in workflow.get_events()] == ["nobody_waits"]

    [catch] = messages.waiting_catches(workflow)
    assert (catch.name, catch.correlations) == (CONFIRMED, keys("M-1"))
    # Spiff's own check: a key that disagrees is refused, whatever the payload says
    with pytest.raises(WorkflowException):
        workflow.send_event(BpmnEvent(catch.definition, {"mobility_id": "M-2"}, keys("M-2")))
    workflow.send_event(BpmnEvent(catch.definition, {"mobility_id": "M-1", "ok": True}, keys("M-1")))
    workflow.do_engine_steps()
    [review] = workflow.get_tasks(state=SpiffState.READY, manual=True)
    assert review.data["confirmation"] == {"mobility_id": "M-1", "ok": True}
    assert "ok" not in review.data  # not spread into the data: only the messageVariable holds it


# --- a message thrown by an instance stays within its sender's context ---------------------------

def test_a_thrown_message_reaches_an_uncorrelated_waiting_instance_only_within_the_senders_parties(
    db: Database, orgs: dict
) -> None:
    """The review hijack, in general: someone starts a process whose message start event waits with no
    correlation; a message another party's instance throws must not land in it."""
    deploy(db, files("register_mobility", "announce_mobility"))
    theirs = start(db, orgs["outsider"], "register_mobility", {"sending": orgs["other"]})
    assert subscriptions(db, theirs) == [("mobility_registered", {})]

    start(db, orgs["sender"], "announce_mobility", {"sending": orgs["sending"]}, learner="Cleo")
    assert run_message_jobs(db) == 1
    assert subscriptions(db, theirs) == [("mobility_registered", {})]
    assert ready(db, theirs) == []
    assert "message.delivered" not in audit_actions(db, theirs)
    with db.transaction(write=False) as s:  # the sender's message started its own instance instead
        (own,) = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "register_mobility",
                                                          ProcessInstance.id != theirs)).all()
        assert {p.role: p.organisation_id for p in own.parties} == {"sending": orgs["sending"]}
    assert data(db, own.id)["registration"] == {"learner": "Cleo"}

    # an uncorrelated instance of the sender's own parties shares its context: it takes the next one
    ours = start(db, orgs["sender"], "register_mobility", {"sending": orgs["sending"]})
    start(db, orgs["sender"], "announce_mobility", {"sending": orgs["sending"]}, learner="Dan")
    assert run_message_jobs(db) == 1
    assert ready(db, ours) == ["welcome"]
    assert data(db, ours)["registration"] == {"learner": "Dan"}
    assert ready(db, theirs) == []
    assert subscriptions(db, theirs) == [("mobility_registered", {})]


# --- deploy time: a catch of a message some process throws must correlate ------------------------

@pytest.mark.parametrize("catch", ["event", "receive"])
def test_an_uncorrelated_catch_of_a_thrown_message_is_refused_at_deploy(db: Database, catch: str) -> None:
    with pytest.raises(Invalid) as refused:
        deploy(db, {"notify.bpmn": handover_thrower(), "await_handover.bpmn": handover_catcher(catch)})
    (error,) = refused.value.errors
    assert (error["file"], error["element_id"]) == ("await_handover.bpmn", "wait")
    assert "waits for message 'handover', which process 'notify' throws, without a correlation" in error["message"]
    with db.transaction(write=False) as s:
        assert s.scalars(select(ProcessDefinition)).all() == []


def test_a_thrower_of_what_a_deployed_process_catches_uncorrelated_is_refused(db: Database) -> None:
    deploy(db, {"await_handover.bpmn": handover_catcher()})  # nobody throws it yet: messages from outside
    with pytest.raises(Invalid) as refused:
        deploy(db, {"notify.bpmn": handover_thrower()})
    (error,) = refused.value.errors
    assert (error["file"], error["element_id"]) == ("notify.bpmn", "end")
    assert "the deployed process 'await_handover' (await_handover.bpmn) waits for without a correlation" \
        in error["message"]


def test_a_catch_correlated_only_from_its_own_data_is_still_uncorrelated_for_spiff(db: Database) -> None:
    """SpiffWorkflow checks correlations only for a message with retrieval expressions: a
    processVariableCorrelation alone leaves the catch open to every message of its name."""
    half = handover_catcher().replace(
        b"<spiffworkflow:messageVariable>got</spiffworkflow:messageVariable>",
        b"<spiffworkflow:messageVariable>got</spiffworkflow:messageVariable><spiffworkflow:processVariableCorrelation>"
        b"<spiffworkflow:propertyId>note</spiffworkflow:propertyId><spiffworkflow:expression>note"
        b"</spiffworkflow:expression></spiffworkflow:processVariableCorrelation>")
    with pytest.raises(Invalid) as refused:
        deploy(db, {"notify.bpmn": handover_thrower(), "await_handover.bpmn": half})
    (error,) = refused.value.errors
    assert error["element_id"] == "wait"
    assert "without a correlation" in error["message"]


def test_a_plain_bpmn_message_payload_reaches_the_receivers_data(db: Database, orgs: dict[str, Any]) -> None:
    """A receive task without spiffworkflow:messageVariable (a plain bpmn:message model) gets the payload's
    fields in its data, as BPMN's own message event does (issue 11 item 8)."""
    deploy(db, {"await_handover.bpmn": handover_catcher("receive")})
    iid = start(db, orgs["sender"], "await_handover", {"sending": orgs["sending"]})
    send(db, orgs["sender"], "handover", payload={"note": "keys at the desk", "room": 12})
    assert ready(db, iid) == ["use"]
    assert data(db, iid)["note"] == "keys at the desk"
    assert data(db, iid)["room"] == 12
