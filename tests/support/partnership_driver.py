"""Drive the Partnership process (processes/partnership.bpmn) as its parties, for lifecycle tests.

Every step is taken as the party whose lane holds the task, after checking that the ready task is in
that party's task list and in nobody else's (the checklist names who does what).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import attachments, mou
from ecvet.partnership.models import Decision, Mou, MouApproval, Partnership
from engine import deployments, instances, tasks
from engine.config import ROOT
from engine.db import Database
from engine.execution import open_workflow
from engine.models import HumanTask, InstanceParty
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, Party, make_party, mou_content, register

FILES = ("partnership.bpmn", "national_models.dmn")
ROLES = {
    "sending": "Sending organisation",
    "hosting": "Hosting organisation",
    "competent-institution-home": "Competent institution (home)",
    "competent-institution-host": "Competent institution (host)",
    # A task each for further partners and institutions of a multilateral MoU, bound when it is submitted.
    "signing-partners": "Signing partners",
    "competent-institutions": "Competent institutions",
}
#: What the chamber's member gives when signing; name and e-mail are her account's (Jonas Weber).
CI_SIGNER = {"position": "Head of vocational training", "place": "Köln"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def profile(party: Party, country: str, *, supplement: int | None = None) -> dict[str, Any]:
    """A complete partner profile; `supplement` is the attachment id of a Certificate Supplement."""
    supplements: list[dict[str, Any]] = [{"qualification": "Cook", "url": "https://europass.example/cs/cook"}]
    if supplement is not None:
        supplements.append({"qualification": "Cook", "attachment_id": supplement})
    return {
        "organisation": {"name": f"Organisation {party.org_id}", "country": country, "type": "VET school",
                         "contact_person": {"name": "Mia Jansen", "position": "International officer",
                                            "email": party.email}},
        "qualifications_offered": [{
            "title": "Cook", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
            "units": [{"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "learning_outcomes": [
                {"kind": "knowledge", "text": "Knows the hygiene rules for cold food"},
                {"kind": "skills", "text": "Prepares cold starters following the recipe"},
                {"kind": "competence", "text": "Organises their station alone during service"},
            ]}],
        }],
        "vet_system": "Dual system: three years, two days a week at school, three in a company.",
        "europass_certificate_supplements": supplements,
    }


def ecvet_roles(host_org: int) -> dict[str, Any]:
    """Every function at home with the sending school (by name), abroad with the hosting company (by id)."""
    return {f: {"home": {"organisation_name": "Sending school"}, "host": {"organisation_id": host_org}}
            for f in CompetenceFunction.ALL}


def approve(values: dict[str, Any], signer: dict[str, str] = SIGNER, **extra: Any) -> dict[str, Any]:
    return {"mou_hash": values["mou_hash"], "decision": Decision.APPROVED, "signer": signer, **extra}


def reject(values: dict[str, Any], comment: str, signer: dict[str, str] = SIGNER) -> dict[str, Any]:
    return {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED, "comment": comment, "signer": signer}


@dataclass
class PartnershipRun:
    db: Database
    instance_id: str
    sender: Party
    host: Party
    ci_home: Party
    ci_host: Party
    home: str
    abroad: str
    valid_until: str = "2099-12-31"
    extra_parties: dict[str, Party] = field(default_factory=dict)

    @property
    def parties(self) -> dict[str, Party]:
        return {"sending": self.sender, "hosting": self.host, "competent-institution-home": self.ci_home,
                "competent-institution-host": self.ci_host, **self.extra_parties}

    # Reading ---------------------------------------------------------------------------------------

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
        """The process data as the most recently completed task left it (in a called process too)."""
        with self.db.transaction(write=False) as s:
            workflow = open_workflow(instances.get(s, actor=self.sender.actor, instance_id=self.instance_id))
            latest = max(workflow.get_tasks(state=TaskState.COMPLETED), key=lambda t: t.last_state_change)
            return dict(latest.data)

    def status(self) -> str:
        with self.db.transaction(write=False) as s:
            return instances.get(s, actor=self.sender.actor, instance_id=self.instance_id).status

    def partnership(self) -> Partnership:
        with self.db.transaction(write=False) as s:
            found = s.scalar(select(Partnership).where(Partnership.instance_id == self.instance_id))
            assert found is not None
            return found

    def mou(self) -> tuple[str, int, int, bool]:
        """(status, current version number, approvals recorded, is_active)."""
        with self.db.transaction(write=False) as s:
            memorandum = s.get_one(Mou, self.partnership().mou_id)
            count = s.scalars(select(func.count(MouApproval.id)).where(MouApproval.mou_id == memorandum.id)).one()
            return memorandum.status, mou.current_version(memorandum).number, count, mou.is_active(memorandum)

    def in_force_version(self) -> int | None:
        with self.db.transaction(write=False) as s:
            memorandum = s.get_one(Mou, self.partnership().mou_id)
            version = mou.in_force_version(memorandum)
            return version.number if version else None

    def tasks_in_role(self, role: str) -> list[HumanTask]:
        with self.db.transaction(write=False) as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == self.instance_id,
                                                          HumanTask.role == role).order_by(HumanTask.created_at)))

    def content(self, **overrides: Any) -> dict[str, Any]:
        overrides.setdefault("valid_until", self.valid_until)
        return mou_content(self.sender, self.host, countries=(self.home, self.abroad), **overrides)

    # Steps ----------------------------------------------------------------------------------------

    def upload(self, party: Party, content: bytes = PDF, filename: str = "certificate-supplement.pdf") -> int:
        with self.db.transaction() as s:
            return attachments.upload(s, actor=party.actor, filename=filename, content=content).id

    def build(self, *, supplement: int | None = None) -> None:
        self.complete("sending", "describe_sending", {"sending_profile": profile(self.sender, self.home)})
        self.complete("hosting", "describe_hosting",
                      {"hosting_profile": profile(self.host, self.abroad, supplement=supplement)})
        self.complete("sending", "map_roles", {"ecvet_roles": ecvet_roles(self.host.org_id)})

    def draft_and_submit(self, **overrides: Any) -> None:
        self.complete("sending", "draft_mou", self.content(**overrides))
        self.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})

    def approve_all(self, *roles: str) -> None:
        """Every named party approves the text it is shown."""
        for role in roles:
            bpmn_id = {"hosting": "approve_hosting", "competent-institution-home": "approve_ci_home",
                       "competent-institution-host": "approve_ci_host"}[role]
            values = self.form_values(role, bpmn_id)
            self.complete(role, bpmn_id, approve(values, SIGNER if role == "hosting" else CI_SIGNER))


def deploy(db: Database) -> None:
    with db.transaction() as s:
        files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
        deployed = deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
        (definition,) = [d.definition for d in deployed if d.definition.key == "partnership"]
        assert definition.roles == ROLES


def start(
    db: Database,
    admin: Actor,
    home: str,
    abroad: str,
    *,
    ci_home_for: str | None = None,
    ci_host_for: str | None = None,
    valid_until: str | None = None,
    deploy_shipped: bool = True,
) -> PartnershipRun:
    """Deploy (unless told not to), register the competent institutions the national models need,
    start an instance of the latest version."""
    if deploy_shipped:
        deploy(db)
    sender, host = make_party(db, home, "Sending school"), make_party(db, abroad, "Hosting company")
    ci_home = make_party(db, home, "Chamber at home", member="Jonas Weber")
    ci_host = make_party(db, abroad, "Authority abroad")
    if ci_home_for:
        register(db, ci_home.org_id, ci_home_for)
    if ci_host_for:
        register(db, ci_host.org_id, ci_host_for)
    with db.transaction() as s:
        instance = instances.start(s, actor=admin, process_key="partnership", parties={
            "sending": sender.org_id, "hosting": host.org_id,
            "competent-institution-home": ci_home.org_id, "competent-institution-host": ci_host.org_id,
        })
    return PartnershipRun(db, instance.id, sender, host, ci_home, ci_host, home, abroad,
                          valid_until=valid_until or "2099-12-31")


def valid_for(days: int, today: date) -> str:
    return (today + timedelta(days=days)).isoformat()


def bound_organisations(db: Database, instance_id: str) -> dict[str, int | None]:
    with db.transaction(write=False) as s:
        return {p.role: p.organisation_id for p in s.scalars(
            select(InstanceParty).where(InstanceParty.instance_id == instance_id))}
