"""engine/instances.py: starts (bindings, start rules, checks), incidents instead of silent errors, process data."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.generate import error_end_process, script_process, sequential_process
from engine import deployments, instances, jobs, messages, runtime, tasks
from engine.bundle import StartRule
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.execution import open_workflow
from engine.models import AuditEvent, Incident, InstanceStatus, MessageSubscription, ProcessDefinition, ProcessInstance
from engine.parties import Actor
from tests.support.bpmn import wrap
from tests.support.engine import actor_for, deploy, row
from tests.support.factories import make_org, make_user


def start_lane_less(db: Database, admin: Actor, key: str, **kw: Any) -> Any:
    with db.transaction() as s:
        return instances.start(s, actor=admin, process_key=key, parties={}, **kw)


def test_unhandled_error_end_event_puts_instance_in_error_with_incident(db: Database, admin: Actor) -> None:
    deploy(db, {"e.bpmn": error_end_process("e")})
    inst = start_lane_less(db, admin, "e")
    assert inst.status == InstanceStatus.ERROR
    with db.transaction(write=False) as s:
        incidents = list(s.scalars(select(Incident).where(Incident.instance_id == inst.id)))
        assert [i.kind for i in incidents] == ["error"]
        assert "DOCS_MISSING" in incidents[0].message
        # the engine did not silently carry on to the next user task
        assert instances.ready_tasks(s, inst) == []


def test_sandbox_escape_in_a_script_task_becomes_an_incident(db: Database, admin: Actor) -> None:
    escape = ("x = [c for c in ().__class__.__base__.__subclasses__() "
              "if c.__name__ == '_wrap_close'][0].__init__.__globals__['environ']")
    deploy(db, {"s.bpmn": script_process("s", escape)})
    inst = start_lane_less(db, admin, "s")
    assert inst.status == InstanceStatus.ERROR
    with db.transaction(write=False) as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == inst.id)).one()
        assert incident.kind == "script"
        assert incident.bpmn_id == "script"
        assert "__class__" in incident.message or "__subclasses__" in incident.message
        assert "PATH" not in inst.state
        assert "environ" not in inst.state.replace("'environ'", "")


def test_import_in_a_script_is_refused(db: Database, admin: Actor) -> None:
    deploy(db, {"i.bpmn": script_process("i", "import os\nx = os.getcwd()")})
    inst = start_lane_less(db, admin, "i")
    assert inst.status == InstanceStatus.ERROR


def test_script_writes_json_native_data_and_date_round_trips(db: Database, admin: Actor) -> None:
    deploy(db, {"d.bpmn": script_process("d", "start = date(2027, 3, 1)\nunits = {'U1'}\nn = len(units)")})
    inst = start_lane_less(db, admin, "d")
    assert inst.status == InstanceStatus.WAITING
    with db.transaction() as s:
        reloaded = instances.get(s, actor=admin, instance_id=inst.id)
        wf = open_workflow(reloaded)
        data = wf.get_tasks(state=16, manual=True)[0].data  # READY
        assert str(data["start"]) == "2027-03-01"
        assert data["units"] == ["U1"]
        assert data["n"] == 1


def test_restart_and_continue_an_instance(db_url: str, admin: Actor) -> None:
    first = Database(db_url)
    deploy(first, {"p.bpmn": sequential_process("p", 3, lanes=("Sending organisation",))})
    org = make_org(first)
    with first.transaction() as s:
        inst = instances.start(s, actor=admin, process_key="p", parties={"sending": org.id})
    first.dispose()
    runtime.SPEC_CACHE.clear()  # a new process has no cached specs

    second = Database(db_url)
    admin_member = Actor(admin.user_id, admin.email, True, frozenset({org.id}))
    for _ in range(3):
        with second.transaction() as s:
            ready = instances.ready_tasks(s, instances.get(s, actor=admin_member, instance_id=inst.id))
            assert len(ready) == 1
            tasks.complete(s, actor=admin_member, task_id=ready[0].id, data={})
    with second.transaction(write=False) as s:
        assert instances.get(s, actor=admin_member, instance_id=inst.id).status == InstanceStatus.COMPLETED
    second.dispose()


@pytest.mark.usefixtures("admin")
def test_audit_trail_is_append_only(db: Database) -> None:
    deploy(db, {"p.bpmn": sequential_process("p", 1, lanes=("Sending organisation",))})
    with db.transaction(write=False) as s:
        event_id = s.scalars(select(AuditEvent.id).where(AuditEvent.action == "definition.deployed")).first()
    assert event_id is not None
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        row(s, AuditEvent, event_id).action = "tampered"
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.delete(row(s, AuditEvent, event_id))
    with db.transaction(write=False) as s:
        assert row(s, AuditEvent, event_id).action == "definition.deployed"


def test_process_data_is_a_copy_of_what_the_instance_holds_for_its_parties_only(
    db: Database, admin: Actor, member: tuple[Actor, int]
) -> None:
    deploy(db, {"d.bpmn": script_process("d", "placement = {'host': 'Hotel Sol', 'weeks': 6}")})
    inst = start_lane_less(db, admin, "d", variables={"mobility_id": 7})
    with db.transaction(write=False) as s:
        data = instances.process_data(s, actor=admin, instance_id=inst.id)
        assert any(d.get("placement") == {"host": "Hotel Sol", "weeks": 6} for d in data)
        assert all(d.get("mobility_id") == 7 for d in data if d)
        for d in data:
            d.clear()  # a copy: the instance is untouched
        again = instances.process_data(s, actor=admin, instance_id=inst.id)
        assert any(d.get("placement") for d in again)
        outsider, _org = member
        with pytest.raises(NotFound):
            instances.process_data(s, actor=outsider, instance_id=inst.id)


# -- who may start a process ---------------------------------------------------------------------------
# The start rule a process declares in its BPMN, checked by engine.instances.start. Every start path
# ends there (the API, the pages, the domain services and messages that start a process), so these tests
# drive it directly and through ``messages.deliver``; tests/api/test_starts.py does the same over HTTP
# with the shipped ECVET processes.

def lanes_process(key: str, *, properties: dict[str, str] | None = None, start: str = "", extra: str = "") -> bytes:
    """Lanes sending, hosting and learner, one user task in each; `start` replaces the plain start
    event's definition (e.g. a message); `properties` are the process's own spiff properties."""
    declared = ""
    if properties:
        items = "".join(f'<spiffworkflow:property name="{n}" value="{v}"/>' for n, v in properties.items())
        declared = f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties>" \
                   f"</bpmn:extensionElements>"
    lanes = ('<bpmn:laneSet id="ls">'
             '<bpmn:lane id="l_s" name="Sending organisation"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
             '<bpmn:flowNodeRef>t_s</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
             '<bpmn:lane id="l_h" name="Hosting organisation"><bpmn:flowNodeRef>t_h</bpmn:flowNodeRef></bpmn:lane>'
             '<bpmn:lane id="l_l" name="Learner"><bpmn:flowNodeRef>t_l</bpmn:flowNodeRef></bpmn:lane>'
             '</bpmn:laneSet>')
    tasks = "".join(f'<bpmn:userTask id="t_{x}" name="Task {x}"><bpmn:incoming>f{i}</bpmn:incoming>'
                    f'<bpmn:outgoing>f{i + 1}</bpmn:outgoing></bpmn:userTask>' for i, x in enumerate("shl", 1))
    body = f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>{start}</bpmn:startEvent>{tasks}
<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t_s"/>
<bpmn:sequenceFlow id="f2" sourceRef="t_s" targetRef="t_h"/>
<bpmn:sequenceFlow id="f3" sourceRef="t_h" targetRef="t_l"/>
<bpmn:sequenceFlow id="f4" sourceRef="t_l" targetRef="end"/>{extra}"""
    xml = wrap(key, body, declared + lanes)
    if "messageRef=" in start:
        xml = xml.replace(b"<bpmn:process ", b'<bpmn:message id="m" name="go"/><bpmn:process ', 1)
    return xml


def thrower(key: str) -> bytes:
    """A process with the same three lanes that ends by throwing message 'go' (no correlation)."""
    return wrap(key, """
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:messageEventDefinition id="d_go" messageRef="m"><bpmn:extensionElements>
    <spiffworkflow:messagePayload>{"note": "from the sender"}</spiffworkflow:messagePayload>
  </bpmn:extensionElements></bpmn:messageEventDefinition>
</bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>""",
                 '<bpmn:laneSet id="ls"><bpmn:lane id="l_s" name="Sending organisation">'
                 '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
                 '<bpmn:lane id="l_h" name="Hosting organisation"/><bpmn:lane id="l_l" name="Learner"/>'
                 '</bpmn:laneSet>').replace(b"<bpmn:process ", b'<bpmn:message id="m" name="go"/><bpmn:process ', 1)


MESSAGE_START = '<bpmn:messageEventDefinition id="d_start" messageRef="m"/>'


class People:
    """A sending school, a hosting company and a learner with an account, plus an admin."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sending, self.hosting = make_org(db).id, make_org(db).id
        self.sender = actor_for(db, make_user(db, organisation_ids=[self.sending]).id)
        self.host = actor_for(db, make_user(db, organisation_ids=[self.hosting]).id)
        self.learner = actor_for(db, make_user(db).id)
        self.admin = actor_for(db, make_user(db, is_admin=True).id)

    def parties(self, **override: Any) -> dict[str, Any]:
        return {"sending": self.sending, "hosting": self.hosting, "learner": {"user_id": self.learner.user_id},
                **override}

    def start(self, actor: Actor, key: str, **kw: Any) -> str:
        with self.db.transaction() as s:
            return instances.start(s, actor=actor, process_key=key, parties=kw.pop("parties", self.parties()),
                                   **kw).id

    def count(self) -> int:
        with self.db.transaction(write=False) as s:
            return s.scalar(select(func.count(ProcessInstance.id))) or 0

    def started_events(self) -> int:
        with self.db.transaction(write=False) as s:
            return s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "instance.started")) or 0


@pytest.fixture
def people(db: Database) -> People:
    return People(db)


@pytest.fixture
def checks() -> Iterator[list[instances.StartRequest]]:
    """A start check 'test.record' that records what it sees, and refuses a variable 'refuse'."""
    seen: list[instances.StartRequest] = []

    @instances.start_check("test.record")
    def record(_session: Any, request: instances.StartRequest) -> None:
        seen.append(request)
        if request.variables.get("refuse"):
            raise Invalid("Refused by the domain", errors={"variables.refuse": ["No"]})

    yield seen
    instances.START_CHECKS.pop("test.record", None)


def refused_to_deploy(db: Database, files: dict[str, bytes]) -> list[dict[str, Any]]:
    with pytest.raises(Invalid) as refused:
        deploy(db, files)
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(ProcessDefinition.id))) == 0, "nothing of a refused bundle is stored"
    return list(refused.value.errors)


# --- the declaration -----------------------------------------------------------------------------

def test_the_declared_rule_is_read_from_the_deployed_bpmn(db: Database) -> None:
    deploy(db, {"a.bpmn": lanes_process("a", properties={"startableBy": "sending, hosting", "startCheck": "x.y"}),
                "b.bpmn": lanes_process("b", properties={"startableBy": "platform"}),
                "c.bpmn": lanes_process("c")})
    with db.transaction(write=False) as s:
        rules = {key: deployments.start_rule(s, deployments.get_definition(s, key=key)) for key in "abc"}
    assert rules == {"a": StartRule(roles=("sending", "hosting"), check="x.y"),
                     "b": StartRule(platform_only=True), "c": StartRule()}
    assert rules["c"].describe() == "any party that binds itself to one of its roles"


@pytest.mark.parametrize(("properties", "message"), [
    ({"startableBy": "sending, registrar"}, "names 'registrar', which is not a role of this process"),
    ({"startableBy": "platform, sending"}, "'platform' stands alone"),
    ({"startableBy": ""}, "must name role keys separated by commas"),
    ({"startableBy": "sending,,hosting"}, "must name role keys separated by commas"),
    ({"startableBy": "sending", "startCheck": "not a name!"}, "must name a registered start check"),
])
def test_a_start_rule_that_cannot_hold_is_refused_at_deploy(db: Database, properties: dict[str, str],
                                                            message: str) -> None:
    errors = refused_to_deploy(db, {"p.bpmn": lanes_process("p", properties=properties)})
    assert [(e["file"], e["element_id"]) for e in errors] == [("p.bpmn", "p")]
    assert message in errors[0]["message"]


def test_a_start_rule_declared_twice_is_refused(db: Database) -> None:
    xml = lanes_process("p", properties={"startableBy": "sending"}).replace(
        b'<spiffworkflow:property name="startableBy" value="sending"/>',
        b'<spiffworkflow:property name="startableBy" value="sending"/>'
        b'<spiffworkflow:property name="startableBy" value="hosting"/>')
    (error,) = refused_to_deploy(db, {"p.bpmn": xml})
    assert "declares 'startableBy' 2 times" in error["message"]


# --- startableBy ---------------------------------------------------------------------------------

def test_only_members_of_the_organisation_bound_to_a_starting_role_start_it(people: People) -> None:
    deploy(people.db, {"p.bpmn": lanes_process("p", properties={"startableBy": "sending"})})
    for outsider in (people.host, people.learner):  # bound to a role, but not to the one that starts
        with pytest.raises(Forbidden, match="members of the organisation bound to 'sending'"):
            people.start(outsider, "p", business_key="their-own")
    assert people.count() == 0
    assert people.started_events() == 0
    assert people.start(people.sender, "p")
    assert people.start(people.admin, "p", parties=people.parties(sending=people.hosting))  # admins: anything
    assert people.count() == 2


def test_a_starting_role_bound_to_a_person_lets_that_person_start(people: People) -> None:
    deploy(people.db, {"p.bpmn": lanes_process("p", properties={"startableBy": "learner, hosting"})})
    assert people.start(people.learner, "p")
    assert people.start(people.host, "p")
    with pytest.raises(Forbidden):
        people.start(people.sender, "p")
    other = actor_for(people.db, make_user(people.db).id)
    with pytest.raises(Forbidden):  # binding oneself to a role that does not start it does not help
        people.start(other, "p", parties=people.parties(sending={"user_id": other.user_id}))
    assert people.count() == 2


def test_a_platform_process_is_started_by_no_person_but_by_a_message_an_instance_throws(people: People) -> None:
    deploy(people.db, {"p.bpmn": lanes_process("p", properties={"startableBy": "platform"}, start=MESSAGE_START),
                       "t.bpmn": thrower("t")})
    for person in (people.sender, people.host, people.learner):
        with pytest.raises(Forbidden, match="platform only"):
            people.start(person, "p")
        with pytest.raises(Forbidden), people.db.transaction() as s:  # nor with the message itself
            messages.deliver(s, actor=person, name="go", correlation_keys=None, payload={},
                             parties=people.parties())
    assert people.count() == 0
    source = people.start(people.sender, "t")
    jobs.run_due(people.db)
    with people.db.transaction(write=False) as s:
        (started,) = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "p")).all()
        assert started.started_by is None
        assert {p.role: (p.organisation_id, p.user_id) for p in started.parties} == {
            "sending": (people.sending, None), "hosting": (people.hosting, None),
            "learner": (None, people.learner.user_id)}
        delivered = s.scalars(select(AuditEvent).where(AuditEvent.action == "message.delivered")).one()
        assert (delivered.instance_id, delivered.detail["source_instance_id"]) == (started.id, source)


def test_undeclared_anyone_bound_to_a_role_starts_it(people: People) -> None:
    deploy(people.db, {"p.bpmn": lanes_process("p")})
    stranger = actor_for(people.db, make_user(people.db, organisation_ids=[make_org(people.db).id]).id)
    with pytest.raises(Forbidden, match="your organisation takes part"):
        people.start(stranger, "p")
    for person in (people.sender, people.host, people.learner):
        assert people.start(person, "p")


def test_a_message_start_follows_the_same_rule(people: People) -> None:
    deploy(people.db, {"p.bpmn": lanes_process("p", properties={"startableBy": "sending"}, start=MESSAGE_START)})
    with pytest.raises(Forbidden), people.db.transaction() as s:
        messages.deliver(s, actor=people.host, name="go", correlation_keys=None, payload={"x": 1},
                         parties=people.parties())
    with people.db.transaction() as s:
        result = messages.deliver(s, actor=people.sender, name="go", correlation_keys=None, payload={"x": 1},
                                  parties=people.parties())
    assert result.started
    assert people.count() == 1


# --- startCheck ----------------------------------------------------------------------------------

def test_the_start_check_sees_the_request_and_its_refusal_starts_nothing(
    people: People, checks: list[instances.StartRequest]
) -> None:
    declared = {"startableBy": "sending", "startCheck": "test.record"}
    deploy(people.db, {"p.bpmn": lanes_process("p", properties=declared)})
    with pytest.raises(Invalid) as refused:
        people.start(people.sender, "p", variables={"refuse": True})
    assert refused.value.errors == {"variables.refuse": ["No"]}
    assert people.count() == 0
    assert people.started_events() == 0

    iid = people.start(people.sender, "p", business_key="k-1", variables={"n": 1})
    request = checks[-1]
    assert (request.actor, request.definition.key, request.business_key, dict(request.variables)) == \
        (people.sender, "p", "k-1", {"n": 1})
    assert dict(request.parties) == {"sending": instances.Bound(people.sending, None),
                                     "hosting": instances.Bound(people.hosting, None),
                                     "learner": instances.Bound(None, people.learner.user_id)}
    # the role rule comes first: a non-starter never reaches the domain check
    calls = len(checks)
    with pytest.raises(Forbidden):
        people.start(people.host, "p")
    assert len(checks) == calls
    # administrators start anything, without the domain's check
    assert people.start(people.admin, "p", variables={"refuse": True})
    assert len(checks) == calls
    assert people.count() == 2
    assert iid


def test_a_start_check_the_server_does_not_know_refuses_every_person(people: People) -> None:
    deploy(people.db, {"p.bpmn": lanes_process("p", properties={"startCheck": "nobody.registered.this"})})
    with pytest.raises(Conflict, match="nobody.registered.this"):
        people.start(people.sender, "p")
    assert people.count() == 0
    assert people.start(people.admin, "p")


def test_start_data_the_start_event_cannot_read_is_refused_not_a_server_error(people: People) -> None:
    """A start event correlated on a variable (processVariableCorrelation) evaluates it when the
    instance starts, outside SpiffWorkflow's task error handling: without it, 422 and nothing kept."""
    correlated = ('<bpmn:messageEventDefinition id="d_start" messageRef="m"><bpmn:extensionElements>'
                  '<spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>case_id</spiffworkflow:propertyId>'
                  '<spiffworkflow:expression>case_id</spiffworkflow:expression></spiffworkflow:processVariableCorrelation>'
                  '</bpmn:extensionElements></bpmn:messageEventDefinition>')
    xml = lanes_process("p", start=correlated).replace(b"<bpmn:process ", (
        b'<bpmn:correlationProperty id="case_id" name="Case"><bpmn:correlationPropertyRetrievalExpression '
        b'messageRef="m"><bpmn:formalExpression>case_id</bpmn:formalExpression>'
        b'</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty><bpmn:process '), 1)
    deploy(people.db, {"p.bpmn": xml})
    with pytest.raises(Invalid, match="cannot start with these variables"):
        people.start(people.admin, "p")
    assert people.count() == 0
    iid = people.start(people.admin, "p", variables={"case_id": 7})
    with people.db.transaction(write=False) as s:
        waits = s.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == iid)).one()
        assert (waits.name, waits.correlations) == ("go", {"MainCorrelationKey": {"case_id": 7}})


def per_task_process(key: str) -> bytes:
    """The owner prepares; then one review task per item of ``reviewers``, each naming its own party."""
    lanes = ('<bpmn:laneSet id="ls"><bpmn:lane id="L_owner" name="Owner"><bpmn:flowNodeRef>prepare</bpmn:flowNodeRef>'
             '</bpmn:lane><bpmn:lane id="L_rev" name="Reviewers"><bpmn:flowNodeRef>review</bpmn:flowNodeRef>'
             '</bpmn:lane></bpmn:laneSet>')
    body = ('<bpmn:startEvent id="s"/><bpmn:userTask id="prepare"/>'
            '<bpmn:userTask id="review"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="partyVariable" value="reviewer"/></spiffworkflow:properties>'
            '</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics>'
            '<bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>'
            '<bpmn:inputDataItem id="reviewer" name="reviewer"/>'
            '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask><bpmn:endEvent id="e"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="prepare"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="review"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="e"/>')
    return wrap(key, body, lanes)


def test_tasks_that_name_their_own_party_go_to_the_party_bound_under_their_role(db: Database, admin: Actor) -> None:
    """partyVariable: each multi-instance task lands with the organisation bound (after start, by code)
    as "<role>:<key>"; a name not bound under the task's own role hands it to nobody but admins."""
    (deployed,) = deploy(db, {"pt.bpmn": per_task_process("pt")})
    assert deployed.definition.per_task_roles == ["reviewers"]
    owner, first, second = make_org(db), make_org(db), make_org(db)
    with db.transaction() as s:
        inst = instances.start(s, actor=admin, process_key="pt", parties={"owner": owner.id})  # reviewers: later
        instance = row(s, ProcessInstance, inst.id)
        assert instances.bind_party(s, actor_id=None, instance=instance, role="reviewers", key="1",
                                    organisation_id=first.id) == "reviewers:1"
        instances.bind_party(s, actor_id=None, instance=instance, role="reviewers", key="2", organisation_id=second.id)
        instances.bind_party(s, actor_id=None, instance=instance, role="reviewers", key="2", organisation_id=second.id)
        with pytest.raises(Conflict):
            instances.bind_party(s, actor_id=None, instance=instance, role="reviewers", key="2",
                                 organisation_id=first.id)
        with pytest.raises(Invalid):
            instances.bind_party(s, actor_id=None, instance=instance, role="owner", key="x", organisation_id=first.id)
    with db.transaction() as s:
        (prepare,) = instances.ready_tasks(s, row(s, ProcessInstance, inst.id))
        tasks.complete(s, actor=admin, task_id=prepare.id, on_behalf=True,
                       data={"reviewers": ["reviewers:1", "reviewers:2", "owner", "reviewers:9"]})
    with db.transaction(write=False) as s:
        review = [t for t in instances.ready_tasks(s, row(s, ProcessInstance, inst.id)) if t.bpmn_id == "review"]
        assert sorted((t.organisation_id or 0) for t in review) == sorted([first.id, second.id, 0, 0])
        assert {t.role for t in review} == {"reviewers"}
        unbound = s.scalars(select(AuditEvent).where(AuditEvent.action == "task.party_unbound",
                                                     AuditEvent.instance_id == inst.id)).all()
        assert len(unbound) == 2, "the other lane's role and the name nobody bound"


def test_a_person_hands_every_role_and_ready_task_of_theirs_to_an_organisation(people: People) -> None:
    """hand_over_user_party: e.g. a guardian whose learner came of age; the organisation takes the lanes."""
    deploy(people.db, {"p.bpmn": lanes_process("p")})
    person = people.learner
    iid = people.start(people.admin, "p", parties=people.parties(sending={"user_id": person.user_id}))
    with people.db.transaction(write=False) as s:
        assert [t.bpmn_id for t in tasks.list_for(s, actor=person, instance_id=iid).items] == ["t_s"]
        assert tasks.list_for(s, actor=people.sender, instance_id=iid).items == []
    with people.db.transaction() as s:
        moved = instances.hand_over_user_party(s, actor_id=None, instance=s.get_one(ProcessInstance, iid),
                                               user_id=person.user_id, organisation_id=people.sending,
                                               reason="came of age")
    assert moved == ["learner", "sending"]
    with people.db.transaction(write=False) as s:
        assert tasks.list_for(s, actor=person, instance_id=iid).items == []
        assert [t.bpmn_id for t in tasks.list_for(s, actor=people.sender, instance_id=iid).items] == ["t_s"]
        with pytest.raises(NotFound):
            instances.get(s, actor=person, instance_id=iid)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "instance.party_handed_over")).one()
        assert (event.instance_id, event.detail["roles"], event.detail["reason"]) == (iid, moved, "came of age")
    with people.db.transaction() as s:  # nothing left to move: nothing audited
        assert instances.hand_over_user_party(s, actor_id=None, instance=s.get_one(ProcessInstance, iid),
                                              user_id=person.user_id, organisation_id=people.sending,
                                              reason="again") == []
