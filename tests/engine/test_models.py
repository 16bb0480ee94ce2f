"""engine/models.py: the engine's tables: UTC times in and out on both backends, versioned instances."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bench.generate import script_process
from engine import instances
from engine.db import Database
from engine.errors import Conflict
from engine.models import InstanceStatus, Organisation, ProcessInstance, TaskState, User, new_id, utcnow
from engine.parties import Actor
from tests.support.engine import deploy, row
from tests.support.factories import make_org, make_user

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_times_are_stored_in_utc_and_come_back_aware(db: Database) -> None:
    org = make_org(db)
    tokyo = datetime(2027, 3, 1, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    with db.transaction() as s:
        row(s, Organisation, org.id).created_at = tokyo
    with db.transaction(write=False) as s:
        stored = row(s, Organisation, org.id).created_at
    assert stored == tokyo
    assert stored.tzinfo == UTC
    assert stored.hour == 9


def _store_created_at(db: Database, organisation_id: int, moment: datetime) -> None:
    with db.transaction() as s:
        row(s, Organisation, organisation_id).created_at = moment
        s.flush()


def test_a_naive_time_is_refused_before_it_reaches_the_database(db: Database) -> None:
    org = make_org(db)
    with pytest.raises(Exception, match="naive datetime"):  # noqa: PT011 - SQLAlchemy wraps our ValueError
        _store_created_at(db, org.id, datetime(2027, 3, 1, 9, 0))  # noqa: DTZ001 - the point of the test


@pytest.mark.usefixtures("frozen")
def test_defaults_come_from_the_engines_clock(db: Database) -> None:
    assert utcnow() == T0
    person = make_user(db)
    with db.transaction(write=False) as s:
        assert row(s, User, person.id).created_at == T0
    assert new_id() != new_id()
    assert len(new_id()) == 36


def _write_stale(db: Database, stale: ProcessInstance) -> None:
    with db.transaction() as s:
        merged = s.merge(stale, load=False)
        merged.business_key = "second"  # written against the version read before "first"


def test_an_instance_row_is_versioned_so_a_stale_writer_loses(db: Database, admin: Actor) -> None:
    deploy(db, {"p.bpmn": script_process("p", "x = 1")})
    with db.transaction() as s:
        iid = instances.start(s, actor=admin, process_key="p", parties={}).id
    with db.transaction(write=False) as s:
        stale = s.get(ProcessInstance, iid)
        assert stale is not None
        assert stale.version == 1
    with db.transaction() as s:
        row(s, ProcessInstance, iid).business_key = "first"
    with pytest.raises(Conflict):
        _write_stale(db, stale)
    with db.transaction(write=False) as s:
        assert row(s, ProcessInstance, iid).business_key == "first"


def test_statuses_and_states_name_every_value_once() -> None:
    assert set(InstanceStatus.ACTIVE) <= set(InstanceStatus.ALL)
    assert len(set(InstanceStatus.ALL)) == 6
    assert TaskState.ALL == ("ready", "completed", "cancelled")


def test_a_user_knows_the_organisations_they_belong_to(db: Database) -> None:
    first, second = make_org(db), make_org(db)
    person = make_user(db, organisation_ids=[second.id, first.id])
    with db.transaction(write=False) as s:
        user = s.scalars(select(User).where(User.id == person.id)).one()
        assert sorted(user.organisation_ids) == sorted([first.id, second.id])
