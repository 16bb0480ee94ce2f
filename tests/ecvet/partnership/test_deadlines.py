"""Approval by silence that people can see, and explicit approvals with a due date and an escalation.

ES home: the regional authority approves by silence within 20 days: it gets a task "Object within the
objection period" due at the end of the period, an e-mail, a reminder before the deadline; when the
period passes the task is withdrawn and the worker records the approval (audited, on the MoU). DE
home: the chamber approves explicitly within 28 days; after that the worker escalates by e-mail to the
chamber's members and the sending school, and the task stays open.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.documents import mou as mou_document
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import views
from ecvet.partnership.models import ApprovalMode, ApprovalRole, MouApproval, MouStatus
from engine import jobs
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, OutboxMessage, TaskState
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import PartnershipRun, approve, reject, start

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def mails(db: Database, to: str) -> list[tuple[str, str]]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.to_email == to).order_by(OutboxMessage.id))
        return [(m.kind, m.subject) for m in rows]


def audited(db: Database, action: str) -> list[dict[str, Any]]:
    with db.transaction(write=False) as s:
        return [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                            .order_by(AuditEvent.id))]


def required(p: PartnershipRun, role: str = ApprovalRole.COMPETENT_INSTITUTION) -> views.RequiredApprovalView:
    mou_id = p.partnership().mou_id
    assert mou_id is not None
    with p.db.transaction(write=False) as s:
        view = views.mou(s, actor=p.sender.actor, mou_id=mou_id)
    (entry,) = [r for r in view["required_approvals"] if r["role"] == role]
    return entry


def decisions_in_the_document(p: PartnershipRun) -> list[str]:
    """The last column of the MoU document's "Approvals this version needs" table."""
    mou_id = p.partnership().mou_id
    assert mou_id is not None
    with p.db.transaction(write=False) as s:
        document = mou_document.build(s, p.sender.actor, mou_id)
    (section,) = [x for x in document.sections if x.heading == "Approvals this version needs"]
    assert section.table is not None
    return [row[-1] for row in section.table.rows]


def test_the_authority_sees_the_request_its_deadline_and_a_reminder(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    p = start(db, admin, "ES", "NL", ci_home_for="ES")
    agency = make_party(db, "ES", "SEPIE")
    register(db, agency.org_id, "ES", CompetenceFunction.NATIONAL_AGENCY)
    p.build()
    p.draft_and_submit()
    deadline = T0 + timedelta(days=20)
    task = p.only_for("competent-institution-home", "object_mou_ci_home")
    assert task.due_at == deadline, "due when the 20-day objection period ends"
    assert p.form_values("competent-institution-home", "object_mou_ci_home")["objection_deadline"] == \
        deadline.isoformat()
    entry = required(p)
    assert (entry["mode"], entry["days"], entry["due_at"], entry["if_silent"]) == (
        ApprovalMode.IMPLICIT, 20, deadline, "approved_by_silence")
    assert "pending: approved by silence unless it objects by 2027-03-21 09:00 UTC" in decisions_in_the_document(p)
    with db.transaction(write=False) as s:
        view = views.mou(s, actor=p.sender.actor, mou_id=p.partnership().mou_id or 0)
    assert view["supporting_actors"] == [{"organisation_id": agency.org_id, "country": "ES",
                                          "function": "national_agency"}], "recorded, never asked to approve"
    assert agency.org_id not in {r["organisation_id"] for r in view["required_approvals"]}

    jobs.run_due(db)
    assert [k for k, _ in mails(db, p.ci_home.email)] == ["assigned"], "told when the request arrives"
    frozen.advance(days=19, seconds=1)
    jobs.run_due(db)
    assert [k for k, _ in mails(db, p.ci_home.email)] == ["assigned", "due_soon"], "reminded before the deadline"
    assert p.mou()[0] == MouStatus.IN_APPROVAL

    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    frozen.advance(days=1)
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.ACTIVE
    assert [t.state for t in p.tasks_in_role("competent-institution-home")] == [TaskState.CANCELLED]
    assert [k for k, _ in mails(db, p.ci_home.email)] == ["assigned", "due_soon"], \
        "silence is approval: no 'overdue' notice"
    with db.transaction(write=False) as s:
        (silence,) = s.scalars(select(MouApproval).where(MouApproval.role == ApprovalRole.COMPETENT_INSTITUTION))
        assert (silence.mode, silence.recorded_by, silence.comment) == (
            ApprovalMode.IMPLICIT, None, "No objection within 20 days")
    (event,) = [e for e in audited(db, "mou.approved") if e["mode"] == ApprovalMode.IMPLICIT]
    assert event["organisation_id"] == p.ci_home.org_id
    assert required(p)["decision"] == "approved"


def test_the_authority_objects_within_its_period(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = start(db, admin, "ES", "NL", ci_home_for="ES")
    p.build()
    p.draft_and_submit()
    frozen.advance(days=5)
    values = p.form_values("competent-institution-home", "object_mou_ci_home")
    p.complete("competent-institution-home", "object_mou_ci_home",
               reject(values, "The regional curriculum names other units.", SIGNER))
    assert p.mou()[0] == MouStatus.DRAFT
    assert p.open_steps() == {"draft_mou"}, "the objection withdrew the host's task and returned the draft"
    frozen.advance(days=30)
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.DRAFT, "no approval by silence after an objection"
    with db.transaction(write=False) as s:
        (objection,) = s.scalars(select(MouApproval).where(MouApproval.role == ApprovalRole.COMPETENT_INSTITUTION))
        assert (objection.decision, objection.mode) == ("rejected", ApprovalMode.EXPLICIT)


def test_the_authority_may_approve_before_the_deadline(db: Database, admin: Actor) -> None:
    p = start(db, admin, "ES", "NL", ci_home_for="ES")
    p.build()
    p.draft_and_submit()
    p.complete("competent-institution-home", "object_mou_ci_home",
               approve(p.form_values("competent-institution-home", "object_mou_ci_home"), SIGNER))
    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)


def test_an_overdue_explicit_approval_is_escalated_and_stays_open(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    p.build()
    p.draft_and_submit()
    deadline = T0 + timedelta(days=28)
    task = p.only_for("competent-institution-home", "approve_ci_home")
    assert task.due_at == deadline, "due when the chamber's 28-day response period ends"
    entry = required(p)
    assert (entry["mode"], entry["due_at"], entry["if_silent"]) == (ApprovalMode.EXPLICIT, deadline, "escalated")
    assert "pending: due 2027-03-29 09:00 UTC, then escalated" in decisions_in_the_document(p)

    frozen.advance(days=27)
    jobs.run_due(db)
    assert audited(db, "mou.approval_escalated") == []
    frozen.advance(days=1, seconds=1)
    jobs.run_due(db)
    (event,) = audited(db, "mou.approval_escalated")
    assert (event["organisation_id"], event["country"]) == (p.ci_home.org_id, "DE")
    assert sorted(event["to"]) == sorted([p.ci_home.email, p.sender.email])
    assert ("escalated" in [k for k, _ in mails(db, p.sender.email)]), "the sending school hears of it"
    assert "ESCALATED" in dict(mails(db, p.ci_home.email))["escalated"]
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}, "escalation does not decide"

    p.approve_all("hosting", "competent-institution-home")
    assert p.mou()[0] == MouStatus.ACTIVE
    frozen.advance(days=60)
    jobs.run_due(db)
    assert len(audited(db, "mou.approval_escalated")) == 1, "escalated once"
