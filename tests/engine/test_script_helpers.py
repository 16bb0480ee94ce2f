"""engine/script_helpers.py (with engine/scripting.py's helper calls and printed output): what a script
reaches of its instance, answered by the parent process, and print() in the instance log."""
from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select

from engine import execution, instances
from engine.db import Database
from engine.models import HumanTask, Incident, ProcessInstance, User
from engine.parties import Actor
from tests.support.bundles import process, user_task
from tests.support.engine import deploy, row

SCRIPT = """
me = get_current_user()
print("started by", get_process_initiator_user()["email"])
print("members:", len(get_group_members("sending")))
env = get_env()
info = get_toplevel_process_info()
members = get_group_members("sending")
next_day = (datetime.datetime(2027, 3, 1) + datetime.timedelta(days=1)).isoformat()
same_day = datetime(2027, 3, 1).isoformat()
payload = json.loads(json.dumps({"a": [1, 2]}))
price = float(decimal.Decimal("1.10") + decimal.Decimal("2.20"))
pick = random.choice([7])
clock_runs = time.time() > 0
"""


def _scripted(script: str) -> bytes:
    node = f'<bpmn:scriptTask id="work"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>'
    return process("scripted", [("work", node), ("look", user_task("look"))],
                   lanes={"Sending organisation": ["scripted_start", "work", "look", "scripted_end"],
                          "Hosting organisation": []})


def _start(db: Database, actor: Actor, orgs: dict[str, Any]) -> str:
    with db.transaction() as s:
        return instances.start(s, actor=actor, process_key="scripted", business_key="M-7",
                               parties={"sending": orgs["sending"], "hosting": orgs["hosting"]}).id


def _data(db: Database, instance_id: str) -> dict[str, Any]:
    with db.transaction(write=False) as s:
        workflow = execution.open_workflow(row(s, ProcessInstance, instance_id))
        look = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        return dict(execution.find_task(workflow, look.id).data)


def test_helpers_modules_and_print_in_a_script(db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"scripted.bpmn": _scripted(SCRIPT)})
    sender: Actor = orgs["sender"]
    iid = _start(db, sender, orgs)
    data = _data(db, iid)
    with db.transaction(write=False) as s:
        email = s.scalar(select(User.email).where(User.id == sender.user_id))
        definition = row(s, ProcessInstance, iid).definition
        assert data["me"]["email"] == email
        assert data["env"] == "development"
        assert data["info"] == {"process_instance_id": iid, "process_key": "scripted",
                                "process_version": definition.version, "business_key": "M-7"}
        assert data["members"] == [email]
        assert (data["next_day"], data["same_day"]) == ("2027-03-02T00:00:00", "2027-03-01T00:00:00")
        assert (data["payload"], data["price"], data["pick"], data["clock_runs"]) == ({"a": [1, 2]}, 3.3, 7, True)
        instance = row(s, ProcessInstance, iid)
        by_admin = [e for e in instances.trail(s, instance, actor=admin) if e.action == "script.printed"]
        by_party = [e for e in instances.trail(s, instance, actor=sender) if e.action == "script.printed"]
    (event,) = by_admin
    assert event.detail["bpmn_id"] == "work"
    assert event.detail["printed"] == [f"started by {email}", "members: 1"]
    (withheld,) = by_party  # printed text may hold any party's data: its process owner reads it
    assert withheld.detail["printed"] is None


def test_a_helper_answers_only_about_its_own_instance(db: Database, orgs: dict[str, Any]) -> None:
    deploy(db, {"scripted.bpmn": _scripted(f"members = get_group_members({orgs['other']})")})
    iid = _start(db, orgs["sender"], orgs)
    with db.transaction(write=False) as s:
        assert row(s, ProcessInstance, iid).status == "error"
        incident = s.scalars(select(Incident).where(Incident.instance_id == iid)).one()
    assert "get_group_members()" in incident.message
    assert "neither a role of this instance nor an organisation bound to it" in incident.message
