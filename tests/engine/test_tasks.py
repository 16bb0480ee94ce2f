"""engine/tasks.py: a party's tasks as SQL, a task with its form, completion validated, all or nothing."""
from __future__ import annotations

import json
from typing import Any

import pytest

from bench.generate import sequential_process
from engine import instances, tasks
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import InstanceStatus, ProcessInstance, TaskState
from engine.parties import Actor
from tests.support.bundles import process, user_task
from tests.support.engine import deploy, row
from tests.support.statements import counted
from tests.support.two_lane import PROPOSAL, deploy_two_lane, ready_task, start_two_lane


@pytest.fixture
def two_lane(db: Database, orgs: dict[str, Any]) -> str:
    deploy_two_lane(db)
    return start_two_lane(db, orgs["sender"], orgs, business_key="M-1")


def complete(db: Database, actor: Actor, task_id: str, data: dict[str, Any], **kw: Any) -> None:
    with db.transaction() as s:
        tasks.complete(s, actor=actor, task_id=task_id, data=data, **kw)


def test_a_task_exists_only_for_its_party_and_admins(db: Database, orgs: dict[str, Any], admin: Actor,
                                                     two_lane: str) -> None:
    task = ready_task(db, two_lane)
    with db.transaction(write=False) as s:
        assert tasks.get(s, actor=orgs["sender"], task_id=task.id).bpmn_id == "propose"
        assert tasks.get(s, actor=admin, task_id=task.id).id == task.id
        for stranger in (orgs["host"], orgs["outsider"]):
            with pytest.raises(NotFound):
                tasks.get(s, actor=stranger, task_id=task.id)
        assert [t.id for t in tasks.list_for(s, actor=orgs["sender"]).items] == [task.id]
        assert tasks.list_for(s, actor=orgs["host"]).items == []
        assert tasks.list_for(s, actor=admin).items == []  # an admin's inbox is what is assigned to them
        with pytest.raises(Invalid):
            tasks.list_for(s, actor=orgs["sender"], state="lost")


def test_the_task_detail_has_its_schema_and_only_its_forms_current_values(
        db: Database, orgs: dict[str, Any], two_lane: str) -> None:
    task = ready_task(db, two_lane)
    with db.transaction(write=False) as s:
        shown = tasks.detail(s, actor=orgs["sender"], task_id=task.id)
    assert shown["task"].id == task.id
    assert shown["form"]["values"] == {}
    assert set(shown["form"]["schema"]["required"]) == {"placement_title", "start_date", "weeks"}


def test_an_invalid_form_changes_nothing_and_a_valid_one_moves_the_instance_on(
        db: Database, orgs: dict[str, Any], two_lane: str) -> None:
    task = ready_task(db, two_lane)
    with pytest.raises(Invalid) as refused:
        complete(db, orgs["sender"], task.id, {"placement_title": "x", "weeks": 99})
    assert set(refused.value.errors) == {"placement_title", "weeks", "start_date"}
    assert ready_task(db, two_lane).id == task.id
    complete(db, orgs["sender"], task.id, PROPOSAL)
    nxt = ready_task(db, two_lane)
    assert nxt.bpmn_id == "review"
    assert nxt.organisation_id == orgs["hosting"]
    with db.transaction(write=False) as s:
        done = tasks.get(s, actor=orgs["sender"], task_id=task.id)
        assert (done.state, done.completed_on_behalf) == (TaskState.COMPLETED, False)
        assert tasks.detail(s, actor=orgs["host"], task_id=nxt.id)["form"]["values"] == {}  # no leak of the proposal


def test_another_party_may_not_complete_and_an_admin_only_on_behalf(db: Database, admin: Actor, two_lane: str) -> None:
    task = ready_task(db, two_lane)
    with pytest.raises(Forbidden, match="on_behalf"):
        complete(db, admin, task.id, PROPOSAL)
    complete(db, admin, task.id, PROPOSAL, on_behalf=True)
    with db.transaction(write=False) as s:
        assert tasks.get(s, actor=admin, task_id=task.id).completed_on_behalf is True
    with pytest.raises(Conflict, match="already completed"):
        complete(db, admin, task.id, PROPOSAL, on_behalf=True)


def test_a_task_of_a_suspended_instance_cannot_be_completed(db: Database, orgs: dict[str, Any], two_lane: str) -> None:
    task = ready_task(db, two_lane)
    with db.transaction() as s:
        row(s, ProcessInstance, two_lane).status = InstanceStatus.SUSPENDED
    with pytest.raises(Conflict, match="suspended"):
        complete(db, orgs["sender"], task.id, PROPOSAL)


def test_only_the_bound_party_is_an_assignee(db: Database, orgs: dict[str, Any], admin: Actor, two_lane: str) -> None:
    task = ready_task(db, two_lane)
    assert tasks.is_assignee(orgs["sender"], task)
    assert not tasks.is_assignee(orgs["host"], task)
    assert not tasks.is_assignee(admin, task)
    assert tasks.can_see(admin, task)


COLOUR_FORM = json.dumps({"type": "object", "required": ["colour"], "properties": {
    "note": {"type": "string"},
    "colour": {"type": "string", "anyOf": ["options_from_task_data_var:colours"]}}}).encode()
COLOUR_UI = json.dumps({"ui:order": ["colour", "note"], "note": {"ui:widget": "textarea"}}).encode()


def _colour_process() -> bytes:
    script = ('<bpmn:scriptTask id="offer"><bpmn:script>colours = [{"value": "blue", "label": "Blue"}]'
              "</bpmn:script></bpmn:scriptTask>")
    return process("colour", [("offer", script), ("pick", user_task(
        "pick", form="colour.json", formUiSchemaFilename="colour-uischema.json"))])


def test_a_spiff_arena_form_shows_task_data_choices_and_its_ui_schema(db: Database, admin: Actor) -> None:
    deploy(db, {"colour.bpmn": _colour_process(), "colour.json": COLOUR_FORM, "colour-uischema.json": COLOUR_UI})
    with db.transaction() as s:
        iid = instances.start(s, actor=admin, process_key="colour", parties={}).id
    task = ready_task(db, iid)
    assert task.user_id == admin.user_id  # a process without lanes: the initiator's task
    with db.transaction(write=False) as s:
        form = tasks.detail(s, actor=admin, task_id=task.id)["form"]
    assert form["schema"]["properties"]["colour"]["anyOf"] == [{"const": "blue", "title": "Blue"}]
    assert form["ui_schema"] == json.loads(COLOUR_UI)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        tasks.complete(s, actor=admin, task_id=task.id, data={"colour": "red"})
    assert "colour" in refused.value.errors
    with db.transaction() as s:
        tasks.complete(s, actor=admin, task_id=task.id, data={"colour": "blue"})
        assert row(s, ProcessInstance, iid).status == InstanceStatus.COMPLETED


def test_a_completion_sends_at_most_six_statements(db: Database, orgs: dict[str, Any]) -> None:
    """Issue 15: one locked read (instance, definition, parties, ready tasks), then the writes (audit
    rows in one INSERT, the task, the next task, its notification, the instance): six in all."""
    deploy(db, {"steps.bpmn": sequential_process("steps", 4, lanes=("Sending organisation",))})
    with db.transaction() as s:
        iid = instances.start(s, actor=orgs["sender"], process_key="steps",
                              parties={"sending": orgs["sending"]}).id
    complete(db, orgs["sender"], ready_task(db, iid).id, {})  # caches (spec) are warm from now on
    task = ready_task(db, iid)
    with counted(db.engine) as statements, db.transaction() as s:
        tasks.complete(s, actor=orgs["sender"], task_id=task.id, data={})
    sent = [text for text in statements if not text.startswith("BEGIN")]  # SQLite's own BEGIN IMMEDIATE
    if db.is_sqlite:  # SQLite has no multi-row INSERT ... RETURNING for the ORM: one audit INSERT per row
        audit_rows = [text for text in sent if text.startswith("INSERT INTO audit_events")]
        sent = [text for text in sent if text not in audit_rows] + audit_rows[:1]
    assert len(sent) <= 6, "\n".join(t[:150] for t in sent)
    assert ready_task(db, iid).bpmn_id == "task_2"
