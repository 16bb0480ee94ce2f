"""A partnership's whole life, once per illustrative national model, on both database backends.

Two partners describe themselves (the host attaches its Europass Certificate Supplement; a file of
the wrong type and an oversized one are refused; an outsider never sees the file), map the roles,
draft the MoU; the host rejects the first version, the revised one is approved by exactly the gates
the national models of the home and the host country require (an implicit approval recorded by the
worker alone). A learner's mobility under the MoU is recognised and reviewed: evaluation sheets by
sending, hosting and learner, an action plan, and a revision of the MoU through the same gates. At
last the renewal reminder comes before the validity date, the sending organisation lets the MoU
expire, and the worker ends it at its validity date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
import ecvet.review.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.partnership import attachments
from ecvet.partnership.models import ApprovalMode, ApprovalRole, MouApproval, MouStatus, PartnerProfile
from ecvet.review import service
from ecvet.review.models import ReviewStatus
from engine import config, jobs
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import NotFound
from engine.models import Incident, InstanceStatus, TaskState
from engine.parties import Actor
from tests.support.ecvet_factories import Party, make_party
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import PDF, PartnershipRun, reject, start
from tests.support.review_driver import action_items, evaluation, start_review
from tests.support.settings import environment

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Model:
    home: str
    abroad: str
    home_gate: str | None  # what the home country's row says about MoU approval
    host_gate: str | None  # what the host country's row says


MODELS = {
    "provider_responsibility": Model("NL", "DE", None, "explicit"),  # NL: none at home; the DE chamber abroad
    "chamber_approval": Model("DE", "ES", "explicit", "implicit"),  # DE chamber at home; ES authority abroad
    "regional_authority": Model("ES", "NL", "implicit", None),  # ES authority at home; nothing in NL
}


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def pass_the_gates(p: PartnershipRun, model: Model, frozen: FrozenClock) -> None:
    """Exactly the approvals the two national models require are asked, and then given."""
    explicit = {"approve_hosting"}
    if model.home_gate == "explicit":
        explicit.add("approve_ci_home")
    if model.host_gate == "explicit":
        explicit.add("approve_ci_host")
    silent = {f"object_mou_ci_{side}" for side, gate in (("home", model.home_gate), ("host", model.host_gate))
              if gate == "implicit"}
    assert p.open_steps() == explicit | silent
    roles = {"approve_hosting": "hosting", "approve_ci_home": "competent-institution-home",
             "approve_ci_host": "competent-institution-host"}
    p.approve_all(*(roles[step] for step in sorted(explicit)))
    if "implicit" in (model.home_gate, model.host_gate):
        assert p.mou()[0] == MouStatus.IN_APPROVAL, "the implicit approval is still to come"
        frozen.advance(days=19)
        jobs.run_due(p.db)
        assert p.mou()[0] == MouStatus.IN_APPROVAL, "the objection period (20 days) is still running"
        frozen.advance(days=1, seconds=1)
        jobs.run_due(p.db)
    assert p.mou()[0] == MouStatus.ACTIVE


def _profiles_with_a_supplement(p: PartnershipRun, outsider: Party, monkeypatch: pytest.MonkeyPatch) -> None:
    """Partner profiles, with the host's Certificate Supplement as an attachment."""
    with pytest.raises(attachments.UnsupportedMediaTypeError), p.db.transaction() as s:
        attachments.upload(s, actor=p.host.actor, filename="cs.pdf", content=b"<html>a web page</html>")
    environment(monkeypatch, ECVET_ATTACHMENT_MAX_BYTES=str(len(PDF)))
    with pytest.raises(attachments.ContentTooLargeError), p.db.transaction() as s:
        attachments.upload(s, actor=p.host.actor, filename="cs.pdf", content=PDF + b" ")
    monkeypatch.delenv("ECVET_ATTACHMENT_MAX_BYTES")
    config.use(None)  # read the environment again: the default limit
    supplement = p.upload(p.host)
    p.build(supplement=supplement)
    with p.db.transaction(write=False) as s:
        for party in (p.sender, p.ci_home, p.ci_host):
            assert attachments.get(s, actor=party.actor, attachment_id=supplement).id == supplement
        with pytest.raises(NotFound):
            attachments.get(s, actor=outsider.actor, attachment_id=supplement)
        assert len(s.scalars(select(PartnerProfile)).all()) == 2



def _rejected_then_approved(p: PartnershipRun, model: Model, frozen: FrozenClock) -> None:
    """First version rejected by the host, the revised one approved through the model's gates."""
    p.draft_and_submit()
    data = p.data()
    assert (data["national_model_home"]["mou_approval"], data["national_model_host"]["mou_approval"]) == (
        model.home_gate or "none", model.host_gate or "none")
    p.complete("hosting", "approve_hosting", reject(p.form_values("hosting", "approve_hosting"),
                                                    "At most eight weeks."))
    assert p.open_steps() == {"draft_mou"}
    assert p.mou()[0] == MouStatus.DRAFT
    p.draft_and_submit(mobility_duration_weeks={"min": 3, "max": 8})
    pass_the_gates(p, model, frozen)
    assert p.mou()[:2] == (MouStatus.ACTIVE, 2)



def _reviewed_and_revised(p: PartnershipRun, model: Model, frozen: FrozenClock) -> None:
    """A recognised mobility is reviewed; the action plan asks for a revision, which passes the same gates."""
    r = start_review(p.db, p)
    r.evaluate_all(hosting=evaluation("yes", "partly"))
    r.complete("sending", "plan_actions", {"items": action_items(), "revise_mou": True,
                                           "mou_changes": "Assessment criteria in the transcript"})
    jobs.run_due(p.db)
    assert p.open_steps() == {"draft_mou"}
    assert p.form_values("sending", "draft_mou")["revision_request"]["review_id"] == r.review().id
    p.draft_and_submit(mobility_duration_weeks={"min": 4, "max": 8})
    assert p.in_force_version() == 2, "version 2 stays in force while version 3 is approved"
    pass_the_gates(p, model, frozen)
    assert p.mou()[:2] == (MouStatus.ACTIVE, 3)
    jobs.run_due(p.db)
    review = r.review()
    assert (review.status, review.mou_version_reviewed, review.mou_version_revised) == (
        ReviewStatus.COMPLETED, 2, 3)
    with p.db.transaction(write=False) as s:
        plan = service.action_plan_of(s, review)
        assert plan is not None
        assert [i.owner_name for i in plan.items][0] == "Javier Ruiz"



def _reminded_then_expired(p: PartnershipRun, frozen: FrozenClock) -> None:
    """The renewal reminder 60 days before the validity date; the MoU is left to expire."""
    frozen.set(datetime(2029, 11, 1, 12, tzinfo=UTC))
    jobs.run_due(p.db)
    assert p.ready() == []
    frozen.set(datetime(2029, 11, 2, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(p.db)
    assert p.open_steps() == {"renew_mou"}
    p.only_for("sending", "renew_mou")
    p.complete("sending", "renew_mou", {"decision": "let_expire"})
    frozen.set(datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(p.db)
    assert p.mou()[0] == MouStatus.EXPIRED
    assert p.status() == InstanceStatus.COMPLETED



def _competent_institutions_asked_as_the_models_say(p: PartnershipRun, model: Model) -> None:
    """Competent institutions were asked only where a national model said so, and signed as it said."""
    with p.db.transaction(write=False) as s:
        assert s.scalar(select(Incident.id)) is None
        approvals = s.scalars(select(MouApproval).where(MouApproval.role == ApprovalRole.COMPETENT_INSTITUTION)
                              .order_by(MouApproval.id)).all()
    expected = []
    for gate, party in ((model.home_gate, p.ci_home), (model.host_gate, p.ci_host)):
        if gate:
            mode = ApprovalMode.EXPLICIT if gate == "explicit" else ApprovalMode.IMPLICIT
            expected += [(party.org_id, mode)] * 2  # versions 2 and 3
    assert sorted((a.organisation_id, a.mode) for a in approvals) == sorted(expected)
    if not model.home_gate:
        assert p.tasks_in_role("competent-institution-home") == []
    if not model.host_gate:
        assert p.tasks_in_role("competent-institution-host") == []
    gates = ((model.home_gate, "competent-institution-home"), (model.host_gate, "competent-institution-host"))
    for gate, role in gates:
        if gate == "implicit":
            # Seen as an objection task each round, withdrawn by a rejection or by the end of the period.
            assert {t.state for t in p.tasks_in_role(role)} == {TaskState.CANCELLED}


@pytest.mark.parametrize("name", list(MODELS))
def test_a_partnership_from_profiles_to_expiry(
    db: Database, admin: Actor, frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    model = MODELS[name]
    p = start(db, admin, model.home, model.abroad, valid_until="2029-12-31",
              ci_home_for=model.home if model.home_gate else None,
              ci_host_for=model.abroad if model.host_gate else None)
    outsider = make_party(db, "FR", "Outsider")

    _profiles_with_a_supplement(p, outsider, monkeypatch)
    _rejected_then_approved(p, model, frozen)
    _reviewed_and_revised(p, model, frozen)
    _reminded_then_expired(p, frozen)
    _competent_institutions_asked_as_the_models_say(p, model)
