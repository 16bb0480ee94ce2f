"""A monitoring scene: two-lane instances at different steps, of two sets of organisations."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine import instances, tasks
from engine.config import ROOT
from engine.db import Database
from engine.parties import Actor
from tests.support.engine import actor_for, deploy
from tests.support.factories import make_org, make_user

T0 = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
TWO_LANE = {"two_lane_review.bpmn": (ROOT / "processes" / "two_lane_review.bpmn").read_bytes()}
MESSAGES = ROOT / "tests" / "fixtures" / "messages"
USES_TABLE = ROOT / "tests" / "fixtures" / "modeling" / "uses_national_model.bpmn"
PROPOSAL = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}


@dataclass
class Scene:
    """Two-lane instances: i1 at 'propose', i2 at 'review', i3 of other organisations, i4 completed."""

    admin: Actor
    sender: Actor  # member of the sending organisation of i1, i2, i4
    outsider: Actor  # member of the organisation of i3 only
    i1: str
    i2: str
    i3: str
    i4: str


def start(db: Database, actor: Actor, key: str, parties: dict[str, Any], **variables: Any) -> str:
    """Start an instance as ``actor``; its id."""
    with db.transaction() as s:
        return instances.start(s, actor=actor, process_key=key, parties=parties, variables=variables).id


def complete(db: Database, actor: Actor, instance_id: str, data: dict[str, Any]) -> None:
    """Complete the instance's first ready task (on behalf of its party, when ``actor`` is an admin)."""
    with db.transaction() as s:
        task = instances.ready_tasks(s, instances.get(s, actor=actor, instance_id=instance_id))[0]
        tasks.complete(s, actor=actor, task_id=task.id, data=data, on_behalf=True)


def make_scene(db: Database, admin: Actor) -> Scene:
    """The scene (conftest's ``scene`` fixture)."""
    sending, hosting, other = make_org(db, sending_school=True), make_org(db, hosting_company=True), make_org(db)
    sender = actor_for(db, make_user(db, organisation_ids=[sending.id]).id)
    outsider = actor_for(db, make_user(db, organisation_ids=[other.id]).id)
    deploy(db, TWO_LANE)
    ours = {"sending": sending.id, "hosting": hosting.id}
    i1 = start(db, admin, "two_lane_review", ours)
    i2 = start(db, admin, "two_lane_review", ours)
    complete(db, admin, i2, PROPOSAL)
    i3 = start(db, admin, "two_lane_review", {"sending": other.id, "hosting": other.id})
    i4 = start(db, admin, "two_lane_review", ours)
    complete(db, admin, i4, PROPOSAL)
    complete(db, admin, i4, {"accepted": True})
    return Scene(admin, sender, outsider, i1, i2, i3, i4)
