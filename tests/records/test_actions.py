"""MoU task actions, driven through a real two-lane BPMN process whose user tasks carry recordAction."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import records.actions  # noqa: F401  (registers the mou.* actions, as the app and worker do)
from engine import actions, deployments, instances, tasks
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.execution import open_workflow
from engine.models import HumanTask, TaskState
from engine.parties import Actor
from records import mou as mous
from records.models import Decision, Mou, MouApproval, MouStatus
from tests.records.factories import SIGNER, Party, make_party, mou_content
from tests.support.engine import actor_for
from tests.support.factories import make_user

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "records"


@dataclass
class Round:
    db: Database
    instance_id: str
    sender: Party
    host: Party

    def ready(self) -> HumanTask:
        with self.db.transaction(write=False) as s:
            (task,) = instances.ready_tasks(s, instances.get(s, actor=self.sender.actor, instance_id=self.instance_id))
            return task

    def complete(self, party: Party, data: dict[str, Any]) -> HumanTask:
        task = self.ready()
        with self.db.transaction() as s:
            return tasks.complete(s, actor=party.actor, task_id=task.id, data=data)

    def form_values(self, party: Party) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            return tasks.detail(s, actor=party.actor, task_id=self.ready().id)["form"]["values"]

    def data(self) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            workflow = open_workflow(instances.get(s, actor=self.sender.actor, instance_id=self.instance_id))
            return dict(workflow.last_task.data)

    def mou(self) -> tuple[str, int, int]:
        with self.db.transaction(write=False) as s:
            mou = s.get(Mou, self.data()["mou_id"])
            count = s.scalar(select(func.count(MouApproval.id)).where(MouApproval.mou_id == mou.id))
            return mou.status, mous.current_version(mou).number, count


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


@pytest.fixture
def round_(db: Database, admin: Actor) -> Round:
    files = {p.name: p.read_bytes() for p in FIXTURES.glob("mou_*.bpmn")}
    with db.transaction() as s:
        (deployed,) = deployments.deploy(s, actor=None, files=files, forms_dir=FIXTURES)
        assert deployed.definition.roles == {"sending": "Sending organisation", "hosting": "Hosting organisation"}
    sender, host = make_party(db, "NL", "ROC Amsterdam"), make_party(db, "BE", "Hotel Brussel")
    with db.transaction() as s:
        instance = instances.start(s, actor=admin, process_key="mou_round",
                                   parties={"sending": sender.org_id, "hosting": host.org_id})
    return Round(db, instance.id, sender, host)


def sign(values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The form sent back as it was filled in (the signer: the reader), with a position of the day.

    tests/fixtures/records/mou_sign.json is a form from before signers were accounts: it still asks
    for name, position and e-mail, and works because the platform fills them in for the reader."""
    return {"mou_hash": values["mou_hash"], "decision": Decision.APPROVED, "signer": {**values["signer"], **SIGNER},
            **extra}


def test_the_mou_actions_are_registered() -> None:
    assert {"mou.draft", "mou.submit", "mou.approve", "mou.reject"} <= set(actions.ACTIONS)


def test_draft_submit_and_sign_through_the_process(round_: Round) -> None:
    r = round_
    r.complete(r.sender, {"business_key": "MoU-NL-BE-1", **mou_content(r.sender, r.host)})
    data = r.data()
    assert (data["mou_version"], data["mou_status"]) == (1, MouStatus.DRAFT)
    assert data["mou_hash"] == mous.content_hash(mou_content(r.sender, r.host))

    r.complete(r.sender, {"confirmed": True})
    assert r.data()["mou_status"] == MouStatus.IN_APPROVAL

    values = r.form_values(r.sender)
    assert values["mou_hash"] == data["mou_hash"], "the sign form shows the hash of the text to sign"
    r.complete(r.sender, sign(values))
    assert r.mou() == (MouStatus.IN_APPROVAL, 1, 1)

    host_values = r.form_values(r.host)
    # The host's form names the host's member, never the sender's signer the process data carried.
    assert host_values["signer"] == {"name": r.host.name, "email": r.host.email, "position": "Coordinator"}
    assert r.data()["signer"] is None, "the signer a task used is cleared from the process data"
    r.complete(r.host, sign(host_values))
    assert r.mou() == (MouStatus.ACTIVE, 1, 2)
    with r.db.transaction(write=False) as s:
        instance = instances.get(s, actor=r.sender.actor, instance_id=r.instance_id)
        assert instance.status == "completed"
        assert s.get(Mou, r.data()["mou_id"]).business_key == "MoU-NL-BE-1"
    assert r.data()["mou_status"] == MouStatus.ACTIVE


def test_a_stale_hash_refuses_the_completion_and_keeps_the_task(round_: Round) -> None:
    r = round_
    r.complete(r.sender, mou_content(r.sender, r.host))
    r.complete(r.sender, {"confirmed": True})
    r.complete(r.sender, sign(r.form_values(r.sender)))
    read_by_host = r.form_values(r.host)
    # The sending organisation changes the text while the host is reading it.
    with r.db.transaction() as s:
        mous.revise(s, actor=r.sender.actor, mou_id=r.data()["mou_id"],
                    content=mou_content(r.sender, r.host, valid_until="2098-06-30"))
    with pytest.raises(Conflict, match="stale"):
        r.complete(r.host, sign(read_by_host))
    task = r.ready()
    assert task.bpmn_id == "review_hosting" and task.state == TaskState.READY
    assert r.mou() == (MouStatus.IN_APPROVAL, 2, 1), "only the sender's (now void) approval exists"


def test_rejection_needs_a_comment_and_sends_the_draft_back(round_: Round) -> None:
    r = round_
    r.complete(r.sender, mou_content(r.sender, r.host))
    r.complete(r.sender, {"confirmed": True})
    r.complete(r.sender, sign(r.form_values(r.sender)))
    values = r.form_values(r.host)
    with pytest.raises(Invalid) as refused:
        r.complete(r.host, {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED})
    assert "comment" in refused.value.errors and r.ready().bpmn_id == "review_hosting"

    r.complete(r.host, {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED,
                        "comment": "Twelve weeks is too long for our kitchen"})
    assert r.ready().bpmn_id == "draft_mou" and r.ready().organisation_id == r.sender.org_id
    assert r.mou() == (MouStatus.DRAFT, 1, 2)

    # The sender revises (version 2), submits and both sign the new text.
    r.complete(r.sender, mou_content(r.sender, r.host, mobility_duration_weeks={"min": 3, "max": 8}))
    assert r.data()["mou_version"] == 2
    r.complete(r.sender, {"confirmed": True})
    r.complete(r.sender, sign(r.form_values(r.sender)))
    r.complete(r.host, sign(r.form_values(r.host)))
    assert r.mou() == (MouStatus.ACTIVE, 2, 4)
