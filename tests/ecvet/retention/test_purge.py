"""ecvet/retention/purge.py: a purge run removes a finished mobility's expired personal data, keeps the
hashes of its evidence in the ledger (signed copies still verify), lists the same rows in a dry run
without changing anything, leaves a mobility not yet expired alone and follows an organisation's own
periods; every run is one audit row."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

import ecvet.wiring
from ecvet.mobility.models import (
    AssessmentRecord,
    CreditAward,
    LaSignature,
    LaVersion,
    Learner,
    LearningAgreement,
    Mobility,
    PersonalTranscript,
    RecognitionDecision,
)
from ecvet.privacy import erasure
from ecvet.retention import evidence, ledger, policy
from ecvet.retention.models import EvidencePurge
from ecvet.retention.purge import purge
from ecvet.review.models import ActionPlan, Evaluation
from engine import periodic
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent
from tests.support.ecvet_worlds import LifecycleWorld, make_lifecycle_world, make_review

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
#: The lifecycle world's mobility ends on 2027-04-09; the CZ school has the fallback default of 60 months.
AFTER_RETENTION = datetime(2032, 5, 1, 3, 0, tzinfo=UTC)
BEFORE_RETENTION = datetime(2032, 3, 1, 3, 0, tzinfo=UTC)
EVIDENCE_MODELS = (LaVersion, LaSignature, AssessmentRecord, PersonalTranscript, RecognitionDecision, CreditAward)


def _world(db: Database, frozen: FrozenClock) -> LifecycleWorld:
    life = make_lifecycle_world(db, frozen, "implications")
    make_review(db, life)
    return life


def _counts(db: Database, mobility_id: int) -> dict[str, int]:
    def count(model: Any, *where: Any) -> int:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    with db.transaction() as s:
        result = {m.__tablename__: count(m, m.mobility_id == mobility_id)
                  for m in (AssessmentRecord, PersonalTranscript, RecognitionDecision, CreditAward)}
        la_ids = select(LearningAgreement.id).where(LearningAgreement.mobility_id == mobility_id)
        result["la_versions"] = count(LaVersion, LaVersion.la_id.in_(la_ids))
        result["la_signatures"] = count(LaSignature, LaSignature.la_id.in_(la_ids))
        result["evaluations"] = count(Evaluation)
        result["action_plans"] = count(ActionPlan)
        return result


def _items(report: Any) -> list[tuple[str, str, str, list[Any]]]:
    return sorted((i.kind, i.table, i.action, sorted(map(str, i.row_ids))) for i in report.items.values())


def test_a_purge_removes_expired_personal_data_and_keeps_verifiable_evidence(db: Database,
                                                                             frozen: FrozenClock) -> None:
    life = _world(db, frozen)
    with db.transaction() as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        signature_hashes = set(s.scalars(select(LaSignature.content_hash).where(LaSignature.la_id == life.la_id)))
    before = _counts(db, life.mobility_id)
    assert all(before.values())

    frozen.set(AFTER_RETENTION)
    with db.transaction() as s:
        dry = purge(s, dry_run=True)
    assert _counts(db, life.mobility_id) == before  # a dry run changes nothing
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(EvidencePurge)) == 0
        assert s.get_one(Learner, learner_id).name != erasure.pseudonym(learner_id)
    kinds = dry.counts()
    for kind in ("learning_agreement", "assessment", "transcript", "recognition", "review", "mobility_free_text",
                 "learner_profile"):
        assert kinds.get(kind, 0) > 0, kind

    with db.transaction() as s:
        done = purge(s, dry_run=False)
    assert _items(done) == _items(dry)  # the dry run listed exactly what went
    assert set(_counts(db, life.mobility_id).values()) == {0}
    with db.transaction() as s:
        learner = s.get_one(Learner, learner_id)
        assert (learner.name, learner.guardian_name, learner.european_student_identifier) == (
            erasure.pseudonym(learner_id), None, None)
        assert learner.email.endswith("@erased.invalid")
        assert learner.date_of_birth == date(1900, 1, 1)
        # The evidence's hashes are in the ledger, so a signed copy still answers "authentic".
        found = ledger.lookup(s, life.transcript_hash or "")
        assert found is not None
        assert found.table_name == "personal_transcripts"
        assert found.signed_at is not None
        assert found.signed_at < found.purged_at
        assert signature_hashes <= set(s.scalars(select(EvidencePurge.content_hash)
                                                 .where(EvidencePurge.table_name == "la_signatures")))
        assert ledger.lookup(s, "0" * 64) is None
        runs = list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("retention.%")).order_by(AuditEvent.id)))
    assert [(e.action, e.detail["counts"]) for e in runs] == [("retention.dry_run", kinds),
                                                               ("retention.purged", done.counts())]
    with db.transaction() as s:  # a second run finds nothing left of the mobility
        again = purge(s, dry_run=True)
    assert not {"learning_agreement", "transcript", "learner_profile"} & set(again.counts())


def test_a_mobility_not_yet_expired_is_untouched(db: Database, frozen: FrozenClock) -> None:
    life = _world(db, frozen)
    before = _counts(db, life.mobility_id)
    frozen.set(BEFORE_RETENTION)
    with db.transaction() as s:
        report = purge(s, dry_run=False)
    assert _counts(db, life.mobility_id) == {**before, "evaluations": 0, "action_plans": 0}  # reviews: 24 months
    assert not {"learning_agreement", "assessment", "transcript", "recognition", "learner_profile"} & set(
        report.counts())
    with db.transaction() as s:
        # personal working data went (12 and 24 months), no evidence did
        assert set(s.scalars(select(EvidencePurge.record_kind))) == {"review", "mobility_free_text"}


def test_an_organisations_own_period_replaces_the_national_default(db: Database, frozen: FrozenClock) -> None:
    life = _world(db, frozen)
    with db.transaction() as s:  # the mobility ended on 2027-04-09; the CZ default is 60 months
        assert evidence.kept_until(s, s.get_one(Mobility, life.mobility_id)) == date(2032, 4, 9)
    frozen.set(datetime(2028, 6, 1, 3, 0, tzinfo=UTC))
    with db.transaction() as s:
        assert "transcript" not in purge(s, dry_run=True).counts()
    with db.transaction() as s:
        policy.change(s, actor=life.sending.actor, organisation_id=life.sending.org_id,
                      keep_months={kind: 12 for kind in ("learning_agreement", "assessment", "transcript",
                                                         "recognition")})
    with db.transaction() as s:
        report = purge(s, dry_run=False)
    assert {"learning_agreement", "assessment", "transcript", "recognition"} <= set(report.counts())
    with db.transaction() as s:  # europass keeps its default: the latest evidence sets the date
        assert evidence.kept_until(s, s.get_one(Mobility, life.mobility_id)) == date(2032, 4, 9)
    assert _counts(db, life.mobility_id)["personal_transcripts"] == 0


@pytest.mark.parametrize("kind", ["transcript", "learning_agreement"])
def test_a_quoted_record_is_kept_as_long_as_what_quotes_it(db: Database, frozen: FrozenClock, kind: str) -> None:
    life = _world(db, frozen)
    with db.transaction() as s:  # only the quoted kind is short: it must wait for the decisions on it
        policy.change(s, actor=life.sending.actor, organisation_id=life.sending.org_id, keep_months={kind: 1})
    frozen.set(datetime(2028, 6, 1, 3, 0, tzinfo=UTC))
    with db.transaction() as s:
        report = purge(s, dry_run=False)
    assert kind not in report.counts()
    assert all(_counts(db, life.mobility_id)[t] for t in ("personal_transcripts", "la_versions"))


def test_the_worker_runs_the_purge_daily(db: Database, frozen: FrozenClock) -> None:
    ecvet.wiring.load()
    sweep = periodic.REGISTERED["retention.purge"]
    assert sweep.every.days == 1
    with db.transaction() as s:
        sweep.run(s)
    with db.transaction() as s:
        assert [e.action for e in s.scalars(select(AuditEvent))] == ["retention.purged"]
