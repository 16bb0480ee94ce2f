"""The shipped two_lane_review process, driven through the engine: the sending side proposes, the host reviews."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import instances
from engine.config import ROOT
from engine.db import Database
from engine.models import HumanTask, TaskState
from engine.parties import Actor
from tests.support.engine import deploy

FILES = {"two_lane_review.bpmn": (ROOT / "processes" / "two_lane_review.bpmn").read_bytes()}
PROPOSAL = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}


def deploy_two_lane(db: Database) -> None:
    """Deploy two_lane_review with its forms."""
    deploy(db, FILES)


def start_two_lane(db: Database, actor: Actor, orgs: dict[str, Any], business_key: str | None = None) -> str:
    """Start an instance binding the ``orgs`` fixture's sending and hosting organisations; its id."""
    with db.transaction() as s:
        return instances.start(s, actor=actor, process_key="two_lane_review", business_key=business_key,
                               parties={"sending": orgs["sending"], "hosting": orgs["hosting"]}).id


def ready_task(db: Database, instance_id: str) -> HumanTask:
    """The instance's one ready task row."""
    with db.transaction(write=False) as s:
        return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                 HumanTask.state == TaskState.READY)).one()
