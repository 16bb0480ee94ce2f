"""ecvet/retention/ledger.py and migration 1805: evidence rows stay append-only in the database; a DELETE
goes through only once the ledger holds the row (its hash kept), an UPDATE never, on both backends."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from ecvet.mobility.models import PersonalTranscript
from ecvet.retention import ledger
from ecvet.retention.models import EvidencePurge
from engine import audit
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent
from tests.support.ecvet_worlds import make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _event(db: Database) -> int:
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="test.event", note="kept")
    with db.transaction(write=False) as s:
        return s.scalars(select(AuditEvent.id).where(AuditEvent.action == "test.event")).one()


def test_a_delete_without_a_ledger_row_is_refused(db: Database) -> None:
    event_id = _event(db)
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == event_id))
    with db.transaction() as s:
        assert s.get(AuditEvent, event_id) is not None
        # a ledger row for another table does not open this one
        s.add(EvidencePurge(table_name="task_comments", row_id=event_id, record_kind="audit_trail",
                            content_hash="0" * 64, purged_at=T0, purge_run="test"))
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == event_id))


def test_through_the_ledger_a_delete_passes_and_an_update_stays_refused(db: Database) -> None:
    event_id = _event(db)
    with db.transaction() as s:
        row = dict(s.execute(select(*ledger.table("audit_events").c).where(AuditEvent.id == event_id)).one()._mapping)
        s.add(EvidencePurge(table_name="audit_events", row_id=event_id, record_kind="audit_trail",
                            content_hash=ledger.row_hash(row), purged_at=T0, purge_run="test"))
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(action="rewritten"))
    with db.transaction() as s:
        ledger.remove(s, table_name="audit_events", rows=[row], kind="audit_trail", run="t", now=T0)
    with db.transaction() as s:
        assert s.get(AuditEvent, event_id) is None
        assert ledger.lookup(s, ledger.row_hash(row)) is not None
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:  # the ledger itself
        s.execute(delete(EvidencePurge))


def test_an_issued_transcript_goes_only_through_the_ledger(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "issued")
    with pytest.raises(DBAPIError, match="immutable"), db.transaction() as s:
        s.execute(delete(PersonalTranscript).where(PersonalTranscript.id == life.transcript_id))
    with db.transaction() as s:
        table = ledger.table("personal_transcripts")
        row = dict(s.execute(select(*table.c).where(table.c.id == life.transcript_id)).one()._mapping)
        ledger.remove(s, table_name="personal_transcripts", rows=[row], kind="transcript", run="t",
                      now=frozen.now())
    with db.transaction() as s:
        assert s.get(PersonalTranscript, life.transcript_id) is None
        found = ledger.lookup(s, life.transcript_hash or "")
        assert found is not None
        assert found.record_kind == "transcript"
