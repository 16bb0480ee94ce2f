"""engine/execution.py: the one path of a step: load, run, save, and the task projection kept in step."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from bench.generate import script_process, scripted_process, sequential_process
from engine import execution, instances, runtime, tasks
from engine.db import Database
from engine.models import AuditEvent, HumanTask, Incident, InstanceStatus, ProcessInstance, TaskState
from engine.parties import Actor
from engine.runtime import WORKFLOW_CACHE, IncidentInfo, RunOutcome
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


# -- the workflow this process committed last (issue 15: no restore from JSON between two changes) ---------

def _counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every restore of a workflow from its row's JSON, by instance state text."""
    loads: list[str] = []
    real = runtime.load_state

    def counted(state: str, *args: Any) -> Any:
        loads.append(state)
        return real(state, *args)

    monkeypatch.setattr(execution, "load_state", counted)
    return loads


def _last_data(instance: ProcessInstance) -> dict[str, Any]:
    last = execution.open_workflow(instance).last_task
    assert last is not None
    return dict(last.data)


def _steps(db: Database, orgs: dict[str, Any], n: int = 4, **variables: Any) -> str:
    deploy(db, {"steps.bpmn": sequential_process("steps", n, lanes=("Sending organisation",))})
    with db.transaction() as s:
        return instances.start(s, actor=orgs["sender"], process_key="steps", parties={"sending": orgs["sending"]},
                               variables=variables).id


def _complete_next(db: Database, actor: Actor, iid: str, data: dict[str, Any]) -> None:
    with db.transaction() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == iid,
                                                 HumanTask.state == TaskState.READY)).one()
        tasks.complete(s, actor=actor, task_id=task.id, data=data)


def test_a_change_continues_the_workflow_this_process_committed_without_restoring_it(
        db: Database, orgs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    WORKFLOW_CACHE.clear()
    iid = _steps(db, orgs)
    loads = _counting_loads(monkeypatch)
    _complete_next(db, orgs["sender"], iid, {"first": 1})
    _complete_next(db, orgs["sender"], iid, {"second": 2})
    assert loads == []  # the start's workflow, then the first completion's, were taken as they were
    with db.transaction(write=False) as s:
        data = _last_data(row(s, ProcessInstance, iid))
    assert (data["first"], data["second"]) == (1, 2)


def test_a_change_by_another_writer_is_never_overwritten_by_the_kept_workflow(
        db: Database, orgs: dict[str, Any], admin: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process (here: a change that does not go through this cache) saves the instance: the
    row's text is no longer what the kept workflow was saved as, so the next change restores the row."""
    WORKFLOW_CACHE.clear()
    iid = _steps(db, orgs)
    _complete_next(db, orgs["sender"], iid, {"first": 1})
    with db.transaction() as s:  # the other writer: its own restore, a variable, its own save
        instance = row(s, ProcessInstance, iid)
        workflow = execution.open_workflow(instance)
        workflow.get_tasks(state=SpiffState.READY, manual=True)[0].data["from_elsewhere"] = "kept"
        execution.save(s, instance, workflow, RunOutcome(), actor_id=admin.user_id)
    loads = _counting_loads(monkeypatch)
    _complete_next(db, orgs["sender"], iid, {"second": 2})
    assert len(loads) == 1
    with db.transaction(write=False) as s:
        data = _last_data(row(s, ProcessInstance, iid))
    assert (data["first"], data["second"], data["from_elsewhere"]) == (1, 2, "kept")


def test_a_rolled_back_change_keeps_nothing_and_the_next_one_restores_the_row(
        db: Database, orgs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    WORKFLOW_CACHE.clear()
    iid = _steps(db, orgs)
    first = ready_task(db, iid).id

    def fails_after_the_completion() -> None:
        with db.transaction() as s:
            tasks.complete(s, actor=orgs["sender"], task_id=first, data={"lost": True})
            raise RuntimeError("the unit of work fails after the completion")

    with pytest.raises(RuntimeError):
        fails_after_the_completion()
    assert len(WORKFLOW_CACHE) == 0  # the start's workflow was taken by the failed completion, and is gone
    with db.transaction() as s:  # a savepoint that rolls back inside a unit of work that commits
        savepoint = s.begin_nested()
        tasks.complete(s, actor=orgs["sender"], task_id=first, data={"lost": True})
        savepoint.rollback()
    assert len(WORKFLOW_CACHE) == 0
    loads = _counting_loads(monkeypatch)
    _complete_next(db, orgs["sender"], iid, {"first": 1})
    assert len(loads) == 1
    assert ready_task(db, iid).bpmn_id == "task_1"
    with db.transaction(write=False) as s:
        data = _last_data(row(s, ProcessInstance, iid))
    assert data["first"] == 1
    assert "lost" not in data


def _history(db: Database, iid: str) -> tuple[dict[str, Any], list[tuple[str, str | None]]]:
    """The instance's saved state without SpiffWorkflow's clock stamps, and its audit trail's actions."""
    with db.transaction(write=False) as s:
        state = json.loads(row(s, ProcessInstance, iid).state)
        events = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid).order_by(AuditEvent.id))
        trail = [(e.action, e.detail.get("bpmn_id")) for e in events]
    for task in state["tasks"].values():
        task.pop("last_state_change")
        task.pop("id")
        task["parent"] = task["children"] = None  # fresh UUIDs per run
    state.pop("last_task", None)
    state.pop("completed", None)
    return {"tasks": sorted(state["tasks"].values(), key=lambda t: (t["task_spec"], t["state"])),
            "data": state["data"]}, trail


def test_kept_workflows_save_exactly_what_restored_ones_do(db: Database, orgs: dict[str, Any]) -> None:
    """The same process driven twice, once always restoring from the row and once continuing the kept
    workflow, with a script task and a gateway on every step and nested data: the same saved history."""
    deploy(db, {"counted.bpmn": scripted_process("counted", 6, lanes=("Sending organisation",))})
    histories = []
    for restore_every_time in (True, False):
        WORKFLOW_CACHE.clear()
        with db.transaction() as s:
            iid = instances.start(s, actor=orgs["sender"], process_key="counted",
                                  parties={"sending": orgs["sending"]}, variables={"completed": 0}).id
        for step in range(6):
            if restore_every_time:
                WORKFLOW_CACHE.clear()
            _complete_next(db, orgs["sender"], iid, {"step": step, "nested": {"items": [step]}})
        histories.append(_history(db, iid))
    assert histories[0] == histories[1]
    assert histories[0][0]["tasks"]
    assert ("task.completed", "task_5") in histories[0][1]
