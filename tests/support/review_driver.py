"""Drive the Review process (processes/review.bpmn) as its parties: a recognised mobility under a MoU
that a Partnership process instance keeps in force."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ecvet.mobility.models import Mobility, MobilityStatus
from ecvet.review.models import Review
from engine import deployments, instances, messages, tasks
from engine.config import ROOT
from engine.db import Database
from engine.models import HumanTask, ProcessInstance
from engine.parties import Actor
from tests.support.ecvet_factories import Party, make_learner_mobility
from tests.support.partnership_driver import PartnershipRun


def evaluation(outcomes: str = "yes", evidence: str = "yes", **extra: Any) -> dict[str, Any]:
    sheet: dict[str, Any] = {"outcomes_appropriate": outcomes, "evidence_sufficient": evidence,
                             "strengths": "A well prepared host mentor."}
    if outcomes != "yes":
        sheet["outcomes_comment"] = "Unit U1 needs more than six weeks."
    if evidence != "yes":
        sheet["evidence_comment"] = "The transcript names no assessment criteria."
    return {**sheet, **extra}


def action_items(due: str = "2099-06-30") -> list[dict[str, Any]]:
    return [
        {"action": "Add assessment criteria to the transcript template", "owner": "hosting",
         "owner_name": "Javier Ruiz", "due_date": due},
        {"action": "Plan eight weeks for unit U1", "owner": "sending", "due_date": due},
        {"action": "Keep a learning diary during the next stay", "owner": "learner", "due_date": due},
    ]


@dataclass
class ReviewRun:
    db: Database
    partnership: PartnershipRun
    mobility_id: int
    learner: Actor
    instance_id: str

    @property
    def sender(self) -> Party:
        return self.partnership.sender

    @property
    def host(self) -> Party:
        return self.partnership.host

    def actors(self) -> dict[str, Actor]:
        p = self.partnership
        return {"sending": p.sender.actor, "hosting": p.host.actor, "learner": self.learner,
                "competent-institution-home": p.ci_home.actor, "competent-institution-host": p.ci_host.actor}

    def ready(self) -> list[HumanTask]:
        with self.db.transaction(write=False) as s:
            instance = instances.get(s, actor=self.sender.actor, instance_id=self.instance_id)
            return instances.ready_tasks(s, instance)

    def open_steps(self) -> set[str]:
        return {t.bpmn_id for t in self.ready()}

    def only_for(self, role: str, bpmn_id: str) -> HumanTask:
        """The ready task: in the inbox of the party of `role` (the learner's own account for the
        learner) and in no other party's."""
        (task,) = [t for t in self.ready() if t.bpmn_id == bpmn_id]
        assert task.role == role
        for other_role, actor in self.actors().items():
            with self.db.transaction(write=False) as s:
                seen = task.id in {t.id for t in tasks.list_for(s, actor=actor, instance_id=self.instance_id).items}
            assert seen == (other_role == role), f"{bpmn_id} {'' if seen else 'not '}seen by {other_role}"
        return task

    def complete(self, role: str, bpmn_id: str, data: dict[str, Any]) -> HumanTask:
        task = self.only_for(role, bpmn_id)
        with self.db.transaction() as s:
            return tasks.complete(s, actor=self.actors()[role], task_id=task.id, data=data)

    def review(self) -> Review:
        with self.db.transaction(write=False) as s:
            found = s.scalar(select(Review).where(Review.instance_id == self.instance_id))
            assert found is not None
            return found

    def status(self) -> str:
        with self.db.transaction(write=False) as s:
            instance = s.get_one(ProcessInstance, self.instance_id)
            assert instance is not None
            return instance.status

    def evaluate_all(self, **sheets: dict[str, Any]) -> None:
        for role, bpmn_id in (("sending", "evaluate_sending"), ("hosting", "evaluate_hosting"),
                              ("learner", "evaluate_learner")):
            self.complete(role, bpmn_id, sheets.get(role) or evaluation())


def deploy_review(db: Database) -> None:
    with db.transaction() as s:
        files = {"review.bpmn": (ROOT / "processes" / "review.bpmn").read_bytes()}
        deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")


def recognised_mobility(db: Database, p: PartnershipRun) -> tuple[int, Actor]:
    """A learner with an account and a mobility under the partnership's MoU, recognised already (the
    Mobility process's part, set directly here)."""
    mou_id = p.partnership().mou_id
    assert mou_id is not None
    made = make_learner_mobility(db, sending=p.sender, hosting=p.host, mou_id=mou_id,
                                 start=date(2027, 3, 1), end=date(2027, 4, 9))
    with db.transaction() as s:
        mobility = s.get_one(Mobility, made.mobility_id)
        assert mobility is not None
        mobility.status = MobilityStatus.RECOGNIZED
    return made.mobility_id, made.learner


def start_review(db: Database, p: PartnershipRun, *, actor: Actor | None = None) -> ReviewRun:
    """The sending organisation starts the review of a recognised mobility with the message the
    Mobility process throws at its end (``mobility_recognized``, payload ``{mobility_id}``)."""
    deploy_review(db)
    mobility_id, learner = recognised_mobility(db, p)
    with db.transaction() as s:
        result = messages.deliver(
            s, actor=actor or p.sender.actor, name="mobility_recognized", correlation_keys=None,
            payload={"mobility_id": mobility_id},
            parties={"sending": p.sender.org_id, "hosting": p.host.org_id, "learner": {"user_id": learner.user_id}})
        assert result.started
        assert result.instance_id is not None
    return ReviewRun(db, p, mobility_id, learner, result.instance_id)
