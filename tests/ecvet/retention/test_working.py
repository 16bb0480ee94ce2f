"""ecvet/retention/working.py: engine working data (sign-in throttle, ended tokens, sent mails, finished
jobs, old pending messages) goes after its short fixed period; what is still within it stays."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ecvet.retention.purge import purge
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import ApiToken, Job, JobStatus, OutboxMessage, PendingMessage, SignInThrottle
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _rows(db: Database, user_id: int, at: datetime, tag: str) -> None:
    with db.transaction() as s:
        s.add_all([
            SignInThrottle(email=f"{tag}@example.org", failures=3, window_started_at=at),
            ApiToken(user_id=user_id, token_hash=tag.ljust(64, "0"), prefix=tag[:12], created_at=at,
                     expires_at=at + timedelta(hours=1)),
            OutboxMessage(to_email=f"{tag}@example.org", subject=tag, body="Dear learner", kind="test", created_at=at,
                          sent_at=at),
            Job(kind="test", status=JobStatus.DONE, due_at=at, finished_at=at, payload={"tag": tag}, row_version=1),
            PendingMessage(name=tag, created_at=at, expires_at=at + timedelta(hours=1)),
        ])


def test_engine_working_data_goes_after_its_period(db: Database, frozen: FrozenClock) -> None:
    user = make_user(db)
    _rows(db, user.id, T0, "old")
    _rows(db, user.id, T0 + timedelta(days=90, hours=12), "new")
    frozen.set(T0 + timedelta(days=91))
    with db.transaction() as s:
        report = purge(s, dry_run=False)
    assert report.counts() == {"sign_in_throttle": 1, "api_tokens": 1, "outbox": 1, "finished_jobs": 1,
                               "pending_messages": 1}
    with db.transaction() as s:
        assert list(s.scalars(select(SignInThrottle.email))) == ["new@example.org"]
        assert list(s.scalars(select(ApiToken.prefix))) == ["new"]
        assert list(s.scalars(select(OutboxMessage.subject))) == ["new"]
        assert [j.payload["tag"] for j in s.scalars(select(Job).where(Job.kind == "test"))] == ["new"]
        assert list(s.scalars(select(PendingMessage.name))) == ["new"]


def test_a_recent_row_stays_until_its_period_has_passed(db: Database, frozen: FrozenClock) -> None:
    user = make_user(db)
    _rows(db, user.id, T0, "old")
    frozen.set(T0 + timedelta(hours=12))
    with db.transaction() as s:
        assert purge(s, dry_run=True).counts() == {}
    frozen.set(T0 + timedelta(days=2))
    with db.transaction() as s:
        assert purge(s, dry_run=True).counts() == {"sign_in_throttle": 1}
