"""The Partnership process (processes/partnership.bpmn) end to end, on both database backends.

Every step is driven as the party its lane names; at each step the ready task must be in that
party's task list and in nobody else's. The three national models of the shipped DMN table are
exercised: no competent-institution approval (NL), explicit approval (DE), implicit approval after an
objection period (ES), the latter fired by the worker alone on a frozen clock.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

import records.actions  # noqa: F401  (registers the mou.* actions, as the app and worker do)
import records.partnership_connectors  # noqa: F401  (partnership actions and the implicit-approval connector)
from engine import clock, deployments, instances, jobs, tasks
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict
from engine.execution import open_workflow
from engine.models import HumanTask, InstanceStatus, TaskState
from engine.parties import Actor
from records import mou as mous
from records.models import ApprovalMode, ApprovalRole, Decision, Mou, MouApproval, MouStatus
from tests.engine.conftest import actor_for
from tests.factories import make_user
from tests.records.factories import SIGNER, Party, make_party, mou_content, register

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
FILES = ("partnership.bpmn", "national_models.dmn")
ROLES = {
    "sending": "Sending organisation",
    "hosting": "Hosting organisation",
    "competent-institution-home": "Competent institution (home)",
    "competent-institution-host": "Competent institution (host)",
}
CI_SIGNER = {"name": "Jonas Weber", "position": "Head of vocational training", "email": "weber@chamber.example"}


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    frozen_clock = FrozenClock(T0)
    previous = clock.use(frozen_clock)
    yield frozen_clock
    clock.use(previous)


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def profile(party: Party, country: str) -> dict[str, Any]:
    return {
        "organisation": {"name": f"Organisation {party.org_id}", "country": country, "type": "VET school",
                         "contact_person": {"name": "Mia Jansen", "position": "International officer",
                                            "email": party.email}},
        "qualifications_offered": [{"title": "Cook", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
                                    "units": ["Preparing cold dishes"]}],
        "vet_system": "Dual system: three years, two days a week at school, three in a company.",
        "europass_certificate_supplements": [{"qualification": "Cook", "url": "https://europass.example/cs/cook"}],
    }


ECVET_ROLES = {
    function: {"home": "Sending school", "host": "Hosting company"}
    for function in ("assessment", "validation", "recognition", "award_of_credit", "mou_approval", "la_approval")
}


@dataclass
class Partnership:
    db: Database
    instance_id: str
    sender: Party
    host: Party
    ci_home: Party
    ci_host: Party
    home: str
    abroad: str

    @property
    def parties(self) -> dict[str, Party]:
        return {"sending": self.sender, "hosting": self.host, "competent-institution-home": self.ci_home,
                "competent-institution-host": self.ci_host}

    def ready(self) -> list[HumanTask]:
        with self.db.transaction(write=False) as s:
            instance = instances.get(s, actor=self.sender.actor, instance_id=self.instance_id)
            return instances.ready_tasks(s, instance)

    def inbox(self, party: Party) -> list[HumanTask]:
        with self.db.transaction(write=False) as s:
            return list(tasks.list_for(s, actor=party.actor, instance_id=self.instance_id).items)

    def open_steps(self) -> set[str]:
        return {t.bpmn_id for t in self.ready()}

    def only_for(self, role: str, bpmn_id: str) -> HumanTask:
        """The ready task `bpmn_id`: bound to the party of `role`, in its inbox and in no one else's."""
        (task,) = [t for t in self.ready() if t.bpmn_id == bpmn_id]
        party = self.parties[role]
        assert (task.role, task.organisation_id) == (role, party.org_id)
        for other_role, other in self.parties.items():
            seen = task.id in {t.id for t in self.inbox(other)}
            assert seen == (other_role == role), f"{bpmn_id} {'' if seen else 'not '}seen by {other_role}"
        return task

    def complete(self, role: str, bpmn_id: str, data: dict[str, Any]) -> HumanTask:
        task = self.only_for(role, bpmn_id)
        with self.db.transaction() as s:
            return tasks.complete(s, actor=self.parties[role].actor, task_id=task.id, data=data)

    def form_values(self, role: str, bpmn_id: str) -> dict[str, Any]:
        task = self.only_for(role, bpmn_id)
        with self.db.transaction(write=False) as s:
            return tasks.detail(s, actor=self.parties[role].actor, task_id=task.id)["form"]["values"]

    def data(self) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            workflow = open_workflow(instances.get(s, actor=self.sender.actor, instance_id=self.instance_id))
            return dict(workflow.last_task.data)

    def status(self) -> str:
        with self.db.transaction(write=False) as s:
            return instances.get(s, actor=self.sender.actor, instance_id=self.instance_id).status

    def mou(self) -> tuple[str, int, int, bool]:
        """(status, current version number, approvals recorded, is_active)."""
        with self.db.transaction(write=False) as s:
            mou = s.get(Mou, self.data()["mou_id"])
            count = s.scalar(select(func.count(MouApproval.id)).where(MouApproval.mou_id == mou.id))
            return mou.status, mous.current_version(mou).number, count, mous.is_active(mou)

    def tasks_in_role(self, role: str) -> list[HumanTask]:
        with self.db.transaction(write=False) as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == self.instance_id,
                                                          HumanTask.role == role).order_by(HumanTask.created_at)))

    def content(self, **overrides: Any) -> dict[str, Any]:
        return mou_content(self.sender, self.host, countries=(self.home, self.abroad), **overrides)

    # The steps up to the hosting organisation's approval -------------------------------------------

    def build(self) -> None:
        self.complete("sending", "describe_sending", {"sending_profile": profile(self.sender, self.home)})
        self.complete("hosting", "describe_hosting", {"hosting_profile": profile(self.host, self.abroad)})
        self.complete("sending", "map_roles", {"ecvet_roles": ECVET_ROLES})
        assert self.data()["sending_profile"]["organisation"]["country"] == self.home

    def draft_and_submit(self, **overrides: Any) -> None:
        self.complete("sending", "draft_mou", self.content(**overrides))
        assert self.data()["mou_status"] == MouStatus.DRAFT
        self.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})


def start(db: Database, admin: Actor, home: str, abroad: str, *, ci_for: str | None = None) -> Partnership:
    with db.transaction() as s:
        files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
        deployed = deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
        (definition,) = [d.definition for d in deployed if d.definition.key == "partnership"]
        assert definition.roles == ROLES
    sender, host = make_party(db, home, "Sending school"), make_party(db, abroad, "Hosting company")
    ci_home, ci_host = make_party(db, home, "Chamber at home"), make_party(db, abroad, "Authority abroad")
    if ci_for:
        register(db, ci_home.org_id, ci_for)
    with db.transaction() as s:
        instance = instances.start(s, actor=admin, process_key="partnership", parties={
            "sending": sender.org_id, "hosting": host.org_id,
            "competent-institution-home": ci_home.org_id, "competent-institution-host": ci_host.org_id,
        })
    return Partnership(db, instance.id, sender, host, ci_home, ci_host, home, abroad)


def approve(values: dict[str, Any], signer: dict[str, str] = SIGNER, **extra: Any) -> dict[str, Any]:
    return {"mou_hash": values["mou_hash"], "decision": Decision.APPROVED, "signer": signer, **extra}


def test_the_process_deploys_with_its_decision_and_forms(db: Database, admin: Actor) -> None:
    p = start(db, admin, "NL", "BE")
    assert p.status() == InstanceStatus.WAITING
    task = p.only_for("sending", "describe_sending")
    assert task.form == "partnership_profile_sending.json" and task.instructions


def test_provider_responsibility_needs_no_competent_institution(db: Database, admin: Actor) -> None:
    """NL: the partners' signatures are enough; no competent institution is ever asked."""
    p = start(db, admin, "NL", "BE")
    p.build()
    p.draft_and_submit()
    data = p.data()
    assert (data["country"], data["model"], data["mou_approval"]) == ("NL", "provider_responsibility", "none")
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 1, False), "the sending organisation signed on submitting"
    assert p.open_steps() == {"approve_hosting"}

    values = p.form_values("hosting", "approve_hosting")
    assert values["mou_hash"] == mous.content_hash(p.content())
    p.complete("hosting", "approve_hosting", approve(values))

    assert p.mou() == (MouStatus.ACTIVE, 1, 2, True)
    assert p.status() == InstanceStatus.COMPLETED and p.ready() == []
    assert p.tasks_in_role("competent-institution-home") == []
    assert p.tasks_in_role("competent-institution-host") == []


def test_explicit_approval_rejection_revision_and_stale_hash(db: Database, admin: Actor) -> None:
    """DE: the chamber approves explicitly, in parallel with the host; a rejection returns the draft."""
    p = start(db, admin, "DE", "NL", ci_for="DE")
    p.build()
    p.draft_and_submit()
    assert (p.data()["model"], p.data()["mou_approval"]) == ("chamber_approval", "explicit")
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}
    p.only_for("competent-institution-home", "approve_ci_home")  # the chamber's members only

    # The hosting organisation rejects version 1 with a comment: the chamber's open task is withdrawn
    # and the draft goes back to the sending organisation with the comment.
    first = p.form_values("hosting", "approve_hosting")
    comment = "Twelve weeks is too long for our kitchen; at most eight."
    p.complete("hosting", "approve_hosting", {"mou_hash": first["mou_hash"], "decision": Decision.REJECTED,
                                              "comment": comment, "signer": SIGNER})
    assert p.mou()[:3] == (MouStatus.DRAFT, 1, 2)
    assert p.open_steps() == {"draft_mou"}
    assert [t.state for t in p.tasks_in_role("competent-institution-home")] == [TaskState.CANCELLED]
    assert p.form_values("sending", "draft_mou")["rejection"] == {"comment": comment, "version": 1}

    # Revised text (version 2), submitted and signed again by the sender: both are asked again.
    p.draft_and_submit(mobility_duration_weeks={"min": 3, "max": 8})
    assert p.mou()[:3] == (MouStatus.IN_APPROVAL, 2, 3)
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}
    second = p.form_values("hosting", "approve_hosting")
    assert second["mou_hash"] != first["mou_hash"]

    # Approving with the hash of the text read before the revision: 409, nothing changes.
    with pytest.raises(Conflict, match="stale"):
        p.complete("hosting", "approve_hosting", approve(first))
    with pytest.raises(Conflict, match="stale"):
        p.complete("competent-institution-home", "approve_ci_home", approve(first, CI_SIGNER))
    assert p.mou()[:3] == (MouStatus.IN_APPROVAL, 2, 3)
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}

    p.complete("hosting", "approve_hosting", approve(second))
    assert p.mou() == (MouStatus.IN_APPROVAL, 2, 4, False), "the chamber has not approved yet"
    assert p.status() in InstanceStatus.ACTIVE

    ci_values = p.form_values("competent-institution-home", "approve_ci_home")
    assert ci_values["mou_hash"] == second["mou_hash"]
    p.complete("competent-institution-home", "approve_ci_home", approve(ci_values, CI_SIGNER))

    assert p.mou() == (MouStatus.ACTIVE, 2, 5, True)
    assert p.status() == InstanceStatus.COMPLETED and p.ready() == []
    assert p.tasks_in_role("competent-institution-host") == []
    with db.transaction(write=False) as s:
        ci = s.scalars(select(MouApproval).where(MouApproval.role == ApprovalRole.COMPETENT_INSTITUTION)).one()
        assert (ci.organisation_id, ci.mode, ci.signer_name) == (p.ci_home.org_id, ApprovalMode.EXPLICIT,
                                                                 CI_SIGNER["name"])


def test_a_competent_institution_rejection_withdraws_the_hosts_task(db: Database, admin: Actor) -> None:
    p = start(db, admin, "DE", "NL", ci_for="DE")
    p.build()
    p.draft_and_submit()
    values = p.form_values("competent-institution-home", "approve_ci_home")
    p.complete("competent-institution-home", "approve_ci_home",
               {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED, "signer": CI_SIGNER,
                "comment": "Recognition must name the chamber, not the school."})
    assert p.open_steps() == {"draft_mou"}
    assert [t.state for t in p.tasks_in_role("hosting")][-1] == TaskState.CANCELLED
    assert p.form_values("sending", "draft_mou")["rejection"]["comment"].startswith("Recognition must name")
    assert p.mou()[0] == MouStatus.DRAFT


def test_an_unchanged_resubmission_keeps_earlier_approvals(db: Database, admin: Actor) -> None:
    """The chamber approved, the host rejected, the sender resubmits the same text after talking to
    the host: the chamber's approval of that hash still counts, and confirming it is not an error."""
    p = start(db, admin, "DE", "NL", ci_for="DE")
    p.build()
    p.draft_and_submit()
    values = p.form_values("competent-institution-home", "approve_ci_home")
    p.complete("competent-institution-home", "approve_ci_home", approve(values, CI_SIGNER))
    p.complete("hosting", "approve_hosting", {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED,
                                              "comment": "Let us talk about the duration first.", "signer": SIGNER})
    p.draft_and_submit()
    assert p.mou()[:3] == (MouStatus.IN_APPROVAL, 1, 3), "same text, same version; nothing new to sign"
    p.complete("competent-institution-home", "approve_ci_home", approve(values, CI_SIGNER))
    p.complete("hosting", "approve_hosting", approve(values))
    assert p.mou() == (MouStatus.ACTIVE, 1, 4, True)
    assert p.status() == InstanceStatus.COMPLETED


def test_implicit_approval_is_recorded_by_the_worker_after_the_period(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """ES: the regional authority approves by raising no objection within 20 days."""
    p = start(db, admin, "ES", "NL", ci_for="ES")
    p.build()
    p.draft_and_submit()
    assert (p.data()["mou_approval"], p.data()["mou_approval_days"]) == ("implicit", 20)
    assert p.open_steps() == {"approve_hosting"}, "nobody at the authority has to act"
    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False)
    assert p.ready() == [] and p.status() in InstanceStatus.ACTIVE, "waiting for the objection period"

    frozen.advance(days=19)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False), "the objection period is still running"

    frozen.advance(days=1, seconds=1)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)
    assert p.status() == InstanceStatus.COMPLETED
    assert p.tasks_in_role("competent-institution-home") == []
    with db.transaction(write=False) as s:
        ci = s.scalars(select(MouApproval).where(MouApproval.role == ApprovalRole.COMPETENT_INSTITUTION)).one()
        assert (ci.organisation_id, ci.mode, ci.recorded_by) == (p.ci_home.org_id, ApprovalMode.IMPLICIT, None)
    assert p.data()["mou_status"] == MouStatus.ACTIVE


def test_the_period_can_run_out_before_the_host_decides(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = start(db, admin, "ES", "NL", ci_for="ES")
    p.build()
    p.draft_and_submit()
    frozen.advance(days=21)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False), "implicitly approved; the host still has to sign"
    assert p.open_steps() == {"approve_hosting"}
    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)
    assert p.status() == InstanceStatus.COMPLETED


def test_the_connector_needs_the_worker_job(db: Database) -> None:
    with pytest.raises(RuntimeError, match="worker job"):
        records.partnership_connectors.implicit_approval(mou_id=1)
