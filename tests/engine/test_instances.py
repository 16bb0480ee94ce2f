"""Instances: incidents instead of silent errors, sandboxed scripts, restart, JSON-native data."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bench.generate import error_end_process, script_process, sequential_process
from engine import instances, runtime, tasks
from engine.db import Database
from engine.errors import NotFound
from engine.models import AuditEvent, Incident, InstanceStatus
from engine.parties import Actor
from tests.support.engine import deploy


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
        assert incident.kind == "script" and incident.bpmn_id == "script"
        assert "__class__" in incident.message or "__subclasses__" in incident.message
        assert "PATH" not in inst.state and "environ" not in inst.state.replace("'environ'", "")


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
        from engine.execution import open_workflow

        wf = open_workflow(reloaded)
        data = wf.get_tasks(state=16, manual=True)[0].data  # READY
        assert str(data["start"]) == "2027-03-01" and data["units"] == ["U1"] and data["n"] == 1


def test_restart_and_continue_an_instance(db_url: str, admin: Actor) -> None:
    first = Database(db_url)
    deploy(first, {"p.bpmn": sequential_process("p", 3, lanes=("Sending organisation",))})
    from tests.factories import make_org

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


def test_audit_trail_is_append_only(db: Database, admin: Actor) -> None:
    deploy(db, {"p.bpmn": sequential_process("p", 1, lanes=("Sending organisation",))})
    with db.transaction(write=False) as s:
        event_id = s.scalars(select(AuditEvent.id).where(AuditEvent.action == "definition.deployed")).first()
    assert event_id is not None
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.get(AuditEvent, event_id).action = "tampered"
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.delete(s.get(AuditEvent, event_id))
    with db.transaction(write=False) as s:
        assert s.get(AuditEvent, event_id).action == "definition.deployed"


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
