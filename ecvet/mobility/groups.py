"""Group mobility: learners who go abroad together under one MoU, with one programme and one Learning
Agreement text, and the persons who accompany them (name, role, organisation).

Each learner still has their own mobility and Mobility process (nominated in one unit of work by
:func:`nominate_group`) and signs their own copy; a minor's parent or guardian signs theirs. The parties
work the group's waiting tasks in one go (:func:`complete_all`: "sign all"): each task is completed
through the engine exactly as if it had been completed alone, so each signature is the signed-in
person's own, one per Learning Agreement, quoting that copy's hash. A learner sees the group and their
own mobility in it, never the other learners'.
"""
from __future__ import annotations

import copy
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.mobility import nomination, service
from ecvet.mobility.models import Learner, Mobility, MobilityGroup
from ecvet.partnership.mou import get as get_mou
from engine import audit
from engine import tasks as engine_tasks
from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound
from engine.models import HumanTask, TaskState
from engine.parties import Actor

#: A group is a class or a team travelling together, not a whole school year.
MAX_LEARNERS = 40
#: Tasks of the Learning Agreement that a party may complete for the whole group with the same answer
#: (the group shares one text, so every copy has the same hash); the rest stay per learner.
BATCHED_TASKS = (
    "prepare_la", "agree_assessment",
    "sign_learner", "sign_guardian", "sign_sending", "sign_intermediary", "sign_hosting", "approve_la_ci",
    "resign_learner", "resign_guardian", "resign_sending", "resign_intermediary", "resign_hosting",
    "reapprove_la_ci",
)
_PERSON_FIELDS = ("name", "role", "organisation")
_PERSON_MAX = 200


class AccompanyingPerson(TypedDict):
    name: str
    role: str
    organisation: str


class GroupMember(TypedDict):
    mobility_id: int
    learner_id: int
    learner_name: str
    status: str
    process_instance_id: str | None


class GroupTasks(TypedDict):
    bpmn_id: str
    name: str
    task_ids: list[str]
    mobility_ids: list[int]


class GroupView(TypedDict):
    id: int
    mou_id: int
    sending_organisation_id: int
    name: str
    programme: str
    accompanying_persons: list[AccompanyingPerson]
    mobilities: list[GroupMember]
    my_tasks: list[GroupTasks]


class CompletedTask(TypedDict):
    mobility_id: int
    task_id: str


class KnownLearner(TypedDict):
    id: int
    name: str
    date_of_birth: str


class GroupBatch(TypedDict):
    group_id: int
    group_name: str
    bpmn_id: str
    name: str
    count: int


def is_signing(bpmn_id: str) -> bool:
    """A signature step (the "sign all" of the pages); preparing and agreeing have forms of their own."""
    return bpmn_id.startswith(("sign_", "resign_"))


def _accompanying(persons: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    if not isinstance(persons, list):
        errors["accompanying_persons"] = ["A list of {name, role, organisation}"]
        return []
    checked = []
    for index, given in enumerate(persons):
        person = given if isinstance(given, dict) else {}
        values = {key: str(person.get(key) or "").strip() for key in _PERSON_FIELDS}
        for key, value in values.items():
            if not value or len(value) > _PERSON_MAX:
                errors[f"accompanying_persons.{index}.{key}"] = ["Required, at most 200 characters"]
        checked.append(values)
    return checked


def nominate_group(
    session: Session,
    *,
    actor: Actor,
    mou_id: int,
    name: str,
    programme: str,
    learners: list[dict[str, Any]],
    accompanying_persons: list[dict[str, Any]] | None = None,
    **common: Any,
) -> MobilityGroup:
    """Record the group and nominate each of its learners (``learners``: per learner either its details
    or ``{"learner_id": n}``) with the same host, qualification, dates and intermediary (``common``, as
    :func:`ecvet.mobility.nomination.nominate` takes them): one mobility and process per learner, all in
    one unit of work, so a refused learner leaves nothing behind (422 naming ``learners.<i>.<field>``)."""
    mou = get_mou(session, actor=actor, mou_id=mou_id)
    if not (actor.is_admin or mou.sending_organisation_id in actor.organisation_ids):
        raise Forbidden("Only members of the MoU's sending organisation nominate learners under it")
    errors: dict[str, list[str]] = {}
    name, programme = (name or "").strip(), (programme or "").strip()
    if not name:
        errors["name"] = ["Required"]
    if not programme:
        errors["programme"] = ["Required: the programme the group follows abroad"]
    persons = _accompanying(accompanying_persons or [], errors)
    if not isinstance(learners, list) or not 1 <= len(learners) <= MAX_LEARNERS:
        errors["learners"] = [f"Between 1 and {MAX_LEARNERS} learners"]
    if errors:
        raise Invalid("The group is not valid", errors=errors)
    group = MobilityGroup(mou_id=mou.id, sending_organisation_id=mou.sending_organisation_id, name=name[:200],
                          programme=programme, accompanying_persons=persons, created_by=actor.user_id)
    session.add(group)
    session.flush()
    for index, given in enumerate(learners):
        learner = given if isinstance(given, dict) else {}
        who: dict[str, Any] = {"learner_id": learner["learner_id"]} if "learner_id" in learner else {"learner": learner}
        try:
            nomination.nominate(session, actor=actor, mou_id=mou.id, group_id=group.id, **common, **who)
        except Invalid as exc:
            detail = exc.errors if isinstance(exc.errors, dict) else {"_": [exc.message]}
            raise Invalid(f"Learner {index + 1} of the group: {exc.message}",
                          errors={f"learners.{index}.{key}": value for key, value in detail.items()}) from exc
    audit.record(session, actor_id=actor.user_id, action="mobility_group.nominated", group_id=group.id,
                 mou_id=mou.id, learners=len(learners), accompanying_persons=len(persons))
    return group


def known_learners(session: Session, *, actor: Actor, mou_id: int) -> list[KnownLearner]:
    """The learners the MoU's sending organisation nominated before (a group may take them again by
    ``learner_id``): for its members (and administrators) only; the read is audited."""
    mou = get_mou(session, actor=actor, mou_id=mou_id)
    if not (actor.is_admin or mou.sending_organisation_id in actor.organisation_ids):
        raise Forbidden("Only members of the MoU's sending organisation nominate learners under it")
    learners = session.scalars(
        select(Learner).join(Mobility, Mobility.learner_id == Learner.id)
        .where(Mobility.sending_organisation_id == mou.sending_organisation_id)
        .distinct().order_by(Learner.name, Learner.id))
    known: list[KnownLearner] = [{"id": x.id, "name": x.name, "date_of_birth": x.date_of_birth.isoformat()}
                                 for x in learners]
    audit.record(session, actor_id=actor.user_id, action="learner.listed", mou_id=mou.id,
                 organisation_id=mou.sending_organisation_id, learners=len(known))
    return known


def _members(session: Session, group: MobilityGroup) -> list[Mobility]:
    return list(session.scalars(select(Mobility).where(Mobility.group_id == group.id).order_by(Mobility.id)))


def get(session: Session, *, actor: Actor, group_id: int) -> tuple[MobilityGroup, list[Mobility]]:
    """The group and the mobilities of it the caller takes part in (404 when none: the group does not
    exist for them). A learner or guardian gets their own mobility only."""
    group = session.get(MobilityGroup, group_id)
    visible = [m for m in _members(session, group) if service.is_party(actor, m)] if group is not None else []
    if group is None or not visible:
        raise NotFound(f"No mobility group {group_id}")
    return group, visible


def _my_tasks(session: Session, actor: Actor, mobilities: list[Mobility]) -> list[HumanTask]:
    instance_ids = [m.process_instance_id for m in mobilities if m.process_instance_id]
    return list(session.scalars(
        select(HumanTask).where(HumanTask.instance_id.in_(instance_ids or ["-"]), HumanTask.state == TaskState.READY,
                                engine_tasks.assigned_to(actor))
        .order_by(HumanTask.created_at, HumanTask.id)))


def view(session: Session, *, actor: Actor, group_id: int) -> GroupView:
    """The group as the caller sees it, with their waiting tasks in it batched by step."""
    group, mobilities = get(session, actor=actor, group_id=group_id)
    by_instance = {m.process_instance_id: m.id for m in mobilities}
    batched: dict[str, GroupTasks] = {}
    for task in _my_tasks(session, actor, mobilities):
        entry = batched.setdefault(task.bpmn_id, {"bpmn_id": task.bpmn_id, "name": task.name, "task_ids": [],
                                                  "mobility_ids": []})
        entry["task_ids"].append(task.id)
        entry["mobility_ids"].append(by_instance[task.instance_id])
    audit.record(session, actor_id=actor.user_id, action="mobility_group.read", group_id=group.id)
    return {
        "id": group.id, "mou_id": group.mou_id, "sending_organisation_id": group.sending_organisation_id,
        "name": group.name, "programme": group.programme,
        "accompanying_persons": [AccompanyingPerson(name=p["name"], role=p["role"], organisation=p["organisation"])
                                 for p in group.accompanying_persons],
        "mobilities": [{"mobility_id": m.id, "learner_id": m.learner_id, "learner_name": m.learner.name,
                        "status": m.status, "process_instance_id": m.process_instance_id} for m in mobilities],
        "my_tasks": list(batched.values()),
    }


def complete_all(session: Session, *, actor: Actor, group_id: int, bpmn_id: str,
                 data: dict[str, Any]) -> list[CompletedTask]:
    """Complete every task `bpmn_id` of the group waiting for the caller with the same answer, each through
    the engine as if alone (its form, its checks, the signature the caller's own). All or nothing: one
    refusal (a stale hash on one copy, say) refuses the whole batch, naming the mobility."""
    group, mobilities = get(session, actor=actor, group_id=group_id)
    if bpmn_id not in BATCHED_TASKS:
        raise Invalid("This step is not done for a whole group",
                      errors={"bpmn_id": [f"One of {', '.join(BATCHED_TASKS)}"]})
    by_instance = {m.process_instance_id: m.id for m in mobilities}
    waiting = [t for t in _my_tasks(session, actor, mobilities) if t.bpmn_id == bpmn_id]
    if not waiting:
        raise Conflict(f"No task {bpmn_id} of this group waits for you")
    done: list[CompletedTask] = []
    for task in waiting:
        mobility_id = by_instance[task.instance_id]
        try:
            engine_tasks.complete(session, actor=actor, task_id=task.id, data=copy.deepcopy(data))
        except EngineError as exc:
            exc.message = f"Mobility {mobility_id} ({task.bpmn_id}): {exc.message}"
            raise
        done.append({"mobility_id": mobility_id, "task_id": task.id})
    audit.record(session, actor_id=actor.user_id, action="mobility_group.completed_all", group_id=group.id,
                 bpmn_id=bpmn_id, task_ids=[d["task_id"] for d in done])
    return done


def batches_for(session: Session, *, actor: Actor) -> list[GroupBatch]:
    """The caller's waiting tasks of group mobilities, by group and step (the inbox shows them batched)."""
    rows = session.execute(
        select(MobilityGroup.id, MobilityGroup.name, HumanTask.bpmn_id, HumanTask.name, func.count(HumanTask.id))
        .join(Mobility, Mobility.group_id == MobilityGroup.id)
        .join(HumanTask, HumanTask.instance_id == Mobility.process_instance_id)
        .where(HumanTask.state == TaskState.READY, HumanTask.bpmn_id.in_(BATCHED_TASKS),
               engine_tasks.assigned_to(actor))
        .group_by(MobilityGroup.id, MobilityGroup.name, HumanTask.bpmn_id, HumanTask.name)
        .order_by(MobilityGroup.id, HumanTask.bpmn_id))
    return [{"group_id": g, "group_name": n, "bpmn_id": b, "name": t, "count": c} for g, n, b, t, c in rows]
