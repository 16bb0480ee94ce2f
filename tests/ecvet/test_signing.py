"""A signature is the signed-in person's (ecvet/signing.py): every kind of signature records the
account and the organisation it was given for, another person's name or e-mail is refused with
nothing stored, administrators do not sign on anyone's behalf, and evidence signed before keeps what
it recorded."""
from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.exc import DBAPIError

from ecvet import signing
from ecvet.mobility import assessment, recognition, signatures, transcript
from ecvet.mobility.models import (
    AssessmentRecord,
    LaSignature,
    PersonalTranscript,
    RecognitionDecision,
    ValidationDecision,
)
from ecvet.partnership.models import MouApproval
from engine import tasks
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Forbidden, Invalid
from engine.migrate import upgrade
from engine.models import TaskState
from tests.conftest import PG_URL
from tests.support.ecvet_factories import make_party
from tests.support.ecvet_worlds import LifecycleWorld, make_lifecycle_world
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.mobility_driver import Run, start

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
#: What the attack of issue 9 types in: the other organisation's coordinator.
FORGED = {"name": "Petra Wagner", "email": "officer@ihk-koeln.example", "position": "Ausbildungsberaterin"}

pytestmark = pytest.mark.usefixtures("frozen")


def count(db: Database, model: Any) -> int:
    with db.transaction(write=False) as s:
        return s.scalars(select(func.count(model.id))).one()


def refused_as_forged(excinfo: pytest.ExceptionInfo[Invalid]) -> None:
    assert set(excinfo.value.errors) == {"signer.name", "signer.email"}
    assert "signed-in person" in excinfo.value.errors["signer.name"][0]


# --- every kind records the account and its organisation ----------------------------------------


def test_every_signature_of_a_mobility_records_the_account_and_its_organisation(
    db: Database, frozen: FrozenClock
) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    sending, hosting = life.sending, life.hosting
    with db.transaction(write=False) as s:
        approvals = s.scalars(select(MouApproval)).all()
        assert {(a.organisation_id, a.signer_user_id, a.signer_email) for a in approvals} == {
            (sending.org_id, sending.user_id, sending.email), (hosting.org_id, hosting.user_id, hosting.email)}
        signatures = {x.party: x for x in s.scalars(select(LaSignature).where(LaSignature.la_id == life.la_id))}
        learner = signatures["learner"]
        assert (learner.signer_user_id, learner.organisation_id, learner.recorded_by) == (
            life.learner.user_id, None, life.learner.user_id)
        for party, who in (("sending", sending), ("hosting", hosting)):
            assert (signatures[party].signer_user_id, signatures[party].signer_name,
                    signatures[party].organisation_id) == (who.user_id, who.name, who.org_id)
        sheets = s.scalars(select(AssessmentRecord)).all()
        assert {(r.signer_user_id, r.organisation_id, r.signer_position) for r in sheets} == {
            (hosting.user_id, hosting.org_id, "Køkkenchef")}
        issued = s.get_one(PersonalTranscript, life.transcript_id)
        assert (issued.signer_user_id, issued.signer_name, issued.signer_position, issued.signer_place,
                issued.hosting_organisation_id) == (hosting.user_id, "Søren Ørsted", "Køkkenchef", "Aarhus",
                                                    hosting.org_id)
        validated = s.scalars(select(ValidationDecision)).all()
        assert {(v.signer_user_id, v.organisation_id) for v in validated} == {(sending.user_id, sending.org_id)}
        decision = s.get_one(RecognitionDecision, life.recognition_id)
        assert (decision.signer_user_id, decision.signer_email, decision.organisation_id) == (
            sending.user_id, sending.email, sending.org_id)
        # The time is the engine clock's: the day the transcript says it was issued.
        assert issued.issued_at.date().isoformat() == issued.content["issued_on"]


# --- the attack, for every kind -------------------------------------------------------------------


def test_a_learning_agreement_signed_in_another_persons_name_is_refused(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    la_id, la_hash = run.la()["id"], run.la()["content_hash"]
    for actor, party in ((run.learner, "learner"), (sc.sending.actor, "sending")):
        with pytest.raises(Invalid) as refused, db.transaction() as s:
            signatures.sign(s, actor=actor, la_id=la_id, party=party, content_hash=la_hash, signer=FORGED)
        refused_as_forged(refused)
    assert count(db, LaSignature) == 0
    with db.transaction() as s:
        signed = signatures.sign(s, actor=run.learner, la_id=la_id, party="learner", content_hash=la_hash,
                          signer={"place": "Utrecht"})
        assert (signed.signer_user_id, signed.signer_name, signed.signer_place, signed.signer_position) == (
            run.learner.user_id, "Daan de Vries", "Utrecht", None)


def _forge(stage: str, call: Any, model: Any, db: Database, frozen: FrozenClock) -> LifecycleWorld:
    life = make_lifecycle_world(db, frozen, stage)
    before = count(db, model)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        call(s, life)
    refused_as_forged(refused)
    assert count(db, model) == before, "nothing is stored"
    return life


def test_an_assessment_sheet_in_another_persons_name_is_refused(db: Database, frozen: FrozenClock) -> None:
    sheet = {"unit": "U1", "method": "observation", "result": "achieved", "date": "2027-03-18", "criteria": "C"}
    _forge("assessed", lambda s, life: assessment.record(
        s, actor=life.hosting.actor, mobility_id=life.mobility_id, assessments=[sheet], signer=FORGED),
        AssessmentRecord, db, frozen)


def test_a_transcript_issued_in_another_persons_name_is_refused(db: Database, frozen: FrozenClock) -> None:
    _forge("acknowledged", lambda s, life: transcript.issue(
        s, actor=life.hosting.actor, mobility_id=life.mobility_id, signer=FORGED), PersonalTranscript, db, frozen)


def test_a_validation_in_another_persons_name_is_refused(db: Database, frozen: FrozenClock) -> None:
    _forge("ready", lambda s, life: recognition.validate(
        s, actor=life.sending.actor, mobility_id=life.mobility_id, transcript_hash=life.transcript_hash,
        signer=FORGED, units=[{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}]),
        ValidationDecision, db, frozen)


def test_a_recognition_in_another_persons_name_is_refused(db: Database, frozen: FrozenClock) -> None:
    _forge("validated", lambda s, life: recognition.recognise(
        s, actor=life.sending.actor, mobility_id=life.mobility_id, transcript_hash=life.transcript_hash,
        signer=FORGED, units=[{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": False}]),
        RecognitionDecision, db, frozen)


@pytest.mark.parametrize(("submitted", "fields"), [
    ("Anna", {"signer"}),
    ({"name": 7}, {"signer.name"}),
    ({"place": "x" * 201}, {"signer.place"}),
    ({"position": "Chef", "seal": "stamp"}, {"signer.seal"}),
])
def test_a_signer_that_is_not_position_and_place_is_refused(
    db: Database, submitted: Any, fields: set[str]
) -> None:
    member = make_party(db, "NL", "School")
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        signing.for_organisation(s, actor=member.actor, organisation_id=member.org_id, submitted=submitted)
    assert set(refused.value.errors) == fields


def test_the_account_spelling_is_recorded_when_an_older_client_sends_the_signers_own_name(db: Database) -> None:
    member = make_party(db, "NL", "School", member="Sanne de Vries", email="sanne@college.example")
    with db.transaction() as s:
        signer = signing.for_organisation(s, actor=member.actor, organisation_id=member.org_id, submitted={
            "name": " sanne  DE vries ", "email": "SANNE@college.example", "place": "Amsterdam"})
    assert (signer.user_id, signer.name, signer.email, signer.position, signer.place, signer.organisation_id) == (
        member.user_id, "Sanne de Vries", "sanne@college.example", "Coordinator", "Amsterdam", member.org_id)


# --- administrators, paper signatures, pre-filled forms -----------------------------------------------


def test_an_administrator_does_not_sign_on_behalf_of_a_party(db: Database, frozen: FrozenClock) -> None:
    """A signature is personal: "complete on behalf" works for other tasks, not for signing ones."""
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.sign("sign_learner", "learner")
    admin = actor_for(db, make_user(db, is_admin=True).id)
    task = next(t for t in run.ready() if t.bpmn_id == "sign_sending")
    with db.transaction(write=False) as s:
        shown = tasks.detail(s, actor=admin, task_id=task.id)["form"]["values"]
    assert shown["signer"] == {}, "the admin is shown no signer: nobody it could sign as"
    with pytest.raises(Forbidden, match="signature is personal"), db.transaction() as s:
        tasks.complete(s, actor=admin, task_id=task.id, on_behalf=True,
                       data={"la_hash": shown["la_hash"], "decision": "sign", "signer": {"position": "Admin"}})
    assert [t.state for t in run.ready() if t.id == task.id] == [TaskState.READY]
    assert [x["party"] for x in run.la()["signatures"]] == ["learner"]
    run.sign("sign_sending", "sending", {"position": "VET coordinator"})
    assert [x["party"] for x in run.la()["signatures"]] == ["learner", "sending"]


def test_a_paper_signature_is_the_parent_on_record_recorded_by_the_school(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Sanne Bakker", date(2010, 6, 15))
    run.prepare()
    run.sign("sign_learner", "learner")
    values = run.values("sending", "sign_guardian")
    assert values["signer"] == {"name": "Parent of Sanne Bakker", "email": "parent@family.example"}
    with pytest.raises(Invalid) as refused:
        run.complete("sending", "sign_guardian", {"la_hash": values["la_hash"], "decision": "sign",
                                                  "signer": {"name": sc.sending.name}})
    assert set(refused.value.errors) == {"signer.name"}
    assert "on record" in refused.value.errors["signer.name"][0]
    run.complete("sending", "sign_guardian", {"la_hash": values["la_hash"], "decision": "sign",
                                              "signer": values["signer"]})
    (guardian,) = [x for x in run.la()["signatures"] if x["party"] == "guardian"]
    assert guardian["signer"]["user_id"] is None
    assert guardian["signer"]["name"] == "Parent of Sanne Bakker"
    assert (guardian["recorded_by"], guardian["organisation_id"]) == (sc.sending.user_id, sc.sending.org_id)


def test_a_signing_form_shows_the_reader_never_the_previous_signer(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run: Run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.sign("sign_learner", "learner")
    assert run.values("sending", "sign_sending")["signer"]["name"] == sc.sending.name
    run.sign("sign_sending", "sending")
    shown = run.values("hosting", "sign_hosting")["signer"]
    assert shown == {"name": "Javier Ruiz", "email": sc.hosting.email, "position": "Coordinator"}


def test_form_values_are_empty_for_someone_who_could_not_sign(db: Database) -> None:
    member, other = make_party(db, "NL", "School", place="Utrecht"), make_party(db, "BE", "Hotel")
    with db.transaction(write=False) as s:
        mine = signing.form_values(s, member.actor, organisation_id=member.org_id)
        theirs = signing.form_values(s, other.actor, organisation_id=member.org_id)
        personal = signing.form_values(s, member.actor, user_id=member.user_id)
        not_me = signing.form_values(s, other.actor, user_id=member.user_id)
    assert mine == {"name": member.name, "email": member.email, "position": "Coordinator", "place": "Utrecht"}
    assert personal == {"name": member.name, "email": member.email, "place": "Utrecht"}
    assert theirs == {}
    assert not_me == {}


def test_an_inactive_account_signs_nothing(db: Database) -> None:
    member = make_party(db, "NL", "School")
    with db.transaction() as s:
        s.execute(text("UPDATE users SET is_active = :no WHERE id = :id"), {"no": False, "id": member.user_id})
    with pytest.raises(Forbidden), db.transaction() as s:
        signing.for_organisation(s, actor=member.actor, organisation_id=member.org_id)


# --- evidence signed before this rule ---------------------------------------------------------------------


def _database_at_0007(db_url: str, tmp_path: Path) -> tuple[str, Any]:
    """A new database of the same backend at revision 0007, and how to drop it afterwards."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'legacy.sqlite3'}", lambda: None
    name = f"ecvet_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), drop


def test_approvals_signed_before_keep_their_typed_signer_and_stay_append_only(
    db_url: str, tmp_path: Path
) -> None:
    url, drop = _database_at_0007(db_url, tmp_path)
    try:
        upgrade(url, "0007")
        legacy = Database(url)
        with legacy.engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (name, country, created_at) VALUES ('School', 'NL', :t)"),
                         {"t": T0.replace(tzinfo=None)})
            conn.execute(text("INSERT INTO mous (sending_organisation_id, status, created_at, updated_at) "
                              "VALUES (1, 'in_approval', :t, :t)"), {"t": T0.replace(tzinfo=None)})
            conn.execute(text("INSERT INTO mou_versions (mou_id, number, content, content_hash, created_at) "
                              "VALUES (1, 1, '{}', :h, :t)"), {"h": "a" * 64, "t": T0.replace(tzinfo=None)})
            conn.execute(text(
                "INSERT INTO mou_approvals (mou_id, mou_version_id, organisation_id, role, decision, signer_name, "
                "signer_position, signer_email, signed_at, mode, content_hash) VALUES (1, 1, 1, 'partner', "
                "'approved', 'Typed Name', 'Typed position', 'typed@example.org', :t, 'explicit', :h)"),
                {"t": T0.replace(tzinfo=None), "h": "a" * 64})
        legacy.dispose()
        upgrade(url)
        migrated = Database(url)
        try:
            with migrated.transaction(write=False) as s:
                row = s.scalars(select(MouApproval)).one()
                assert signing.view(row) == {"user_id": None, "name": "Typed Name", "position": "Typed position",
                                             "email": "typed@example.org", "place": None}
            with pytest.raises(DBAPIError, match="append-only"), migrated.transaction() as s:
                s.execute(text("UPDATE mou_approvals SET signer_user_id = 1"))
        finally:
            migrated.dispose()
    finally:
        drop()


def test_an_issued_transcripts_signer_is_immutable_too(db: Database, frozen: FrozenClock) -> None:
    """The new signer columns are covered by the transcript's immutability trigger (recreated on SQLite)."""
    life = make_lifecycle_world(db, frozen, "issued")
    for column, value in (("signer_place", "'Elsewhere'"), ("signer_user_id", str(life.sending.user_id))):
        with pytest.raises(DBAPIError, match="immutable"), db.transaction() as s:
            s.execute(text(f"UPDATE personal_transcripts SET {column} = {value} WHERE id = :id"),
                      {"id": life.transcript_id})
