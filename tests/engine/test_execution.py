"""engine/execution.py: the one path of a step: load, run, save, and the task projection kept in step."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bench.generate import script_process
from engine import execution, instances, tasks
from engine.db import Database
from engine.models import AuditEvent, HumanTask, Incident, InstanceStatus, ProcessInstance, TaskState
from engine.parties import Actor
from engine.runtime import IncidentInfo, RunOutcome
from engine.scripting import SandboxedEnvironment
from tests.support.bundles import process, user_task
from tests.support.engine import actor_for, deploy, row
from tests.support.factories import make_user
from tests.support.two_lane import PROPOSAL, deploy_two_lane, ready_task, start_two_lane

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_a_ready_user_task_is_projected_with_its_party_form_and_role(db: Database, orgs: dict[str, Any]) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    row = ready_task(db, iid)
    assert (row.bpmn_id, row.role, row.organisation_id, row.user_id, row.form) == \
        ("propose", "sending", orgs["sending"], None, "two_lane_propose.json")
    assert row.name
    assert row.lane == "Sending organisation"
    with db.transaction(write=False) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid)
                                               .order_by(AuditEvent.id))]
    assert actions[:3] == ["instance.started", "instance.status_changed", "task.created"]


def test_a_task_the_engine_no_longer_has_is_cancelled_in_the_projection(
        db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    ready = ready_task(db, iid)
    with db.transaction() as s:
        instance = row(s, ProcessInstance, iid)
        workflow = execution.open_workflow(instance)
        task = execution.find_task(workflow, ready.id)
        task.data.update(PROPOSAL)
        task.run()  # the engine moves on without the projection knowing...
        execution.sync_tasks(s, instance, workflow, actor_id=admin.user_id)  # ...until it is synced
    with db.transaction(write=False) as s:
        states = {t.bpmn_id: t.state for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == iid))}
    assert states == {"propose": TaskState.CANCELLED, "review": TaskState.READY}


def test_the_status_follows_the_engine_unless_an_operator_set_it() -> None:
    workflow_waiting = _fake(completed=False, ready=True)
    assert execution.compute_status(workflow_waiting, RunOutcome(), False) == InstanceStatus.WAITING
    assert execution.compute_status(_fake(completed=False, ready=False), RunOutcome(), False) == \
        InstanceStatus.RUNNING
    assert execution.compute_status(_fake(completed=True, ready=False), RunOutcome(), False) == \
        InstanceStatus.COMPLETED
    failed = RunOutcome(incidents=[IncidentInfo(kind="script", message="boom")])
    assert execution.compute_status(workflow_waiting, failed, False) == InstanceStatus.ERROR
    assert execution.compute_status(workflow_waiting, RunOutcome(), True) == InstanceStatus.ERROR
    for kept in (InstanceStatus.TERMINATED, InstanceStatus.SUSPENDED):
        assert execution.compute_status(workflow_waiting, failed, True, kept) == kept


def _fake(*, completed: bool, ready: bool) -> Any:
    """Stands in for a BpmnWorkflow where compute_status looks (typed Any: it is not one)."""
    return _FakeWorkflow(completed=completed, ready=ready)


class _FakeWorkflow:
    """What compute_status asks of a workflow: is it completed, does anything wait for a person."""

    def __init__(self, *, completed: bool, ready: bool) -> None:
        self._completed, self._ready = completed, ready

    def is_completed(self) -> bool:
        return self._completed

    def get_tasks(self, **_filters: Any) -> list[Any]:
        return [_ReadyTask()] if self._ready else []


class _ReadyTask:
    task_spec = object()  # not a service task: a person's


def test_an_incident_is_saved_with_its_audit_row_and_the_instance_in_error(db: Database, admin: Actor) -> None:
    deploy(db, {"div.bpmn": script_process("div", "share = 1 / 0")})
    with db.transaction() as s:
        iid = instances.start(s, actor=admin, process_key="div", parties={}).id
    with db.transaction(write=False) as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == iid)).one()
        raised = s.scalars(select(AuditEvent).where(AuditEvent.action == "incident.raised")).one()
        assert row(s, ProcessInstance, iid).status == InstanceStatus.ERROR
        assert execution.has_open_incident(s, iid)
    assert (incident.kind, incident.bpmn_id) == ("script", "script")
    assert raised.detail["message"] == incident.message
    assert raised.instance_id == iid


def test_find_task_answers_none_for_what_is_not_a_task_of_the_instance(db: Database, orgs: dict[str, Any]) -> None:
    deploy_two_lane(db)
    iid = start_two_lane(db, orgs["sender"], orgs)
    with db.transaction(write=False) as s:
        workflow = execution.open_workflow(row(s, ProcessInstance, iid))
    assert execution.find_task(workflow, "not-a-uuid") is None
    assert execution.find_task(workflow, "00000000-0000-0000-0000-000000000000") is None
    assert execution.find_task(workflow, ready_task(db, iid).id) is not None


def test_the_script_engine_is_made_once_until_configured_again() -> None:
    first = execution.script_engine()
    assert execution.script_engine() is first
    execution.configure(time_limit=0.5)
    try:
        second = execution.script_engine()
        assert second is not first
        assert isinstance(second.environment, SandboxedEnvironment)
        assert second.environment.time_limit == 0.5
    finally:
        execution.configure(time_limit=1.0)


def _owned_lane_process(owners: str) -> bytes:
    """Sending lane: a script names the lane's owners, then 'approve'; 'stray' sits outside every lane."""
    script = (f'<bpmn:scriptTask id="name_owners"><bpmn:script>lane_owners = {{"Sending organisation": {owners}}}'
              "</bpmn:script></bpmn:scriptTask>")
    return process("owned", [("name_owners", script), ("approve", user_task("approve")), ("stray", user_task("stray"))],
                   lanes={"Sending organisation": ["owned_start", "name_owners", "approve", "owned_end"],
                          "Hosting organisation": []})


def _ready_row(db: Database, instance_id: str) -> HumanTask:
    with db.transaction(write=False) as s:
        found = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                  HumanTask.state == TaskState.READY)).one()
        found.owners  # noqa: B018 - loaded while the session is open
        return found


def test_lane_owners_a_script_names_take_the_lane_and_outsiders_are_left_out(db: Database, orgs: dict[str, Any]
                                                                           ) -> None:
    colleague = make_user(db, organisation_ids=[orgs["sending"]])
    sender, outsider = orgs["sender"], orgs["outsider"]
    deploy(db, {"owned.bpmn": _owned_lane_process(f'["{colleague.email.upper()}", {outsider.user_id}]')})
    with db.transaction() as s:
        iid = instances.start(s, actor=sender, process_key="owned",
                              parties={"sending": orgs["sending"], "hosting": orgs["hosting"]}).id
    approve = _ready_row(db, iid)
    assert [o.user_id for o in approve.owners] == [colleague.id]
    with db.transaction(write=False) as s:
        assert [t.id for t in tasks.list_for(s, actor=actor_for(db, colleague.id)).items] == [approve.id]
        assert tasks.list_for(s, actor=sender).items == []  # the lane's other members no longer have it
        left_out = s.scalars(select(AuditEvent).where(AuditEvent.action == "task.owners_left_out")).one()
        assert left_out.detail["names"] == [str(outsider.user_id)]
    with db.transaction() as s:
        tasks.complete(s, actor=actor_for(db, colleague.id), task_id=approve.id, data={})
    # outside every named lane: the task of whoever started the instance
    stray = _ready_row(db, iid)
    assert (stray.bpmn_id, stray.role, stray.organisation_id, stray.user_id) == ("stray", None, None, sender.user_id)


def test_lane_owners_naming_nobody_of_the_party_leave_the_lane_to_its_party(db: Database, orgs: dict[str, Any]
                                                                           ) -> None:
    deploy(db, {"owned.bpmn": _owned_lane_process('["nobody@example.org"]')})
    with db.transaction() as s:
        iid = instances.start(s, actor=orgs["sender"], process_key="owned",
                              parties={"sending": orgs["sending"], "hosting": orgs["hosting"]}).id
    approve = _ready_row(db, iid)
    assert (approve.owners, approve.organisation_id) == ([], orgs["sending"])
