"""The group page (api/web/group_pages.py) and the inbox's batch of group tasks: the school finds its two
waiting signatures under "Tasks of your groups" and signs both copies with one form, each signature its
own; a learner sees only their own place in the group; a stale text or an outsider gets nothing signed."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from ecvet.mobility import groups
from ecvet.mobility.models import LaSignature, Mobility
from engine import tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import HumanTask, TaskState
from engine.parties import Actor
from tests.api.web.conftest import browser_for
from tests.support import mobility_driver
from tests.support.ecvet_factories import Party
from tests.support.engine import actor_for
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.mobility_driver import ASSESSMENT_AGREED, start

T0 = mobility_driver.T0


def member(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def _waiting(db: Database, actor: Actor, bpmn_id: str) -> list[HumanTask]:
    with db.transaction(write=False) as s:
        return [t for t in s.scalars(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id,
                                                             HumanTask.state == TaskState.READY))
                if tasks.is_assignee(actor, t)]


def _values(db: Database, actor: Actor, task_id: str) -> dict[str, Any]:
    with db.transaction(write=False) as s:
        return dict(tasks.detail(s, actor=actor, task_id=task_id)["form"]["values"])


def test_the_school_signs_every_copy_of_its_group_at_once(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    people = [make_user(db, name=n) for n in ("Daan de Vries", "Sanne Bakker")]
    with db.transaction() as s:
        group = groups.nominate_group(
            s, actor=sc.sending.actor, mou_id=sc.mou_id, name="Cooks 2b", programme="Kitchen, then restaurant",
            learners=[{"name": n, "date_of_birth": "2004-09-01", "email": u.email}
                      for n, u in zip(("Daan de Vries", "Sanne Bakker"), people, strict=True)],
            accompanying_persons=[{"name": "Karin Berg", "role": "teacher", "organisation": "Sending school"}],
            hosting_organisation_id=sc.hosting.org_id, qualification_title="Cook", start_date=date(2027, 3, 1),
            end_date=date(2027, 4, 9))
        group_id = group.id
        groups.complete_all(s, actor=sc.sending.actor, group_id=group_id, bpmn_id="prepare_la",
                            data={"units": [{"code": "U1"}], "assessment": {"method": "Practical task"}})
    (first, *_) = _waiting(db, sc.hosting.actor, "agree_assessment")
    digest = _values(db, sc.hosting.actor, first.id)["la_hash"]
    with db.transaction() as s:
        groups.complete_all(s, actor=sc.hosting.actor, group_id=group_id, bpmn_id="agree_assessment",
                            data={"la_hash": digest, "assessment": ASSESSMENT_AGREED})
    learners = [actor_for(db, u.id) for u in people]
    for learner in learners:
        (task,) = _waiting(db, learner, "sign_learner")
        values = _values(db, learner, task.id)
        with db.transaction() as s:
            tasks.complete(s, actor=learner, task_id=task.id, data={"la_hash": values["la_hash"], "decision": "sign"})
        digest = values["la_hash"]

    school = browser_for(app, member(sc.sending))
    inbox = school.get("/tasks").get_data(as_text=True)
    assert "Tasks of your groups" in inbox
    assert f'href="/mobility-groups/{group_id}"' in inbox
    assert "Cooks 2b: Sign the Learning Agreement (2)" in inbox
    page = school.get(f"/mobility-groups/{group_id}").get_data(as_text=True)
    assert "Sign all 2" in page
    assert "Karin Berg, teacher (Sending school)" in page
    assert digest in page

    stale = school.post(f"/mobility-groups/{group_id}/sign-all", {
        "bpmn_id": "sign_sending", "la_hash": "0" * 64, "position": "Coordinator", "place": "Utrecht"})
    assert stale.status_code == 409
    outsider = browser_for(app, member(sc.outsider))
    assert outsider.get(f"/mobility-groups/{group_id}").status_code == 404
    assert outsider.post(f"/mobility-groups/{group_id}/sign-all", {
        "bpmn_id": "sign_sending", "la_hash": digest, "position": "Coordinator"}).status_code == 404
    with db.transaction(write=False) as s:
        assert s.scalars(select(LaSignature).where(LaSignature.party == "sending")).all() == []

    done = school.post(f"/mobility-groups/{group_id}/sign-all", {
        "bpmn_id": "sign_sending", "la_hash": digest, "position": "Coordinator", "place": "Utrecht"})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert "2 Learning Agreement(s) of the group" in school.get("/tasks").get_data(as_text=True)
    with db.transaction(write=False) as s:
        signed = s.execute(select(LaSignature.signer_user_id, LaSignature.signer_place, LaSignature.la_id)
                           .where(LaSignature.party == "sending")).all()
        members = s.scalars(select(Mobility.id).where(Mobility.group_id == group_id)).all()
    assert len({la_id for _, _, la_id in signed}) == len(members) == 2
    assert {(user, place) for user, place, _ in signed} == {(sc.sending.user_id, "Utrecht")}

    mine = browser_for(app, Person(people[0].id, people[0].email, PASSWORD))
    page = mine.get(f"/mobility-groups/{group_id}").get_data(as_text=True)
    assert "Daan de Vries" in page
    assert "Sanne Bakker" not in page
