"""The demo's group mobility: two cooks in training go to València together under the Köln–València MoU,
with an intermediary organisation that places them and signs their Learning Agreements, and a teacher
who accompanies them. Made through the same services as the rest of the demo (:mod:`demo.seed`): the
school nominates the group and prepares one text for both, the hotel agrees the assessment for both,
each learner signs their own copy, the school signs both at once; the intermediary's two signatures wait.

Idempotent like the seed: the group is found by its name under the MoU, and a step is taken only if its
task was never completed.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from demo.cast import ASSESSMENT_CRITERIA, LA_COMMON, LA_RESPONSIBLE, PEOPLE
from ecvet.mobility import groups
from ecvet.mobility.models import Mobility, MobilityGroup
from engine import tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import HumanTask, TaskState, User
from engine.parties import Actor

GROUP_NAME = "Cooks 2b · Köln → València (group)"
#: Who goes (keys of demo.cast.PEOPLE) and who accompanies them.
MEMBERS = ("mia", "ben")
ACCOMPANYING = [{"name": "Karin Berg", "role": "teacher (accompanying person)", "organisation": "Berufskolleg Rhein"}]
PROGRAMME = ("Four weeks in the hotel kitchen together: two weeks garde-manger (cold buffet for banquets), two "
             "weeks on the pass during lunch service; a weekly review with the mentor and the accompanying teacher.")
UNITS = [
    {"code": "U1", "learning_outcomes": ["Prepares cold starters, salads and buffet platters following the recipe"],
     "learning_activities": {"location": "Hotel kitchen, garde-manger", "tasks": "Cold buffet for banquets"}},
    {"code": "U4", "learning_activities": {"location": "Restaurant and pass", "tasks": "Passing dishes at lunch"}},
]


def _prepare(_: dict[str, Any]) -> dict[str, Any]:
    return {**LA_COMMON, "units": UNITS,
            "assessment": {"method": "Practical tasks observed by the mentor, then a short interview"},
            "validation_and_recognition": {
                "who": "Berufskolleg Rhein validates; the IHK Köln recognises",
                "how": "The transcript is compared with this agreement unit by unit",
                "effect": "Recognised units are exempted at home", "responsible": LA_RESPONSIBLE},
            "learner_progress": "Second year of three."}


def _agree(values: dict[str, Any]) -> dict[str, Any]:
    return {"la_hash": values["la_hash"], "assessment": {
        "assessors": [{"name": "Javier Ruiz", "organisation": "Hotel Sol de Valencia", "role": "company mentor"}],
        "method": "Observation of practical tasks during service, then a short interview",
        "criteria": ASSESSMENT_CRITERIA, "when": "Last week of the mobility", "where": "Hotel kitchen",
        "documentation": "One assessment sheet per unit; the Learner's Personal Transcript"}}


def _sign(values: dict[str, Any]) -> dict[str, Any]:
    return {"la_hash": values["la_hash"], "decision": "sign", "signer": values["signer"]}


#: (task, who completes it for the group, when after the nomination, the answer from the form's values)
STEPS: tuple[tuple[str, str, timedelta, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
    ("prepare_la", "coordinator", timedelta(hours=2), _prepare),
    ("agree_assessment", "mentor", timedelta(days=1), _agree),
    ("sign_learner", "mia", timedelta(days=1, hours=4), _sign),
    ("sign_learner", "ben", timedelta(days=1, hours=6), _sign),
    ("sign_sending", "coordinator", timedelta(days=2), _sign),
)


def _actor(db: Database, key: str) -> Actor:
    email = next(p.email for p in PEOPLE if p.key == key)
    with db.transaction(write=False) as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None
        return Actor.of(user)


def seed_group(db: Database, frozen: FrozenClock, *, now: datetime, mou_id: int, orgs: dict[str, int]) -> None:
    """Nominate the group (unless it exists) and take the steps nobody took yet."""
    began = now - timedelta(days=3)
    start = (now + timedelta(days=40)).date()
    with db.transaction() as s:
        group = s.scalar(select(MobilityGroup).where(MobilityGroup.mou_id == mou_id, MobilityGroup.name == GROUP_NAME))
        if group is None:
            frozen.set(began)
            learners = []
            for key in MEMBERS:
                person = next(p for p in PEOPLE if p.key == key)
                born = start.replace(year=start.year - (19 if key == "ben" else 18)) - timedelta(days=120)
                learners.append({"name": person.name, "email": person.email, "date_of_birth": born.isoformat()})
            group = groups.nominate_group(
                s, actor=_actor(db, "coordinator"), mou_id=mou_id, name=GROUP_NAME, programme=PROGRAMME,
                learners=learners, accompanying_persons=ACCOMPANYING, hosting_organisation_id=orgs["hotel"],
                qualification_title="Cook", start_date=start, end_date=start + timedelta(days=27),
                intermediary_organisation_id=orgs["agency"])
        group_id = group.id
        instance_ids = list(s.scalars(select(Mobility.process_instance_id).where(Mobility.group_id == group_id)))
    for bpmn_id, who, at, answer in STEPS:
        actor = _actor(db, who)
        with db.transaction(write=False) as s:
            mine = [t for t in s.scalars(select(HumanTask).where(
                HumanTask.instance_id.in_(instance_ids), HumanTask.bpmn_id == bpmn_id,
                HumanTask.state == TaskState.READY)) if tasks.is_assignee(actor, t)]
        if not mine:
            continue  # taken before (by this seed, or by someone using the demo), or not this step's turn
        frozen.set(began + at)
        with db.transaction() as s:
            values = tasks.detail(s, actor=actor, task_id=mine[0].id)["form"]["values"]
            groups.complete_all(s, actor=actor, group_id=group_id, bpmn_id=bpmn_id, data=answer(values))
