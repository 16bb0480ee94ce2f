"""The Partnership process (processes/partnership.bpmn) end to end, on both database backends.

Every step is driven as the party its lane names; at each step the ready task must be in that
party's task list and in nobody else's. The three illustrative national models of the shipped DMN
table are exercised for the home and for the host country: no competent-institution approval (NL),
explicit approval by a chamber (DE), implicit approval by a regional authority after an objection
period (ES), the latter fired by the worker alone on a frozen clock. The MoU in force (renewal
reminder, revision, expiry) is in test_workflow_renewal.py.
"""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from ecvet import evidence
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import attachments, profiles, roles, service, views
from ecvet.partnership.models import ApprovalMode, ApprovalRole, Mou, MouApproval, MouStatus, PartnerProfile, RoleMap
from engine import deployments, jobs
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.models import InstanceStatus, TaskState
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import (
    CI_SIGNER,
    PartnershipRun,
    approve,
    profile,
    reject,
    start,
)

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def ci_approvals(db: Database) -> list[MouApproval]:
    with db.transaction(write=False) as s:
        return list(s.scalars(select(MouApproval).where(MouApproval.role == ApprovalRole.COMPETENT_INSTITUTION)
                              .order_by(MouApproval.id)))


def test_the_process_deploys_with_its_decision_and_forms(db: Database, admin: Actor) -> None:
    p = start(db, admin, "NL", "BE")
    assert p.status() == InstanceStatus.WAITING
    task = p.only_for("sending", "describe_sending")
    assert task.form == "partnership_profile_sending.json"
    assert task.instructions
    assert p.data()["mou_reminder_days"] == 60


def test_provider_responsibility_needs_no_competent_institution(db: Database, admin: Actor) -> None:
    """NL home, BE host (default row): the partners' signatures are enough; no competent institution is
    ever asked. The profiles and the role map are records of the partnership."""
    p = start(db, admin, "NL", "BE")
    p.build()
    partnership = p.partnership()
    with db.transaction(write=False) as s:
        current = profiles.current_profiles(s, partnership)
        assert [(x.side, x.organisation_id) for x in current] == [("sending", p.sender.org_id),
                                                                  ("hosting", p.host.org_id)]
        assert current[1].content["qualifications_offered"][0]["units"][0]["learning_outcomes"][1] == {
            "kind": "skills", "text": "Prepares cold starters following the recipe"}
        role_map = roles.current(s, partnership.id)
        assert role_map is not None
        assert len(role_map.entries) == 2 * len(CompetenceFunction.ALL)
        host_assessment = next(e for e in role_map.entries if (e.function, e.side) == ("assessment", "host"))
        assert (host_assessment.country, host_assessment.organisation_id) == ("BE", p.host.org_id)
    data = p.data()
    assert (data["partnership_id"], data["sending_profile_id"], data["role_map_id"]) == (
        partnership.id, current[0].id, role_map.id)

    p.draft_and_submit()
    data = p.data()
    assert (data["home_country"], data["host_country"]) == ("NL", "BE")
    assert data["national_model_home"] == {"country": "NL", "model": "provider_responsibility",
                                           "mou_approval": "none", "mou_approval_days": 0}
    assert data["national_model_host"]["model"] == "default"
    assert data["national_model_host"]["mou_approval"] == "none"
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 1, False), "the sending organisation signed on submitting"
    assert p.open_steps() == {"approve_hosting"}

    values = p.form_values("hosting", "approve_hosting")
    assert values["mou_hash"] == evidence.content_hash(p.content())
    p.complete("hosting", "approve_hosting", approve(values))

    assert p.mou() == (MouStatus.ACTIVE, 1, 2, True)
    assert p.partnership().mou_id == p.data()["mou_id"]
    # In force: nobody has work; the process waits for the reminder, a revision request or the expiry.
    assert p.ready() == []
    assert p.status() in InstanceStatus.ACTIVE
    assert p.tasks_in_role("competent-institution-home") == []
    assert p.tasks_in_role("competent-institution-host") == []


def test_explicit_approval_rejection_revision_and_stale_hash(db: Database, admin: Actor) -> None:
    """DE home: the chamber approves explicitly, in parallel with the host; a rejection returns the draft."""
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    p.draft_and_submit()
    data = p.data()
    assert (data["national_model_home"]["model"], data["national_model_home"]["mou_approval"]) == (
        "chamber_approval", "explicit")
    assert data["national_model_host"]["mou_approval"] == "none"
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}
    p.only_for("competent-institution-home", "approve_ci_home")  # the chamber's members only

    # The hosting organisation rejects version 1 with a comment: the chamber's open task is withdrawn
    # and the draft goes back to the sending organisation with the comment.
    first = p.form_values("hosting", "approve_hosting")
    comment = "Twelve weeks is too long for our kitchen; at most eight."
    p.complete("hosting", "approve_hosting", reject(first, comment))
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
    assert p.ready() == []
    assert p.status() in InstanceStatus.ACTIVE
    assert p.tasks_in_role("competent-institution-host") == []
    (ci,) = ci_approvals(db)
    assert (ci.organisation_id, ci.mode, ci.signer_user_id, ci.signer_name, ci.signer_position, ci.signer_place) == (
        p.ci_home.org_id, ApprovalMode.EXPLICIT, p.ci_home.user_id, "Jonas Weber", CI_SIGNER["position"], "Köln")


def test_a_competent_institution_rejection_withdraws_the_hosts_task(db: Database, admin: Actor) -> None:
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    p.draft_and_submit()
    values = p.form_values("competent-institution-home", "approve_ci_home")
    p.complete("competent-institution-home", "approve_ci_home",
               reject(values, "Recognition must name the chamber, not the school.", CI_SIGNER))
    assert p.open_steps() == {"draft_mou"}
    assert [t.state for t in p.tasks_in_role("hosting") if t.bpmn_id == "approve_hosting"] == [TaskState.CANCELLED]
    assert p.form_values("sending", "draft_mou")["rejection"]["comment"].startswith("Recognition must name")
    assert p.mou()[0] == MouStatus.DRAFT


def test_an_unchanged_resubmission_keeps_earlier_approvals(db: Database, admin: Actor) -> None:
    """The chamber approved, the host rejected, the sender resubmits the same text after talking to
    the host: the chamber's approval of that hash still counts, and confirming it is not an error."""
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    p.draft_and_submit()
    values = p.form_values("competent-institution-home", "approve_ci_home")
    p.complete("competent-institution-home", "approve_ci_home", approve(values, CI_SIGNER))
    p.complete("hosting", "approve_hosting", reject(values, "Let us talk about the duration first."))
    p.draft_and_submit()
    assert p.mou()[:3] == (MouStatus.IN_APPROVAL, 1, 3), "same text, same version; nothing new to sign"
    assert "rejection" not in p.form_values("hosting", "approve_hosting")
    p.complete("competent-institution-home", "approve_ci_home", approve(values, CI_SIGNER))
    p.complete("hosting", "approve_hosting", approve(values))
    assert p.mou() == (MouStatus.ACTIVE, 1, 4, True)


def test_implicit_approval_is_recorded_by_the_worker_after_the_period(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """ES home: the regional authority approves by raising no objection within 20 days."""
    p = start(db, admin, "ES", "NL", ci_home_for="ES")
    p.build()
    p.draft_and_submit()
    assert p.data()["national_model_home"]["mou_approval"] == "implicit"
    assert p.data()["national_model_home"]["mou_approval_days"] == 20
    assert p.open_steps() == {"approve_hosting", "object_mou_ci_home"}, "the authority sees the request"
    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False)
    assert p.open_steps() == {"object_mou_ci_home"}, "waiting for the objection period"
    assert p.status() in InstanceStatus.ACTIVE, "waiting for the objection period"

    frozen.advance(days=19)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False), "the objection period is still running"

    frozen.advance(days=1, seconds=1)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)
    assert [(t.bpmn_id, t.state) for t in p.tasks_in_role("competent-institution-home")] == [
        ("object_mou_ci_home", TaskState.CANCELLED)], "the objection task is withdrawn when silence approves"
    (ci,) = ci_approvals(db)
    assert (ci.organisation_id, ci.mode, ci.recorded_by) == (p.ci_home.org_id, ApprovalMode.IMPLICIT, None)
    assert p.data()["mou_status"] == MouStatus.ACTIVE


def test_the_period_can_run_out_before_the_host_decides(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = start(db, admin, "ES", "NL", ci_home_for="ES")
    p.build()
    p.draft_and_submit()
    frozen.advance(days=21)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False), "implicitly approved; the host still has to sign"
    assert p.open_steps() == {"approve_hosting"}
    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)


def test_the_host_countrys_chamber_approves_explicitly(db: Database, admin: Actor) -> None:
    """NL home (no approval), DE host: the host country's national model requires its chamber."""
    p = start(db, admin, "NL", "DE", ci_host_for="DE")
    p.build()
    p.draft_and_submit()
    data = p.data()
    assert data["national_model_home"]["mou_approval"] == "none"
    assert (data["national_model_host"]["model"], data["national_model_host"]["mou_approval"]) == (
        "chamber_approval", "explicit")
    assert p.open_steps() == {"approve_hosting", "approve_ci_host"}
    p.only_for("competent-institution-host", "approve_ci_host")
    p.approve_all("hosting")
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 2, False), "the host country's chamber has not approved"
    p.approve_all("competent-institution-host")
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)
    assert p.tasks_in_role("competent-institution-home") == []
    (ci,) = ci_approvals(db)
    assert (ci.organisation_id, ci.mode) == (p.ci_host.org_id, ApprovalMode.EXPLICIT)


def test_a_host_chamber_rejection_returns_the_draft(db: Database, admin: Actor) -> None:
    p = start(db, admin, "NL", "DE", ci_host_for="DE")
    p.build()
    p.draft_and_submit()
    values = p.form_values("competent-institution-host", "approve_ci_host")
    p.complete("competent-institution-host", "approve_ci_host",
               reject(values, "Name the chamber as recogniser.", CI_SIGNER))
    assert p.open_steps() == {"draft_mou"}
    assert p.mou()[0] == MouStatus.DRAFT
    assert p.form_values("sending", "draft_mou")["rejection"]["comment"] == "Name the chamber as recogniser."


def test_both_countries_gates_explicit_at_home_implicit_abroad(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """DE home (chamber, explicit, 28 days) and ES host (regional authority, implicit, 20 days): each
    country's competent institution per its own row; the implicit one is recorded by the worker alone."""
    p = start(db, admin, "DE", "ES", ci_home_for="DE", ci_host_for="ES")
    p.build()
    p.draft_and_submit()
    assert p.open_steps() == {"approve_hosting", "approve_ci_home", "object_mou_ci_host"}, \
        "the ES authority acts by silence, and sees it"
    p.approve_all("hosting", "competent-institution-home")
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 3, False)
    frozen.advance(days=20, seconds=1)
    jobs.run_due(db)
    assert p.mou() == (MouStatus.ACTIVE, 1, 4, True)
    assert [(a.organisation_id, a.mode) for a in ci_approvals(db)] == [
        (p.ci_home.org_id, ApprovalMode.EXPLICIT), (p.ci_host.org_id, ApprovalMode.IMPLICIT)]
    assert [t.state for t in p.tasks_in_role("competent-institution-host")] == [TaskState.CANCELLED]


def test_a_competent_institution_not_bound_to_the_partnership_is_refused_at_submission(
    db: Database, admin: Actor
) -> None:
    """The registry names another organisation as the DE chamber than the one bound to the lane: the
    MoU could never become active through this process, so submitting is refused and nothing changes."""
    p = start(db, admin, "DE", "NL")
    other_chamber = make_party(db, "DE", "Another chamber")
    register(db, other_chamber.org_id, "DE")
    p.build()
    p.complete("sending", "draft_mou", p.content())
    with pytest.raises(Invalid) as refused:
        p.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})
    assert f"organisation {other_chamber.org_id}" in refused.value.errors["competent_institutions"][0]
    assert p.mou()[:3] == (MouStatus.DRAFT, 1, 0)
    assert p.open_steps() == {"submit_mou"}


def test_the_mou_is_signed_by_the_two_partners_only(db: Database, admin: Actor) -> None:
    p = start(db, admin, "NL", "BE")
    stranger = make_party(db, "FR", "A stranger")
    p.build()
    content = p.content()
    content["signing_organisations"][1]["organisation_id"] = stranger.org_id
    p.complete("sending", "draft_mou", content)
    with pytest.raises(Invalid) as refused:
        p.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})
    assert "signing_organisations" in refused.value.errors
    assert p.mou()[0] == MouStatus.DRAFT


def test_profiles_carry_certificate_supplements_as_attachments(db: Database, admin: Actor) -> None:
    """The host attaches its Europass Certificate Supplement: the partnership's parties may read it,
    an outsider may not, and a profile cannot refer to a file its author may not see."""
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    outsider = make_party(db, "FR", "Outsider")
    foreign = p.upload(outsider, filename="not-yours.pdf")
    p.complete("sending", "describe_sending", {"sending_profile": p_profile(p, "sending")})

    with pytest.raises(Invalid) as refused:
        p.complete("hosting", "describe_hosting",
                   {"hosting_profile": p_profile(p, "hosting", supplement=foreign)})
    assert refused.value.errors == {
        "hosting_profile.europass_certificate_supplements.1.attachment_id": [f"No attachment {foreign}"]}

    supplement = p.upload(p.host)
    with db.transaction(write=False) as s:  # before it is referenced, only the uploader's organisation sees it
        with pytest.raises(Exception, match="No attachment"):
            attachments.get(s, actor=p.sender.actor, attachment_id=supplement)
    p.complete("hosting", "describe_hosting", {"hosting_profile": p_profile(p, "hosting", supplement=supplement)})
    with db.transaction(write=False) as s:
        for party in (p.sender, p.host, p.ci_home, p.ci_host):
            assert attachments.get(s, actor=party.actor, attachment_id=supplement).media_type == "application/pdf"
        with pytest.raises(Exception, match="No attachment"):
            attachments.get(s, actor=outsider.actor, attachment_id=supplement)
        profile = s.scalars(select(PartnerProfile).where(PartnerProfile.side == "hosting")).one()
        assert [a["id"] for a in views.profile(s, profile)["attachments"]] == [supplement]


def p_profile(p: PartnershipRun, side: str, supplement: int | None = None) -> dict[str, Any]:
    party, country = (p.sender, p.home) if side == "sending" else (p.host, p.abroad)
    return profile(party, country, supplement=supplement)


def test_a_profile_must_name_the_registered_country(db: Database, admin: Actor) -> None:
    p = start(db, admin, "NL", "BE")
    profile = p_profile(p, "sending")
    profile["organisation"]["country"] = "FR"
    with pytest.raises(Invalid) as refused:
        p.complete("sending", "describe_sending", {"sending_profile": profile})
    assert refused.value.errors == {"sending_profile.organisation.country": ["Registered in NL"]}
    with db.transaction(write=False) as s:
        assert s.scalar(select(PartnerProfile.id)) is None


def test_a_partnership_is_visible_to_its_parties_only(db: Database, admin: Actor) -> None:
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    outsider = make_party(db, "FR", "Outsider")
    partnership_id = p.partnership().id
    with db.transaction(write=False) as s:
        for party in (p.sender, p.host, p.ci_home, p.ci_host):
            assert views.partnership(s, actor=party.actor, partnership_id=partnership_id)["id"] == partnership_id
        role_map = views.partnership(s, actor=admin, partnership_id=partnership_id)["role_map"]
        assert role_map is not None
        assert role_map["entries"]
        with pytest.raises(Exception, match="No partnership"):
            service.get(s, actor=outsider.actor, partnership_id=partnership_id)
        assert [x.id for x in service.list_for(s, actor=outsider.actor).items] == []
        assert [x.id for x in service.list_for(s, actor=p.ci_host.actor).items] == [partnership_id]
        assert s.scalar(select(RoleMap.partnership_id)) == partnership_id


def test_a_redeployed_table_changes_the_gates_of_new_partnerships_only(db: Database, admin: Actor) -> None:
    """Process owners make MoUs in NL need the approval of a competent institution and redeploy: a
    partnership started afterwards gets the gate, one already under way keeps the rules it started
    with (its MoU is decided with the table its process version carries), without any Python change."""
    before = start(db, admin, "NL", "BE")
    before.build()
    before.complete("sending", "draft_mou", before.content())

    shipped = (ROOT / "processes" / "national_models.dmn").read_text()
    pattern = r'(<outputEntry id="LiteralExpression_provider_responsibility_mou_approval">\s*<text>)"none"(</text>)'
    changed, count = re.subn(pattern, r'\1"explicit"\2', shipped)
    assert count == 1
    with db.transaction() as s:
        deployed = deployments.deploy(s, actor=None, forms_dir=ROOT / "forms", files={
            "partnership.bpmn": (ROOT / "processes" / "partnership.bpmn").read_bytes(),
            "national_models.dmn": changed.encode()})
        assert {d.definition.key: d.definition.version for d in deployed}["partnership"] == 2

    after = start(db, admin, "NL", "BE", ci_home_for="NL", deploy_shipped=False)
    after.build()
    after.draft_and_submit()
    assert after.data()["national_model_home"]["mou_approval"] == "explicit"
    assert after.open_steps() == {"approve_hosting", "approve_ci_home"}
    after.approve_all("hosting")
    assert after.mou()[0] == MouStatus.IN_APPROVAL, "the NL competent institution must approve too"
    after.approve_all("competent-institution-home")
    assert after.mou()[0] == MouStatus.ACTIVE

    before.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})
    assert before.data()["national_model_home"]["mou_approval"] == "none"
    assert before.open_steps() == {"approve_hosting"}
    before.approve_all("hosting")
    assert before.mou() == (MouStatus.ACTIVE, 1, 2, True), "decided with the table it started with"
    with db.transaction(write=False) as s:
        pinned = {memorandum.id: memorandum.national_models_sha256 for memorandum in s.scalars(select(Mou))}
    assert pinned[before.partnership().mou_id or 0] == hashlib.sha256(shipped.encode()).hexdigest()
    assert pinned[after.partnership().mou_id or 0] == hashlib.sha256(changed.encode()).hexdigest()


@pytest.mark.parametrize("name", ["partnership.bpmn", "review.bpmn"])
def test_every_element_has_its_place_in_the_diagram(name: str) -> None:
    """bpmn-js and Camunda Modeler draw only what has a shape or an edge: every pool, lane, flow node
    and sequence flow has one, and every edge runs along at least two points."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "di": "http://www.omg.org/spec/DD/20100524/DI"}
    root = etree.parse(str(ROOT / "processes" / name)).getroot()
    kinds = ("participant", "lane", "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
             "boundaryEvent", "userTask", "scriptTask", "serviceTask", "businessRuleTask", "receiveTask",
             "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "eventBasedGateway")
    elements = {e.get("id") for kind in kinds for e in root.iterfind(f".//bpmn:{kind}", ns)}
    flows = {e.get("id") for e in root.iterfind(".//bpmn:sequenceFlow", ns)}
    shapes = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNShape", ns)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", ns)}
    assert elements
    assert elements <= shapes
    assert flows
    assert flows <= set(edges)
    assert all(len(edge.findall("di:waypoint", ns)) >= 2 for edge in edges.values())
