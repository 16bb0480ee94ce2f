"""Erasing a learner (ecvet/privacy/erasure.py): afterwards no column of any table holds the learner's
name, e-mail, date of birth or the guardian's name or e-mail (inside JSON and process data too) except
the kept evidence rows, the audit trail and the erasure request; kept evidence still verifies."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from ecvet.mobility.models import LaSignature, LaVersion, Learner, PersonalTranscript
from ecvet.privacy import erasure, holdings
from ecvet.privacy.erasure import ERASED_BIRTH_DATE, KeptReason
from ecvet.privacy.models import AppendOnlyUnlock
from ecvet.retention import policy as retention_policy
from engine import audit
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import ApiToken, AuditEvent, Base, User
from tests.support.privacy_world import PrivacyWorld, make_privacy_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
ALWAYS_KEPT = {"audit_events", "erasure_requests"}


def needles(identity: dict[str, Any]) -> list[str]:
    born: date = identity["date_of_birth"]
    return [identity["name"], identity["email"], identity["guardian_name"], identity["guardian_email"],
            born.isoformat(), born.strftime("%d.%m.%Y")]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def scan(db: Database, words: list[str]) -> dict[str, set[Any]]:
    """Every row of every table (all columns, JSON and process data as text) holding one of `words`."""
    found: dict[str, set[Any]] = {}
    lowered = [w.lower() for w in words if w]
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                text = " ".join(_text(v) for v in row.values() if v is not None).lower()
                try:  # process data escapes non-ASCII letters
                    text += " " + json.dumps(json.loads(row["state"]), ensure_ascii=False).lower() \
                        if table.name == "process_instances" else ""
                except (KeyError, ValueError):
                    pass
                if any(w in text for w in lowered):
                    keys = tuple(row[c.name] for c in table.primary_key.columns)
                    found.setdefault(table.name, set()).add(keys[0] if len(keys) == 1 else keys)
    return found


def erase(db: Database, world: PrivacyWorld, today: date, *, keep_evidence: bool = True
          ) -> tuple[erasure.ErasureResult, dict[str, set[Any]]]:
    with db.transaction() as s:
        kept = erasure.kept_evidence(s, world.learner_id, today=today)
        keep = kept.keep if keep_evidence else {}
        result = erasure.erase_learner(s, learner_id=world.learner_id, actor_id=world.sc.sending.actor.user_id,
                                       keep=keep)
    return result, keep


def test_an_erasure_leaves_no_personal_field_behind_outside_kept_evidence(db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    identity = world.identity()
    before = scan(db, needles(identity))
    assert {"learners", "users", "process_instances", "la_signatures", "personal_transcripts",
            "europass_mobilities", "outbox", "task_comments", "evaluations"} <= set(before)
    result, keep = erase(db, world, frozen.now().date())
    after = scan(db, needles(identity))
    leaks = {table: keys - set(keep.get(table, ())) for table, keys in after.items() if table not in ALWAYS_KEPT}
    assert {t: k for t, k in leaks.items() if k} == {}
    # The signed texts are kept whole: the evidence still carries the name.
    assert {"la_signatures", "personal_transcripts", "europass_mobilities"} <= set(after)
    assert {k["what"] for k in result.kept if k["reason"] == KeptReason.EVIDENCE} >= {
        "la_versions", "la_signatures", "personal_transcripts", "recognition_decisions", "europass_mobilities"}
    erased = {e["what"]: e["how"] for e in result.erased}
    assert erased["outbox"] == "deleted"
    assert erased["evidence_files"] == "deleted"
    assert erased["attachment_blobs"] == "deleted"
    assert erased["api_tokens"] == "deleted"
    assert erased["learners"] == erased["users"] == erased["process_instances"] == "pseudonymised"
    with db.transaction(write=False) as s:
        learner = s.get_one(Learner, world.learner_id)
        assert (learner.name, learner.date_of_birth) == (f"Learner L-{world.learner_id} (erased)", ERASED_BIRTH_DATE)
        assert (learner.guardian_name, learner.guardian_email, learner.european_student_identifier) == (None,) * 3
        for user_id in (identity["user_id"], identity["guardian_user_id"]):
            user = s.get_one(User, user_id)
            assert not user.is_active
            assert user.email.endswith("@erased.invalid")
        assert s.scalars(select(ApiToken).where(ApiToken.user_id == identity["user_id"])).all() == []
        assert s.scalars(select(AppendOnlyUnlock)).all() == []  # the marker never outlives the erasure
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "learner.erased")).all()
        assert event.detail["learner_id"] == world.learner_id
        # Kept evidence is untouched and its hash still binds its signatures.
        (transcript,) = s.scalars(select(PersonalTranscript).where(PersonalTranscript.id.in_(
            keep["personal_transcripts"])))
        assert transcript.content["learner"]["name"] == identity["name"]
        hashes = {v.content_hash for v in s.scalars(select(LaVersion).where(LaVersion.id.in_(keep["la_versions"])))}
        assert {sig.content_hash for sig in s.scalars(select(LaSignature).where(
            LaSignature.id.in_(keep["la_signatures"])))} <= hashes
    # The other learner of the same school keeps everything.
    with db.transaction(write=False) as s:
        assert s.get_one(Learner, world.other.learner_id).name == "Daan de Vries"
    assert scan(db, ["Daan de Vries"])["learners"]


def test_with_nothing_kept_no_table_holds_the_learner_any_more(db: Database, frozen: FrozenClock) -> None:
    """What the retention purge asks for once every piece of evidence expired: nothing stays but the
    audit trail."""
    world = make_privacy_world(db, frozen)
    identity = world.identity()
    result, _keep = erase(db, world, frozen.now().date(), keep_evidence=False)
    after = scan(db, needles(identity))
    assert set(after) <= ALWAYS_KEPT
    assert [k["what"] for k in result.kept] == ["audit_events"]
    with db.transaction(write=False) as s:
        assert not holdings.rows_about(s, world.learner_id)["users"][0]["is_active"]


def test_evidence_past_its_retention_period_is_not_kept(db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    with db.transaction(write=False) as s:
        now = erasure.kept_evidence(s, world.learner_id, today=date(2030, 1, 1))
        later = erasure.kept_evidence(s, world.learner_id, today=date(2034, 4, 10))
    # the mobility ended 2027-04-09; the German school keeps evidence seven years (national default)
    assert now.until["personal_transcripts"] == "2034-04-09"
    assert now.keep["mobilities"] == {world.run.mobility_id}
    assert later.keep == {}


def test_the_sending_organisations_own_period_decides_what_is_kept(db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    sending = world.sc.sending.actor
    with db.transaction() as s:
        retention_policy.change(s, actor=sending, organisation_id=min(sending.organisation_ids),
                                keep_months={kind: 120 for kind in ("learning_agreement", "assessment", "transcript",
                                                                    "recognition", "europass")})
    with db.transaction(write=False) as s:
        kept = erasure.kept_evidence(s, world.learner_id, today=date(2035, 1, 1))
    assert kept.until["personal_transcripts"] == "2037-04-09"
    assert kept.keep["mobilities"] == {world.run.mobility_id}


def test_the_unlock_never_opens_the_audit_trail(db: Database) -> None:
    with db.transaction() as s:
        audit.record(s, actor_id=None, action="test.recorded")
    with db.transaction() as s:
        s.add(AppendOnlyUnlock(reason="test"))
        s.flush()
        with pytest.raises(DBAPIError), s.begin_nested():
            s.execute(update(AuditEvent).values(action="test.rewritten"))
        s.query(AppendOnlyUnlock).delete()
    with db.transaction(write=False) as s:
        assert s.scalars(select(AuditEvent.action)).all() == ["test.recorded"]
        assert s.scalars(select(AppendOnlyUnlock)).all() == []
