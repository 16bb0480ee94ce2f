"""A learner with a full lifecycle, for the data-protection tests (holdings, erasure, export, retention).

A minor (Sanne Bakker, born 2010-06-15, her guardian signs with an account) is nominated by a Dutch
school to a Belgian hotel, through the Mobility process (tests/support/mobility_driver.py): Learning
Agreement signed by learner, guardian, school and hotel; live; an evidence file; assessed (and a
second assessor's signature); acknowledged; transcript issued and released; validated and recognised
with a practical implication; the Review process started by the worker, every party's evaluation sheet
and an action plan; the Europass Mobility issued and signed off; the whole qualification awarded.
Besides: a colleague's comment on one of her tasks and its owner, an incident, a mobility period, a
message subscription and a pending message of her process, her API token and a failed sign-in with her
address. A second learner (Daan de Vries, adult) goes live under the same MoU, so finders can be checked
not to pick another learner's rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from ecvet import wiring
from ecvet.europass import service as europass
from ecvet.mobility import evidence_files, qualification_award
from ecvet.mobility.models import AssessmentRecord, AssessmentSignature, Learner, Mobility, MobilityPeriod
from ecvet.qualification import service as qualifications
from engine import claims, deployments, parties, tasks, throttle
from engine.config import ROOT
from engine.db import Database
from engine.models import HumanTask, Incident, MessageSubscription, PendingMessage, ProcessInstance, TaskOwner
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER
from tests.support.factories import PASSWORD, make_user
from tests.support.images import png
from tests.support.mobility_driver import Run, Scenario, finish, go_live, start
from tests.support.review_driver import action_items, evaluation

LEARNER_NAME = "Sanne Bakker"
LEARNER_BORN = date(2010, 6, 15)
OTHER_NAME = "Daan de Vries"


@dataclass
class PrivacyWorld:
    sc: Scenario
    run: Run  # the minor with the full lifecycle
    other: Run  # another learner of the same school, live
    review_instance_id: str
    europass_id: int

    @property
    def learner_id(self) -> int:
        return self.run.learner_id

    def identity(self) -> dict[str, Any]:
        """What identifies the learner and the guardian, as held before any erasure."""
        with self.sc.db.transaction(write=False) as s:
            learner = s.get_one(Learner, self.learner_id)
            return {"name": learner.name, "email": learner.email, "date_of_birth": learner.date_of_birth,
                    "guardian_name": learner.guardian_name, "guardian_email": learner.guardian_email,
                    "user_id": learner.user_id, "guardian_user_id": learner.guardian_user_id}


def _complete(db: Database, actor: Actor, instance_id: str, bpmn_id: str, data: dict[str, Any]) -> None:
    with db.transaction() as s:
        (task,) = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready")).all()
        tasks.complete(s, actor=actor, task_id=task.id, data=data)


def _review(sc: Scenario, run: Run) -> str:
    sc.worker()  # the recognition's message starts the Review process
    with sc.db.transaction(write=False) as s:
        (instance_id,) = s.scalars(select(ProcessInstance.id).where(ProcessInstance.process_key == "review")).all()
    _complete(sc.db, run.learner, instance_id, "evaluate_learner",
              evaluation("partly", outcomes_comment=f"{LEARNER_NAME}: U1 needed more time",
                         unit_remarks=[{"unit": "U1", "remark": "Too short"}]))
    _complete(sc.db, sc.hosting.actor, instance_id, "evaluate_hosting", evaluation(strengths="Sanne was punctual"))
    _complete(sc.db, sc.sending.actor, instance_id, "evaluate_sending", evaluation())
    _complete(sc.db, sc.sending.actor, instance_id, "plan_actions",
              {"summary": "More time for U1", "items": action_items(), "revise_mou": False})
    return instance_id


def _europass(sc: Scenario, run: Run) -> int:
    with sc.db.transaction() as s:
        row = europass.issue(s, actor=sc.sending.actor, mobility_id=run.mobility_id,
                             objective="Cold kitchen practice abroad", skills={"language": "Kitchen French (A2)"})
        europass_id, digest = row.id, row.content_hash
    for party, actor in (("hosting", sc.hosting.actor), ("sending", sc.sending.actor)):
        with sc.db.transaction() as s:
            europass.sign(s, actor=actor, europass_id=europass_id, party=party, content_hash=digest)
    return europass_id


def _extras(sc: Scenario, run: Run) -> None:
    """Rows the process alone does not leave: a colleague's note and an owner on her task, an incident,
    a mobility period, a message catch and a pending message, her token, a failed sign-in."""
    db = sc.db
    with db.transaction() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == run.instance_id,
                                                 HumanTask.role == "sending").order_by(HumanTask.created_at)).first()
        assert task is not None
        claims.comment(s, actor=sc.sending.actor, task_id=task.id, body=f"{LEARNER_NAME} phoned about U2")
        s.add(TaskOwner(task_id=task.id, user_id=sc.sending.actor.user_id))
        # A catch her process waits for, and a message it sent that nobody awaited yet.
        s.add(MessageSubscription(instance_id=run.instance_id, name="learner_contacted",
                                  correlations={"learner": LEARNER_NAME}))
        s.add(PendingMessage(name="learner_contacted", correlation_keys={"learner": LEARNER_NAME},
                             payload={"note": f"{LEARNER_NAME} called"}, source_instance_id=run.instance_id,
                             expires_at=sc.frozen.now() + timedelta(days=30)))
        s.add(Incident(instance_id=run.instance_id, kind="service_task", message=f"Mail to {LEARNER_NAME} failed"))
        mobility = s.get_one(Mobility, run.mobility_id)
        s.add(MobilityPeriod(mobility_id=mobility.id, position=1,
                             hosting_organisation_id=mobility.hosting_organisation_id,
                             start_date=mobility.start_date, end_date=mobility.end_date, unit_codes=["U1", "U2"]))
        learner = s.get_one(Learner, run.learner_id)
        parties.issue_token(s, email=learner.email, password=PASSWORD)
        throttle.record_failure(s, learner.email.upper())


def make_privacy_world(db: Database, frozen: Any) -> PrivacyWorld:
    wiring.load()
    sc = start(db, frozen, "NL", "BE")
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={"review.bpmn": (ROOT / "processes" / "review.bpmn").read_bytes()},
                           forms_dir=ROOT / "forms")
    run = sc.nominate(LEARNER_NAME, LEARNER_BORN, guardian_account=True)
    other = sc.nominate(OTHER_NAME, date(2004, 9, 1))
    for r in (run, other):
        r.prepare()
        r.parties_sign()
    go_live(sc)
    with db.transaction() as s:
        evidence_files.upload(s, actor=run.learner, mobility_id=run.mobility_id, unit="U1",
                              learning_outcome="Prepares cold starters to recipe", filename="sanne-buffet.png",
                              content=png(), description="My buffet")
    run.assess({"U1": "achieved", "U2": "achieved"})
    second = make_user(db, organisation_ids=[sc.hosting.org_id], name="Lotte Peeters", email="lotte@hotel.example")
    with db.transaction() as s:
        sheet = s.scalars(select(AssessmentRecord).where(AssessmentRecord.mobility_id == run.mobility_id)).first()
        assert sheet is not None
        s.add(AssessmentSignature(assessment_id=sheet.id, organisation_id=sheet.organisation_id,
                                  signer_user_id=second.id, signer_name="Lotte Peeters",
                                  signer_email=second.email, signer_position="Chef"))
    run.issue_transcript()
    run.release_transcript()
    digest = run.values("sending", "validate_and_recognise_sending")["transcript_hash"]
    run.complete("sending", "validate_and_recognise_sending", {
        "transcript_hash": digest, "signer": SIGNER,
        "unit_decisions": [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}]})
    finish(run, [{"kind": "exempted_activity", "description": f"{LEARNER_NAME} skips the cold kitchen module",
                  "unit": "U1"}])
    review_id = _review(sc, run)
    europass_id = _europass(sc, run)
    with db.transaction() as s:
        qualification = qualifications.register(s, actor=None, title="Cook", country="NL", eqf_level=4,
                                                nqf_level="4", ecvet_points=16, units=[
            {"code": code, "title": f"Unit {code}",
             "learning_outcomes": [{"kind": "skills", "text": f"Outcome {code}"}]} for code in ("U1", "U2")])
        qualification_award.award(s, actor=sc.sending.actor, learner_id=run.learner_id,
                                  qualification_id=qualification.id, signer=SIGNER)
    _extras(sc, run)
    return PrivacyWorld(sc, run, other, review_id, europass_id)
