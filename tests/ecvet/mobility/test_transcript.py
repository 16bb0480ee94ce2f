"""The Learner's Personal Transcript: built from the sheets and the agreement in force, issued by the host
once, immutable in the database except for its one release, readable by the home side only after it."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ecvet.evidence import content_hash
from ecvet.mobility import assessment, learning_agreement, transcript, views
from ecvet.mobility.models import LearningAgreement, PersonalTranscript
from ecvet.national_models.models import CompetenceFunction
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import SIGNER, LiveMobility, make_live_mobility

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def assessed(db: Database, frozen: FrozenClock, *, acknowledge: bool = True, **world: object) -> LiveMobility:
    live = make_live_mobility(db, frozen, **world)  # type: ignore[arg-type]
    frozen.set(datetime(2027, 4, 8, 10, 0, tzinfo=UTC))
    assessor = {"name": "Javier Ruiz", "organisation": "Hotel Sol"}
    with db.transaction() as s:
        assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessments=[
            {"unit": "U1", "criteria": "Cold starters to recipe", "method": "practical_task", "date": "2027-04-07",
             "assessor": assessor, "result": "achieved", "grade": "9/10", "evidence": "Photos of the buffet"},
            {"unit": "U2", "criteria": "HACCP log", "method": "portfolio", "date": "2027-04-07",
             "assessor": assessor, "result": "not_achieved"}])
        if acknowledge:
            assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
    return live


def issue(db: Database, live: LiveMobility) -> PersonalTranscript:
    with db.transaction() as s:
        return transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER)


def test_the_transcript_lists_each_unit_for_the_agreement_in_force(db: Database, frozen: FrozenClock) -> None:
    live = assessed(db, frozen)
    issued = issue(db, live)
    with db.transaction(write=False) as s:
        la = s.get_one(LearningAgreement, live.la_id)
        version = learning_agreement.current_version(s, la)
        view = views.personal_transcript(transcript.get(s, actor=live.hosting.actor, mobility_id=live.mobility_id))
    content = view["content"]
    assert (view["la_id"], view["la_version"], view["la_hash"]) == (live.la_id, version.number,
                                                                    version.content_hash)
    assert content["learning_agreement"] == {"id": live.la_id, "version": version.number,
                                             "hash": version.content_hash}
    assert [(u["code"], u["method"], u["result"], u["ecvet_points"], u["grade"]) for u in content["units"]] == [
        ("U1", "practical_task", "achieved", 12, "9/10"), ("U2", "portfolio", "not_achieved", 4, None)]
    assert content["units"][0]["assessor"]["name"] == "Javier Ruiz"
    assert content["units"][0]["evidence"] == "Photos of the buffet"
    assert content["ecvet_points_achieved"] == 12
    assert view["content_hash"] == content_hash(content) == issued.content_hash
    assert view["issued_by"]["user_id"] == live.hosting.user_id
    assert view["issued_by"]["email"] == live.hosting.email
    assert view["issued_by"]["organisation_id"] == live.hosting.org_id
    assert view["issued_by"]["position"] == SIGNER["position"]
    assert view["ready_for_recognition_at"] is None


def test_issued_once_by_the_host_after_the_learner_acknowledged(db: Database, frozen: FrozenClock) -> None:
    live = assessed(db, frozen, acknowledge=False)
    with pytest.raises(Conflict, match="acknowledged"):
        issue(db, live)
    with db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
    with pytest.raises(Forbidden), db.transaction() as s:
        transcript.issue(s, actor=live.sending.actor, mobility_id=live.mobility_id, signer=SIGNER)
    with pytest.raises(Invalid, match="signature") as refused, db.transaction() as s:
        transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer={"name": "X"})
    assert set(refused.value.errors) == {"signer.name"}  # X is not the signed-in member
    issue(db, live)
    with pytest.raises(Conflict, match="already issued"):
        issue(db, live)


def test_every_unit_must_be_assessed_first(db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen, units=("U1", "U2", "U3"))
    frozen.set(datetime(2027, 4, 8, 10, 0, tzinfo=UTC))
    with db.transaction() as s:
        assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessments=[
            {"unit": "U1", "criteria": "c", "method": "test", "date": "2027-04-07",
             "assessor": {"name": "A", "organisation": "B"}, "result": "achieved"}])
    with pytest.raises(Conflict, match="Not every unit is assessed: U2, U3"):
        issue(db, live)


def test_the_home_side_reads_it_only_once_released(db: Database, frozen: FrozenClock) -> None:
    live = assessed(db, frozen, competences=(CompetenceFunction.MOU_APPROVAL, CompetenceFunction.LA_APPROVAL,
                                             CompetenceFunction.RECOGNITION), home="DE", abroad="NL",
                    sector="crafts")
    with pytest.raises(Conflict, match="No transcript"), db.transaction() as s:
        transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
    issue(db, live)
    assert live.competent_institution is not None
    home = (live.sending.actor, live.competent_institution.actor)
    with db.transaction(write=False) as s:
        for actor in home:
            with pytest.raises(NotFound):
                transcript.get(s, actor=actor, mobility_id=live.mobility_id)
        assert transcript.get(s, actor=live.learner, mobility_id=live.mobility_id)
    with pytest.raises(Forbidden), db.transaction() as s:
        transcript.mark_ready(s, actor=live.sending.actor, mobility_id=live.mobility_id)
    with db.transaction() as s:
        transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
    with db.transaction(write=False) as s:
        for actor in home:
            assert transcript.get(s, actor=actor, mobility_id=live.mobility_id).ready_for_recognition_at
        with pytest.raises(NotFound):
            transcript.get(s, actor=live.outsider.actor, mobility_id=live.mobility_id)
    with pytest.raises(Conflict, match="already ready"), db.transaction() as s:
        transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id)


def test_immutable_in_the_database_except_its_one_release(db: Database, frozen: FrozenClock) -> None:
    live = assessed(db, frozen)
    issued = issue(db, live)
    refused = [
        "UPDATE personal_transcripts SET content_hash = 'forged' WHERE id = :id",
        "UPDATE personal_transcripts SET signer_name = 'Someone else' WHERE id = :id",
        "UPDATE personal_transcripts SET ready_for_recognition_at = CURRENT_TIMESTAMP, la_hash = 'x' WHERE id = :id",
        "DELETE FROM personal_transcripts WHERE id = :id",
    ]
    for sql in refused:
        with pytest.raises(DBAPIError, match="immutable"), db.transaction() as s:
            s.execute(text(sql), {"id": issued.id})
    with db.transaction() as s:
        transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
    with pytest.raises(DBAPIError, match="immutable"), db.transaction() as s:
        s.execute(text("UPDATE personal_transcripts SET ready_for_recognition_at = NULL WHERE id = :id"),
                  {"id": issued.id})
    with db.transaction(write=False) as s:
        kept = s.get_one(PersonalTranscript, issued.id)
        assert kept.content_hash == issued.content_hash
        assert kept.ready_for_recognition_at is not None


def test_the_agreement_no_longer_changes_once_the_transcript_is_issued(db: Database, frozen: FrozenClock) -> None:
    live = assessed(db, frozen)
    issue(db, live)
    with pytest.raises(Conflict, match="transcript was issued"), db.transaction() as s:
        learning_agreement.change(s, actor=live.hosting.actor, la_id=live.la_id,
                   added=[{"unit": "U3", "reason": "Late addition"}])


def test_the_transcript_states_outcomes_activities_hours_and_actual_dates(db: Database, frozen: FrozenClock) -> None:
    live = assessed(db, frozen)
    with db.transaction() as s:
        issued = transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER,
                                  period={"start": "2027-03-02"}, hours=[{"unit": "U1", "hours": 112.5}])
    content = issued.content
    assert content["period"] == {"start": "2027-03-01", "end": "2027-04-09", "actual_start": "2027-03-02",
                                 "actual_end": "2027-04-09", "early_end": False}
    u1, u2 = content["units"]
    assert (u1["hours"], u2["hours"]) == (112.5, None)
    assert u1["learning_outcomes"] == [{"kind": "skills", "text": "Prepares cold starters to recipe"}]
    assert u1["learning_activities"] == {}  # this agreement gives none: stated as such


@pytest.mark.parametrize(("period", "hours", "field"), [
    ({"start": "2027-02-28"}, None, "period"),  # before the planned first day
    ({"end": "2027-04-10"}, None, "period"),  # a longer stay is a postponement
    ({"end": "2027-04-09", "start": "2027-04-10"}, None, "period"),
    ({"end": "not a day"}, None, "period.end"),
    (None, [{"unit": "U9", "hours": 3}], "hours.0.unit"),
    (None, [{"unit": "U1", "hours": -1}], "hours.0.hours"),
])
def test_actual_dates_and_hours_are_checked(db: Database, frozen: FrozenClock, period: object, hours: object,
                                            field: str) -> None:
    live = assessed(db, frozen)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER,
                         period=period, hours=hours)  # type: ignore[arg-type]
    assert field in refused.value.errors
