"""ecvet.consent.guardianship (and ecvet.mobility.guardians): a guardian acts for a minor only; on the
learner's 18th birthday the guardian's access ends by itself, and the sweep hands the guardian's open
work to the sending organisation, records it once and tells both."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from ecvet.consent import guardianship
from ecvet.consent.models import GuardianHandOver
from ecvet.documents import service as documents
from ecvet.mobility import guardians, monitoring, service, signatures
from ecvet.mobility.models import LaParty, Learner
from engine import tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Forbidden, NotFound
from engine.models import AuditEvent, OutboxMessage
from engine.parties import Actor
from tests.support import mobility_driver
from tests.support.mobility_driver import Run

T0 = mobility_driver.T0
BORN = date(2009, 3, 15)  # a minor on the first day (1 March 2027), 18 on 15 March 2027
DAY_BEFORE = datetime(2027, 3, 14, 23, 59, tzinfo=UTC)
BIRTHDAY = datetime(2027, 3, 15, 0, 0, 1, tzinfo=UTC)


def waiting_for_the_guardian(db: Database, frozen: FrozenClock) -> Run:
    """A minor's Learning Agreement the learner signed: the guardian's signature is next."""
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Keller", BORN, guardian_account=True)
    run.prepare()
    run.sign("sign_learner", "learner")
    assert run.guardian is not None
    return run


def sees_everything(run: Run, actor: Actor) -> bool:
    """The mobility, the learner's record, the Learning Agreement document, the mobility in lists."""
    with run.db.transaction(write=False) as s:
        try:
            service.get(s, actor=actor, mobility_id=run.mobility_id)
            service.get_learner(s, actor=actor, learner_id=run.learner_id)
            la = service.current_agreement(s, s.get_one(service.Mobility, run.mobility_id))
            assert la is not None
            documents.build(s, actor=actor, kind="learning-agreement", record_id=la.id)
        except NotFound:
            return False
        listed = run.mobility_id in {m.id for m in service.list_for(s, actor=actor).items}
        assert listed == (run.learner_id in service.learner_ids_of(s, actor))
        counted = sum(c.count for c in monitoring.mobilities_by_country(s, actor=actor))
        assert counted == (1 if listed else 0)
        return listed


def guardian_tasks(run: Run, actor: Actor) -> set[str]:
    with run.db.transaction(write=False) as s:
        return {t.bpmn_id for t in tasks.list_for(s, actor=actor, instance_id=run.instance_id).items}


def sweep(db: Database) -> None:
    with db.transaction() as s:
        guardianship.sweep(s)


@pytest.mark.parametrize(("today", "cutoff"), [(date(2027, 3, 15), date(2009, 3, 15)),
                                           (date(2028, 2, 29), date(2010, 2, 28))])
def test_born_after_the_cut_off_is_a_minor_as_age_on_counts(today: date, cutoff: date) -> None:
    assert guardians.adult_if_born_on_or_before(today) == cutoff
    adult = Learner(date_of_birth=cutoff, guardian_user_id=1)
    minor = Learner(date_of_birth=date.fromordinal(cutoff.toordinal() + 1), guardian_user_id=1)
    assert (adult.is_minor(today), minor.is_minor(today)) == (False, True)
    assert (guardians.guardian_acts(adult, today), guardians.guardian_acts(minor, today)) == (False, True)


def test_the_day_before_the_birthday_the_guardian_sees_and_signs_on_the_birthday_not(
        db: Database, frozen: FrozenClock) -> None:
    run = waiting_for_the_guardian(db, frozen)
    guardian = run.guardian
    assert guardian is not None
    frozen.set(DAY_BEFORE)
    assert sees_everything(run, guardian)
    assert guardian_tasks(run, guardian) == {"sign_guardian"}

    frozen.set(BIRTHDAY)
    assert not sees_everything(run, guardian)  # by the date alone, before any sweep
    assert sees_everything(run, run.learner)  # the learner keeps everything
    with db.transaction(write=False) as s:
        mobility = service.get(s, actor=run.learner, mobility_id=run.mobility_id)
        assert not service.is_learner(guardian, mobility)
        with pytest.raises(Forbidden):
            signatures._bound_organisation(s, guardian, mobility, LaParty.GUARDIAN)  # noqa: SLF001
    sweep(db)
    assert guardian_tasks(run, guardian) == set()
    assert "sign_guardian" in guardian_tasks(run, run.sc.sending.actor)  # recorded on paper by the school
    with db.transaction(write=False) as s:
        with pytest.raises(NotFound):
            tasks.get(s, actor=guardian, task_id=run.only_for("sending", "sign_guardian").id)


def test_the_sweep_records_the_end_once_and_tells_learner_and_guardian(db: Database, frozen: FrozenClock) -> None:
    run = waiting_for_the_guardian(db, frozen)
    frozen.set(DAY_BEFORE)
    sweep(db)
    with db.transaction(write=False) as s:
        assert s.scalars(select(GuardianHandOver)).all() == []
    frozen.set(BIRTHDAY)
    sweep(db)
    sweep(db)  # again: nothing more
    with db.transaction(write=False) as s:
        rows = s.scalars(select(GuardianHandOver)).all()
        assert [(r.learner_id, r.came_of_age_on) for r in rows] == [(run.learner_id, date(2027, 3, 15))]
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "guardian.access_ended")
                           .order_by(AuditEvent.id)).all()
        assert len(events) == 1
        assert events[0].detail["learner_id"] == run.learner_id
        assert events[0].detail["handed_over"] == {run.instance_id: ["guardian"]}
        learner = s.get_one(Learner, run.learner_id)
        assert run.guardian is not None
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == guardianship.MAIL_KIND)
                          .order_by(OutboxMessage.id)).all()
        assert sorted(m.to_email for m in mails) == sorted([learner.email, run.guardian.email])
        assert all("Mia Keller" in m.subject for m in mails)
