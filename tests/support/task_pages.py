"""Task-page scenarios in the live server: fixtures deployed, instances started, a Learning Agreement to sign."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ecvet import evidence
from ecvet.mobility import learning_agreement
from ecvet.mobility.models import Learner, Mobility
from ecvet.partnership.models import Mou, MouStatus, MouVersion
from engine import instances
from engine.models import HumanTask, TaskState
from engine.parties import Actor
from tests.support.engine import actor_for
from tests.support.engine import deploy as deploy_files
from tests.web.conftest import Demo, LiveServer

FIXTURES = Path(__file__).resolve().parent.parent / "web" / "fixtures"


def deploy(server: LiveServer, *names: str) -> None:
    deploy_files(server.db, {name: (FIXTURES / name).read_bytes() for name in names})


def start(server: LiveServer, actor: Actor, process_key: str, parties: dict[str, Any], business_key: str,
          *, variables: dict[str, Any] | None = None) -> str:
    with server.db.transaction() as s:
        return instances.start(s, actor=actor, process_key=process_key, business_key=business_key,
                               parties=parties, variables=variables or {}).id


def ready(server: LiveServer, instance_id: str) -> list[HumanTask]:
    with server.db.transaction(write=False) as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.state == TaskState.READY)))


def make_learning_agreement(server: LiveServer, demo: Demo) -> tuple[int, str]:
    """An active MoU, the learner's mobility under it (starting in two months) and its LA, version 1."""
    start_day = date.today() + timedelta(days=60)
    units = [{"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12},
             {"code": "U2", "title": "Hygiene", "ecvet_points": 4}]
    mou_content = {"qualifications": [{"title": "Cook", "eqf_level": 4, "units": units}]}
    with server.db.transaction() as s:
        mou = Mou(sending_organisation_id=demo.sending_org, status=MouStatus.ACTIVE)
        s.add(mou)
        s.flush()
        version = MouVersion(mou_id=mou.id, number=1, content=mou_content,
                             content_hash=evidence.content_hash(mou_content))
        s.add(version)
        s.flush()
        mou.current_version_id = mou.active_version_id = version.id
        learner = Learner(name="Lena Vos", date_of_birth=date(2005, 5, 5), email=demo.learner.email,
                          user_id=demo.learner.id)
        s.add(learner)
        s.flush()
        mobility = Mobility(learner_id=learner.id, mou_id=mou.id, sending_organisation_id=demo.sending_org,
                            hosting_organisation_id=demo.hosting_org, qualification_title="Cook",
                            qualification_eqf_level=4, start_date=start_day,
                            end_date=start_day + timedelta(weeks=6))
        s.add(mobility)
        s.flush()
        mobility_id = mobility.id
    coordinator = actor_for(server.db, demo.coordinator.id)
    with server.db.transaction() as s:
        la = learning_agreement.prepare(s, actor=coordinator, mobility_id=mobility_id, content={
            "units": [{**units[0], "learning_outcomes": ["Prepares cold starters to recipe"],
                       "learning_activities": {"location": "Hotel kitchen, Valencia", "tasks": "Garde-manger"}},
                      units[1]],
            "assessment": {"method": "Observation of a practical task", "when": "Week 6"},
            "duration": {"start": start_day.isoformat(), "end": (start_day + timedelta(weeks=6)).isoformat(),
                         "weeks": 6},
        })
        return la.id, learning_agreement.current_version(s, la).content_hash
