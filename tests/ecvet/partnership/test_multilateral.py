"""A MoU of more than two partners (ecvet/partnership/multilateral.py) through processes/partnership.bpmn:
each signing organisation's role, a task of its own for every further partner and competent
institution (a third country's, approving by silence, with its deadline), all on the same hash."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.partnership import multilateral
from ecvet.partnership.models import ApprovalMode, MouApproval, MouStatus, Partnership
from engine import jobs
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Invalid
from engine.parties import Actor
from tests.support.ecvet_factories import make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import CI_SIGNER, approve, start

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PARTNERSHIP = Partnership(sending_organisation_id=1, hosting_organisation_id=2)


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def signing(*roles: tuple[int, str | None]) -> dict[str, Any]:
    return {"signing_organisations": [{"organisation_id": org, **({"role": role} if role else {})}
                                      for org, role in roles]}


def test_a_bilateral_mou_may_leave_the_roles_unsaid() -> None:
    multilateral.check_partners(PARTNERSHIP, signing((1, None), (2, None)))
    multilateral.check_partners(PARTNERSHIP, signing((1, "sending"), (2, "both"), (3, "hosting")))


@pytest.mark.parametrize(("content", "field"), [
    (signing((1, "sending"), (2, "hosting"), (3, None)), "signing_organisations.2.role"),
    (signing((1, "sending"), (2, "hosting"), (3, "observer")), "signing_organisations.2.role"),
    (signing((1, "hosting"), (2, "hosting"), (3, "both")), "signing_organisations.0.role"),
    (signing((1, "sending"), (2, "sending"), (3, "both")), "signing_organisations.1.role"),
    (signing((1, "sending"), (3, "hosting")), "signing_organisations"),
])
def test_roles_and_the_partnerships_own_partners_are_checked(content: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        multilateral.check_partners(PARTNERSHIP, content)
    assert field in refused.value.errors


def test_every_further_party_has_its_own_task_and_a_third_countrys_authority_approves_by_silence(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """DE sends (the chamber approves explicitly), NL hosts (no institution), an ES school both sends and
    hosts: the Spanish authority, registered for ES, gets its own objection task with its deadline."""
    p = start(db, admin, "DE", "NL", ci_home_for="DE")
    third, authority = make_party(db, "ES", "Escuela"), make_party(db, "ES", "Conselleria")
    register(db, authority.org_id, "ES")
    p.extra_parties.update({"signing-partners": third, "competent-institutions": authority})
    p.build()
    content = p.content()
    content["signing_organisations"].append(dict(content["signing_organisations"][1], organisation_id=third.org_id,
                                                 role="both", country="ES"))
    p.complete("sending", "draft_mou", content)
    p.complete("sending", "submit_mou", {"confirmed": True, "signer": {"position": "VET coordinator"}})
    assert p.open_steps() == {"approve_hosting", "approve_ci_home", "approve_partner", "object_mou_institution"}
    p.only_for("signing-partners", "approve_partner")
    objection = p.only_for("competent-institutions", "object_mou_institution")
    assert objection.due_at == T0 + timedelta(days=20), "the ES model's 20 days, shown as the task's due date"
    values = p.form_values("competent-institutions", "object_mou_institution")
    assert values["objection_deadline"] == (T0 + timedelta(days=20)).isoformat()

    p.complete("hosting", "approve_hosting", approve(p.form_values("hosting", "approve_hosting")))
    p.complete("competent-institution-home", "approve_ci_home",
               approve(p.form_values("competent-institution-home", "approve_ci_home"), CI_SIGNER))
    p.complete("signing-partners", "approve_partner", approve(p.form_values("signing-partners", "approve_partner")))
    assert p.mou()[0] == MouStatus.IN_APPROVAL
    frozen.advance(days=19)
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.IN_APPROVAL, "the objection period is still running"
    frozen.advance(days=1, seconds=1)
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.ACTIVE
    assert p.open_steps() == set()
    with db.transaction(write=False) as s:
        decisions = {(a.organisation_id, a.role, a.mode) for a in s.scalars(select(MouApproval))}
    assert decisions == {(p.sender.org_id, "partner", ApprovalMode.EXPLICIT),
                         (p.host.org_id, "partner", ApprovalMode.EXPLICIT),
                         (third.org_id, "partner", ApprovalMode.EXPLICIT),
                         (p.ci_home.org_id, "competent_institution", ApprovalMode.EXPLICIT),
                         (authority.org_id, "competent_institution", ApprovalMode.IMPLICIT)}


def test_a_rejection_by_a_further_partner_returns_the_draft(db: Database, admin: Actor) -> None:
    p = start(db, admin, "NL", "BE")
    third = make_party(db, "NL", "Derde school")
    p.extra_parties["signing-partners"] = third
    p.build()
    content = p.content()
    content["signing_organisations"].append(dict(content["signing_organisations"][1], organisation_id=third.org_id,
                                                 role="sending", country="NL"))
    p.complete("sending", "draft_mou", content)
    p.complete("sending", "submit_mou", {"confirmed": True, "signer": {"position": "VET coordinator"}})
    assert p.open_steps() == {"approve_hosting", "approve_partner"}
    values = p.form_values("signing-partners", "approve_partner")
    p.complete("signing-partners", "approve_partner",
               {"mou_hash": values["mou_hash"], "decision": "rejected", "comment": "Four weeks at most",
                "signer": {"position": "Coordinator"}})
    assert p.open_steps() == {"draft_mou"}
    assert p.mou()[0] == MouStatus.DRAFT
