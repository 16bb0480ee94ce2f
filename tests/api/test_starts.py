"""Nobody can start, steer or intercept another party's process: over HTTP alone (plus the worker).

The attack this file reproduces (issue 9): a learner started the Review process binding himself, any
organisations and any business key; his instance waited for ``mobility_recognized`` with no
correlation, so when another learner's mobility was recognised her message went into his instance:
her review never started, his got her data, and e-mails went to organisations that never agreed to
anything. Now the review is started only by the mobility's sending organisation with the mobility's
parties (its start rule and check), the message is correlated on the mobility, and a message an
instance throws never reaches an instance that does not share its sender's context.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ecvet.mobility.models import Mobility, MobilityStatus
from engine import jobs
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from tests.api.conftest import Caller, assert_problem, post_bundle, sign_in
from tests.support import mobility_driver
from tests.support.ecvet_factories import LearnerMobility, Party, make_learner_mobility
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.mobility_driver import (
    Scenario,
    start,
)

T0 = mobility_driver.T0  # the frozen fixture starts the clock here

RECOGNISED_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "ecvet" / "mobility_recognized.bpmn"
# The review start event's correlation on the mobility (processes/review.bpmn), to make a review model without it.
START_CORRELATION = re.compile(rb"\s*<spiffworkflow:processVariableCorrelation>\s*<spiffworkflow:propertyId>"
                               rb"mobility_id</spiffworkflow:propertyId>.*?</spiffworkflow:processVariableCorrelation>",
                               re.S)


def caller(app: Flask, who: Party | Any) -> Caller:
    actor = who.actor if isinstance(who, Party) else who
    return sign_in(app.test_client(), Person(actor.user_id, actor.email, PASSWORD))


@dataclass
class Scene:
    """An NL school and a BE hotel with a MoU in force; her mobility under it is recognised; he is another
    learner of the school with a mobility of his own; review.bpmn and a stand-in for the end of the
    Mobility process (it throws mobility_recognized like processes/mobility.bpmn) are deployed."""

    app: Flask
    db: Database
    sc: Scenario
    admin: Caller
    school: Caller
    hotel: Caller
    outsider: Caller
    her: LearnerMobility
    him: LearnerMobility
    she: Caller
    he: Caller

    def her_parties(self) -> dict[str, Any]:
        return {"sending": self.sc.sending.org_id, "hosting": self.sc.hosting.org_id,
                "learner": {"user_id": self.her.learner.user_id}}

    def reviews(self) -> list[dict[str, Any]]:
        return self.admin.get("/api/process-instances?process_key=review").get_json()["items"]

    def instance(self, instance_id: str) -> dict[str, Any]:
        response = self.admin.get(f"/api/process-instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def recognise(self, mobility_id: int) -> None:
        """The end of the mobility's process: the school records the recognition, the process throws
        mobility_recognized {mobility_id} (correlated on it), and the worker delivers it."""
        started = self.admin.post("/api/process-instances", json={
            "process_key": "mobility_recognized_fixture", "variables": {"mobility_id": mobility_id},
            "parties": {**self.her_parties(), "competent-institution-home": self.sc.sending.org_id}})
        assert started.status_code == 201, started.get_json()
        (task,) = self.school.get(f"/api/tasks?instance_id={started.get_json()['id']}").get_json()["items"]
        done = self.school.post(f"/api/tasks/{task['id']}/complete", json={"data": {}})
        assert done.status_code == 200, done.get_json()
        jobs.run_due(self.db)


def set_status(db: Database, mobility_id: int, status: str) -> None:
    with db.transaction() as s:
        mobility = s.get(Mobility, mobility_id)
        assert mobility is not None
        mobility.status = status


@pytest.fixture
def scene(app: Flask, db: Database, frozen: FrozenClock) -> Scene:
    sc = start(db, frozen, "NL", "BE")
    admin = sign_in(app.test_client(), make_user(db, is_admin=True))
    deployed = post_bundle(admin, {"review.bpmn": (ROOT / "processes" / "review.bpmn").read_bytes(),
                                   "mobility_recognized.bpmn": RECOGNISED_FIXTURE.read_bytes()})
    assert deployed.status_code == 201, deployed.get_json()
    her = make_learner_mobility(db, sending=sc.sending, hosting=sc.hosting, mou_id=sc.mou_id, learner_name="Eva")
    him = make_learner_mobility(db, sending=sc.sending, hosting=sc.hosting, mou_id=sc.mou_id, learner_name="Tim")
    set_status(db, her.mobility_id, MobilityStatus.RECOGNIZED)
    return Scene(app, db, sc, admin, caller(app, sc.sending), caller(app, sc.hosting), caller(app, sc.outsider),
                 her, him, caller(app, her.learner), caller(app, him.learner))


def task_names(caller_: Caller) -> list[tuple[str, str]]:
    return [(t["bpmn_id"], t["instance_id"]) for t in caller_.get("/api/tasks").get_json()["items"]]


# --- the hijack ----------------------------------------------------------------------------------

def test_a_learner_cannot_start_a_review_binding_himself(scene: Scene) -> None:
    himself = {"sending": scene.sc.sending.org_id, "hosting": scene.sc.hosting.org_id,
               "learner": {"user_id": scene.him.learner.user_id}}
    hijack = {"process_key": "review", "business_key": "review-of-anything", "parties": himself}
    for body in (hijack, {**hijack, "variables": {"mobility_id": scene.her.mobility_id}},
                 {**hijack, "variables": {"mobility_id": scene.him.mobility_id}}):
        problem = assert_problem(scene.he.post("/api/process-instances", json=body), 403)
        assert "members of the organisation bound to 'sending'" in problem["detail"]
    # nor with the message that starts reviews, nor binding himself to an organisation's role
    assert_problem(scene.he.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.her.mobility_id}, "parties": himself}), 403)
    assert_problem(scene.he.post("/api/process-instances", json={
        **hijack, "parties": {**himself, "sending": {"user_id": scene.him.learner.user_id}}}), 422)
    # the hotel is a party of her mobility, but a review is started by the sending school
    assert_problem(scene.hotel.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.her.mobility_id},
        "parties": scene.her_parties()}), 403)
    # another school binding itself as the sending organisation of her mobility
    problem = assert_problem(scene.outsider.post("/api/process-instances", json={
        "process_key": "review", "variables": {"mobility_id": scene.her.mobility_id},
        "parties": {**scene.her_parties(), "sending": scene.sc.outsider.org_id}}), 422)
    assert "variables.mobility_id" in problem["errors"]
    assert scene.reviews() == []
    assert scene.admin.get("/api/outbox").get_json()["items"] == []

    # what is allowed: the school starts the review of her mobility, with her mobility's parties
    started = scene.school.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.her.mobility_id},
        "parties": scene.her_parties()})
    assert started.status_code == 201, started.get_json()
    review = started.get_json()["delivered_to"]
    assert [(b, i) for b, i in task_names(scene.she)] == [("evaluate_learner", review)]
    assert task_names(scene.he) == []


def test_a_recognised_mobilitys_message_never_lands_in_an_instance_it_does_not_share(scene: Scene) -> None:
    """Even an administrator's review instance waiting with no correlation (a review model without the
    start event's correlation, deployed as a new version) does not take her message: its parties are
    not her mobility's. Her message starts her own review."""
    uncorrelated, found = START_CORRELATION.subn(b"", (ROOT / "processes" / "review.bpmn").read_bytes())
    assert found == 1
    deployed = post_bundle(scene.admin, {"review.bpmn": uncorrelated})
    assert deployed.status_code == 201, deployed.get_json()
    assert [(d["key"], d["version"]) for d in deployed.get_json()["definitions"]] == [("review", 2)]
    waiting = scene.admin.post("/api/process-instances", json={
        "process_key": "review", "business_key": "hijack",
        "parties": {"sending": scene.sc.outsider.org_id, "hosting": scene.sc.hosting.org_id,
                    "learner": {"user_id": scene.him.learner.user_id}}})
    assert waiting.status_code == 201, waiting.get_json()
    hijack = waiting.get_json()["id"]
    assert waiting.get_json()["ready_tasks"] == []

    scene.recognise(scene.her.mobility_id)

    assert scene.instance(hijack)["ready_tasks"] == []
    assert "message.delivered" not in [e["action"] for e in scene.instance(hijack)["audit"]]
    (hers,) = [r["id"] for r in scene.reviews() if r["id"] != hijack]
    detail = scene.instance(hers)
    assert detail["parties"] == {"sending": {"organisation_id": scene.sc.sending.org_id, "user_id": None},
                                 "hosting": {"organisation_id": scene.sc.hosting.org_id, "user_id": None},
                                 "learner": {"organisation_id": None, "user_id": scene.her.learner.user_id}}
    assert sorted(t["bpmn_id"] for t in detail["ready_tasks"]) == ["evaluate_hosting", "evaluate_learner",
                                                                   "evaluate_sending"]
    assert task_names(scene.she) == [("evaluate_learner", hers)]
    assert task_names(scene.he) == []
    assert task_names(scene.outsider) == []
    assert scene.admin.get(f"/api/outbox?instance_id={hijack}").get_json()["items"] == []
    mailed = {m["to"] for m in scene.admin.get(f"/api/outbox?instance_id={hers}").get_json()["items"]}
    assert scene.sc.outsider.email not in mailed
    assert scene.him.learner.email not in mailed
    assert scene.her.learner.email in mailed


def test_a_review_waiting_for_one_mobility_takes_no_other_mobilitys_message(scene: Scene) -> None:
    """The shipped review correlates on the mobility: the school's review of her first mobility, waiting
    for its message, is not where her second mobility's recognition goes, though the parties are the same."""
    with scene.db.transaction() as s:
        first = s.get(Mobility, scene.her.mobility_id)
        assert first is not None
        second = Mobility(learner_id=first.learner_id, mou_id=first.mou_id,
                          sending_organisation_id=first.sending_organisation_id,
                          hosting_organisation_id=first.hosting_organisation_id, qualification_title="Cook",
                          qualification_eqf_level=4, start_date=date(2027, 5, 3), end_date=date(2027, 6, 11),
                          status=MobilityStatus.RECOGNIZED)
        s.add(second)
        s.flush()
        second_id = second.id
    waiting = scene.school.post("/api/process-instances", json={
        "process_key": "review", "variables": {"mobility_id": scene.her.mobility_id},
        "parties": scene.her_parties()})
    assert waiting.status_code == 201, waiting.get_json()
    first_review = waiting.get_json()["id"]

    scene.recognise(second_id)

    assert scene.instance(first_review)["ready_tasks"] == []
    (second_review,) = [r["id"] for r in scene.reviews() if r["id"] != first_review]
    assert len(scene.instance(second_review)["ready_tasks"]) == 3
    # the first mobility's own message does reach it
    delivered = scene.school.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.her.mobility_id}})
    assert delivered.get_json() == {"delivered_to": first_review, "started": False}
    assert len(scene.instance(first_review)["ready_tasks"]) == 3


# --- the other ECVET processes: started only as their domain allows -----------------------------

def test_a_partnership_is_started_by_its_sending_organisation_with_allowed_institutions(scene: Scene) -> None:
    deployed = post_bundle(scene.admin, {"partnership.bpmn": (ROOT / "processes" / "partnership.bpmn").read_bytes()})
    assert deployed.status_code == 201, deployed.get_json()
    school, hotel = scene.sc.sending.org_id, scene.sc.hosting.org_id
    good = {"sending": school, "hosting": hotel, "competent-institution-home": school,
            "competent-institution-host": hotel}

    def attempt(who: Caller, parties: dict[str, Any], **extra: Any) -> Any:
        return who.post("/api/process-instances", json={"process_key": "partnership", "parties": parties, **extra})

    assert_problem(attempt(scene.hotel, good), 403)  # the hotel binds the school as the one that sends
    assert_problem(attempt(scene.he, good), 403)
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        ({**good, "hosting": school}, {}, "parties.hosting"),
        ({**good, "competent-institution-home": scene.sc.outsider.org_id}, {}, "parties.competent-institution-home"),
        ({**good, "competent-institution-host": {"user_id": scene.him.learner.user_id}}, {},
         "parties.competent-institution-host"),
        (good, {"variables": {"mou_id": scene.sc.mou_id}}, "variables"),
    ]
    for parties, extra, field in cases:
        problem = assert_problem(attempt(scene.school, parties, **extra), 422)
        assert field in problem["errors"], problem
    assert scene.admin.get("/api/process-instances?process_key=partnership").get_json()["items"] == []
    assert attempt(scene.school, good).status_code == 201
    # its approval round runs only as the partnership calls it
    problem = assert_problem(scene.school.post("/api/process-instances", json={
        "process_key": "mou_approval_round",
        "parties": {"sending": school, "hosting": hotel, "competent-institution-home": school,
                    "competent-institution-host": hotel}}), 403)
    assert "platform only" in problem["detail"]


def test_a_mobility_process_starts_only_with_its_nomination(scene: Scene) -> None:
    learner = make_user(scene.db)
    nominated = scene.school.post("/api/mobilities", json={
        "mou_id": scene.sc.mou_id, "hosting_organisation_id": scene.sc.hosting.org_id,
        "qualification_title": "Cook", "start_date": "2027-03-01", "end_date": "2027-04-09",
        "learner": {"name": "Ada Smit", "date_of_birth": "2004-02-02", "email": learner.email}})
    assert nominated.status_code == 201, nominated.get_json()
    mobility = nominated.get_json()
    parties = scene.admin.get(f"/api/process-instances/{mobility['process_instance_id']}").get_json()["parties"]
    bindings = {role: {"organisation_id": p["organisation_id"]} if p["organisation_id"] else {"user_id": p["user_id"]}
                for role, p in parties.items()}
    # a second process for her mobility, or one for an orphan mobility record, or for no mobility
    for mobility_id in (mobility["id"], scene.him.mobility_id, 999999):
        problem = assert_problem(scene.school.post("/api/process-instances", json={
            "process_key": "mobility", "variables": {"mobility_id": mobility_id}, "parties": bindings}), 422)
        assert problem["errors"], problem
    assert_problem(scene.hotel.post("/api/process-instances", json={
        "process_key": "mobility", "variables": {"mobility_id": mobility["id"]}, "parties": bindings}), 403)
    assert len(scene.admin.get("/api/process-instances?process_key=mobility").get_json()["items"]) == 1


def test_a_review_names_a_mobility_that_is_over(scene: Scene) -> None:
    problem = assert_problem(scene.school.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.him.mobility_id},
        "parties": {**scene.her_parties(), "learner": {"user_id": scene.him.learner.user_id}}}), 409)
    assert "reviewed once recognised or cancelled" in problem["detail"]
    problem = assert_problem(scene.school.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.her.mobility_id, "review_id": 1},
        "parties": scene.her_parties()}), 422)
    assert list(problem["errors"]) == ["variables.review_id"]
    problem = assert_problem(scene.school.post("/api/messages", json={
        "name": "mobility_recognized", "payload": {"mobility_id": scene.her.mobility_id},
        "parties": {**scene.her_parties(), "learner": {"user_id": scene.him.learner.user_id}}}), 422)
    assert list(problem["errors"]) == ["parties.learner"]
    assert scene.reviews() == []
