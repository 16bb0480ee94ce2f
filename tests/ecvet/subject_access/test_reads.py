"""Reads of a learner's personal data (ecvet/subject_access/reads.py): every document built for a reader is in
the audit trail and, when it is about a learner, in that learner's reads log with the reader; the learner (their
guardian while a minor, admins) lists who looked, nobody else."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from ecvet.documents import service as documents
from ecvet.documents.model import KINDS
from ecvet.mobility import beneficiary_report, evidence_files
from ecvet.mobility.models import EvidenceFile, Learner
from ecvet.subject_access import audited, reads
from ecvet.subject_access.models import PersonalDataRead
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import NotFound
from engine.models import AuditEvent, Organisation
from engine.parties import Actor
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.privacy_world import make_privacy_world
from tests.support.subject_access_world import make_all_documents

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
ABOUT_NO_LEARNER = {"mou", "partnership-review"}


def test_every_document_kind_read_is_audited_and_logged_for_the_learner(db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    reader = world.life.sending
    assert set(world.records) == set(KINDS)  # a new document kind must be added here
    for kind, record_id in world.records.items():
        with db.transaction() as s:
            before = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
            documents.build(s, actor=reader.actor, kind=kind, record_id=record_id)
        with db.transaction(write=False) as s:
            events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id).where(
                AuditEvent.id > before, AuditEvent.action == "document.read")))
            logged = list(s.scalars(select(PersonalDataRead).where(PersonalDataRead.what == kind)))
        assert [(e.actor_id, e.detail["kind"], e.detail["record_id"]) for e in events] == [
            (reader.user_id, kind, record_id)], kind
        if kind in ABOUT_NO_LEARNER:
            assert logged == []
            assert events[0].detail["learner_id"] is None
            continue
        assert [(r.learner_id, r.actor_user_id, r.organisation_id, r.record_id) for r in logged] == [
            (world.learner_id, reader.user_id, reader.org_id, record_id)], kind


def test_the_learner_sees_who_looked_and_can_leave_out_their_own_reads(db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    learner, sender, host = world.life.learner, world.life.sending, world.life.hosting
    with db.transaction() as s:
        audited.learner(s, actor=sender.actor, learner_id=world.learner_id)
    frozen.advance(minutes=5)
    with db.transaction() as s:
        documents.build(s, actor=host.actor, kind="transcript", record_id=world.records["transcript"])
        documents.build(s, actor=learner, kind="certificate", record_id=world.learner_id)
    with db.transaction() as s:
        everyone = reads.reads_for(s, actor=learner, learner_id=world.learner_id).items
        others = reads.reads_for(s, actor=learner, learner_id=world.learner_id, others_only=True).items
    assert [(r.what, r.reader_email, r.organisation_name, r.by_learner) for r in everyone] == [
        ("certificate", learner.email, None, True), ("transcript", host.email, "Ørsted Hotel ApS", False),
        ("learner", sender.email, sender_name(db, sender.org_id), False)]  # newest first
    assert [r.what for r in others] == ["transcript", "learner"]
    assert everyone[1].at > everyone[2].at


def sender_name(db: Database, org_id: int) -> str:
    with db.transaction(write=False) as s:
        return s.get_one(Organisation, org_id).name


def test_only_the_learner_and_admins_list_the_reads(db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    other = make_all_documents(db, frozen)
    admin = actor_for(db, make_user(db, is_admin=True).id)
    with db.transaction() as s:
        assert reads.reads_for(s, actor=admin, learner_id=world.learner_id).items == []
        for stranger in (other.life.learner, world.life.sending.actor, world.life.hosting.actor,
                         world.life.outsider.actor):
            with pytest.raises(NotFound):
                reads.reads_for(s, actor=stranger, learner_id=world.learner_id)
        with pytest.raises(NotFound):
            reads.reads_for(s, actor=admin, learner_id=999999)


def test_a_guardian_lists_the_reads_until_the_learners_18th_birthday(db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    guardian = make_user(db)
    birthday = date(2010, 6, 15)
    with db.transaction() as s:
        learner = s.get_one(Learner, world.learner_id)
        learner.guardian_user_id, learner.date_of_birth = guardian.id, birthday
    frozen.set(datetime(2028, 6, 14, 23, 0, tzinfo=UTC))
    with db.transaction() as s:
        assert reads.reads_for(s, actor=actor_for(db, guardian.id), learner_id=world.learner_id).next_cursor is None
    frozen.set(datetime(2028, 6, 15, 0, 30, tzinfo=UTC))
    with db.transaction() as s, pytest.raises(NotFound):
        reads.reads_for(s, actor=actor_for(db, guardian.id), learner_id=world.learner_id)


def test_learner_records_shown_are_audited_as_learner_reads(db: Database, frozen: FrozenClock) -> None:
    world = make_all_documents(db, frozen)
    reader: Actor = world.life.sending.actor
    with db.transaction() as s:
        audited.learner(s, actor=reader, learner_id=world.learner_id)
        audited.achievements(s, actor=reader, learner_id=world.learner_id)
        audited.qualification_awards(s, actor=reader, learner_id=world.learner_id)
        audited.credentials(s, actor=reader, learner_id=world.learner_id, secret="test-secret")
        audited.mobility(s, actor=reader, mobility_id=world.life.mobility_id)
    with db.transaction(write=False) as s:
        events = [(e.actor_id, e.detail["kind"]) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "learner.read").order_by(AuditEvent.id))]
        logged = [(r.actor_user_id, r.what) for r in s.scalars(select(PersonalDataRead).order_by(PersonalDataRead.id))]
    expected = [(reader.user_id, what) for what in
                ("learner", "achievements", "qualification-awards", "credentials", "mobility")]
    assert events == expected
    assert logged == expected


def test_evidence_downloads_and_the_beneficiary_report_are_in_the_reads_log(db: Database,
                                                                            frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    sending = world.sc.sending
    with db.transaction() as s:
        evidence = s.scalars(select(EvidenceFile).where(EvidenceFile.mobility_id == world.run.mobility_id)).one()
        before = s.scalar(select(func.max(PersonalDataRead.id))) or 0
        evidence_files.content(s, actor=sending.actor, mobility_id=world.run.mobility_id, file_id=evidence.id)
        beneficiary_report.rows(s, actor=sending.actor)
    with db.transaction(write=False) as s:
        logged = [(r.learner_id, r.actor_user_id, r.organisation_id, r.what, r.record_id) for r in s.scalars(
            select(PersonalDataRead).where(PersonalDataRead.id > before).order_by(PersonalDataRead.id))]
    assert logged == [
        (world.learner_id, sending.user_id, sending.org_id, "evidence-file", evidence.id),
        (world.learner_id, sending.user_id, sending.org_id, "beneficiary-report", world.run.mobility_id),
        (world.other.learner_id, sending.user_id, sending.org_id, "beneficiary-report", world.other.mobility_id)]
