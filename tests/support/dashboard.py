"""Instances for the dashboard's browser tests: started and advanced by the engine directly."""
from __future__ import annotations

from typing import Any

from engine import instances, tasks
from engine.db import Database
from engine.parties import Actor
from tests.web.conftest import Demo

PROPOSAL = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}


def admin_actor(db: Database, demo: Demo) -> Actor:
    return Actor(demo.admin.id, demo.admin.email, is_admin=True)


def start(db: Database, demo: Demo, business_key: str) -> str:
    with db.transaction() as s:
        return instances.start(s, actor=admin_actor(db, demo), process_key="two_lane_review",
                               business_key=business_key,
                               parties={"sending": demo.sending_org, "hosting": demo.hosting_org}).id


def complete_ready(db: Database, demo: Demo, instance_id: str, data: dict[str, Any]) -> None:
    admin = admin_actor(db, demo)
    with db.transaction() as s:
        (task,) = instances.ready_tasks(s, instances.get(s, actor=admin, instance_id=instance_id))
        tasks.complete(s, actor=admin, task_id=task.id, data=data, on_behalf=True)
