"""The Partnership process with its MoU in force, on both database backends: the renewal reminder, a
revision through the same gates while the old version stays in force, and expiry at the validity date,
by the worker alone on a frozen clock; and the connectors that do it (mou.implicit_approval, mou.expire)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import ecvet.partnership.workflow
from ecvet.partnership.models import MouStatus
from engine import jobs, services
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.models import AuditEvent, Incident, InstanceStatus, TaskState
from engine.parties import Actor
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import (
    PartnershipRun,
    start,
)

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)




def in_force(db: Database, admin: Actor, *, valid_until: str) -> PartnershipRun:
    """DE home (chamber, explicit) and NL host: a MoU in force until `valid_until`."""
    p = start(db, admin, "DE", "NL", ci_home_for="DE", valid_until=valid_until)
    p.build()
    p.draft_and_submit()
    p.approve_all("hosting", "competent-institution-home")
    assert p.mou() == (MouStatus.ACTIVE, 1, 3, True)
    return p


def test_reminder_then_expiry_at_the_validity_date_by_the_worker_alone(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    p = in_force(db, admin, valid_until="2027-12-31")
    assert p.data()["mou_expires_at"] == "2028-01-01T00:00:00+00:00"

    frozen.set(datetime(2027, 11, 1, 23, 59, tzinfo=UTC))  # 60 days before the end of 2027-12-31 is 11-02
    jobs.run_due(db)
    assert p.ready() == []
    frozen.set(datetime(2027, 11, 2, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert p.open_steps() == {"renew_mou"}
    values = p.form_values("sending", "renew_mou")
    assert (values["mou_version"], values["mou_valid_until"]) == (1, "2027-12-31")
    p.complete("sending", "renew_mou", {"decision": "let_expire", "comment": "The exchange ends."})
    assert p.ready() == []
    assert p.mou()[0] == MouStatus.ACTIVE

    frozen.set(datetime(2027, 12, 31, 23, 59, tzinfo=UTC))
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.ACTIVE, "valid through its validity date"
    frozen.set(datetime(2028, 1, 1, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert p.mou() == (MouStatus.EXPIRED, 1, 3, False)
    assert p.status() == InstanceStatus.COMPLETED
    with db.transaction(write=False) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        expired = s.scalars(select(AuditEvent).where(AuditEvent.action == "mou.status_changed")
                            .order_by(AuditEvent.id.desc())).first()
        assert expired is not None
        assert expired.detail["new"] == MouStatus.EXPIRED
        assert expired.actor_id is None
        assert "mou.renewal_decided" in actions
        assert s.scalar(select(Incident.id)) is None


def test_renewal_revises_through_the_same_gates_while_the_old_version_stays_in_force(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    p = in_force(db, admin, valid_until="2027-12-31")
    frozen.set(datetime(2027, 11, 2, 9, tzinfo=UTC))
    jobs.run_due(db)
    p.complete("sending", "renew_mou", {"decision": "revise", "comment": "Two more years."})
    assert p.open_steps() == {"draft_mou"}
    assert p.form_values("sending", "draft_mou")["revision_request"] == {
        "source": "reminder", "review_id": None, "changes": None, "comment": "Two more years."}

    with pytest.raises(Invalid, match="text in force"):
        p.complete("sending", "draft_mou", p.content())
    p.valid_until = "2029-12-31"
    p.draft_and_submit()
    assert p.mou()[:2] == (MouStatus.IN_APPROVAL, 2)
    assert p.in_force_version() == 1, "the approved version stays in force during the amendment"
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}, "the same gates as the first version"
    p.approve_all("hosting", "competent-institution-home")
    assert p.mou() == (MouStatus.ACTIVE, 2, 6, True)
    assert p.in_force_version() == 2
    assert p.data()["mou_expires_at"] == "2030-01-01T00:00:00+00:00"

    # The old validity date passes without effect; the new one has its own reminder and expiry.
    frozen.set(datetime(2028, 1, 2, tzinfo=UTC))
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.ACTIVE
    assert p.ready() == []
    frozen.set(datetime(2029, 11, 2, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert p.open_steps() == {"renew_mou"}
    frozen.set(datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.EXPIRED
    assert p.status() == InstanceStatus.COMPLETED
    assert [t.state for t in p.tasks_in_role("sending") if t.bpmn_id == "renew_mou"] == [
        TaskState.COMPLETED, TaskState.CANCELLED]


def test_the_validity_date_ends_a_revision_still_in_approval(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    p = in_force(db, admin, valid_until="2027-12-31")
    frozen.set(datetime(2027, 11, 2, 9, tzinfo=UTC))
    jobs.run_due(db)
    p.complete("sending", "renew_mou", {"decision": "revise"})
    p.valid_until = "2029-12-31"
    p.draft_and_submit()
    assert p.open_steps() == {"approve_hosting", "approve_ci_home"}
    frozen.set(datetime(2028, 1, 1, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.EXPIRED
    assert p.status() == InstanceStatus.COMPLETED
    assert p.ready() == []
    assert {t.state for t in p.tasks_in_role("hosting") if t.bpmn_id == "approve_hosting"} == {
        TaskState.COMPLETED, TaskState.CANCELLED}


@pytest.mark.usefixtures("db")
def test_the_connectors_need_the_worker_job() -> None:
    with pytest.raises(RuntimeError, match="worker job"):
        ecvet.partnership.workflow.implicit_approval(mou_id=1)
    with pytest.raises(RuntimeError, match="worker job"):
        ecvet.partnership.workflow.expire_mou(mou_id=1)


def test_the_expire_connector_refuses_before_the_validity_date(db: Database, admin: Actor) -> None:
    p = in_force(db, admin, valid_until="2099-12-31")
    with db.transaction() as s, services.job_session(s):
        with pytest.raises(Conflict, match="does not expire yet"):
            ecvet.partnership.workflow.expire_mou(mou_id=p.partnership().mou_id)
    assert p.mou()[0] == MouStatus.ACTIVE


