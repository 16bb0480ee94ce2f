"""ecvet/retention/purge.py on the data-protection world (tests/support/privacy_world.py): once every
period has passed, the purge leaves no row of the learner's evidence, her evidence files and their bytes,
her Europass and qualification award, and a pseudonymised profile, while the other learner (still live)
keeps everything."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from ecvet.mobility.models import Learner
from ecvet.privacy import holdings
from ecvet.privacy.holdings import Kind
from ecvet.retention.learners import is_pseudonymised
from ecvet.retention.models import EvidencePurge
from ecvet.retention.purge import purge
from engine.clock import FrozenClock
from engine.db import Database
from tests.support.privacy_world import make_privacy_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
#: Past every default period of a Dutch school (84 months for transcripts, decisions and awards).
LONG_AFTER = datetime(2040, 1, 1, 3, 0, tzinfo=UTC)
#: Evidence of the learner that the purge removes whole (mobilities and learning agreements stay as ids).
GONE = ("la_versions", "la_signatures", "assessment_records", "evidence_files", "assessment_signatures",
        "assessment_acknowledgements", "personal_transcripts", "validation_decisions", "recognition_decisions",
        "credit_awards", "practical_implications", "europass_mobilities", "europass_signatures",
        "qualification_awards", "evaluations", "action_plans", "action_plan_items", "mobility_status_changes",
        "attachments", "attachment_blobs")


def test_after_every_period_the_learners_evidence_and_files_are_gone(db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    with db.transaction() as s:
        before_other = {t: len(rows) for t, rows in holdings.rows_about(s, world.other.learner_id).items()}
        before = holdings.rows_about(s, world.learner_id)
    assert all(before[t] for t in GONE)

    frozen.set(LONG_AFTER)
    with db.transaction() as s:
        dry = purge(s, dry_run=True)
    assert {"attachments", "attachment_blobs", "europass_mobilities", "qualification_awards"} <= {
        i.table for i in dry.items.values()}
    with db.transaction() as s:
        purge(s, dry_run=False)
    with db.transaction() as s:
        after = holdings.rows_about(s, world.learner_id)
        assert {t: len(after[t]) for t in GONE} == dict.fromkeys(GONE, 0)
        assert is_pseudonymised(s.get_one(Learner, world.learner_id))
        assert not is_pseudonymised(s.get_one(Learner, world.other.learner_id))
        # every evidence row that went is in the ledger
        evidence = [t for t in GONE if holdings.HOLDINGS[t].kind == Kind.EVIDENCE]
        ledgered = {t for t in s.scalars(select(EvidencePurge.table_name).distinct())}
        assert set(evidence) <= ledgered
        # ... and nothing else of hers (the audit trail, older than its 72 months, went through it too)
        assert s.scalar(select(func.count()).select_from(EvidencePurge).where(
            EvidencePurge.table_name != "audit_events")) == sum(
            len(before[t]) for t in GONE if holdings.HOLDINGS[t].append_only)
        after_other = {t: len(rows) for t, rows in holdings.rows_about(s, world.other.learner_id).items()}
    assert {t: n for t, n in after_other.items() if t not in ("outbox", "sign_in_throttle", "api_tokens", "jobs",
                                                               "pending_messages", "audit_events")} == {
        t: n for t, n in before_other.items() if t not in ("outbox", "sign_in_throttle", "api_tokens", "jobs",
                                                           "pending_messages", "audit_events")}
