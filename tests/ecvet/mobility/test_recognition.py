"""After the mobility: validation by the sending school, recognition by whom the national model names
(one act where it merges them), credits awarded to the learner, practical implications; every decision
bound to the transcript's hash; achievements visible per mobility."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ecvet.mobility import assessment, recognition, service, transcript, views
from ecvet.mobility.models import (
    CreditAward,
    Mobility,
    MobilityStatus,
    PracticalImplication,
    RecognitionDecision,
    ValidationDecision,
)
from ecvet.national_models.models import CompetenceFunction
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import SIGNER, LiveMobility, make_live_mobility

DE_CHAMBER = (CompetenceFunction.MOU_APPROVAL, CompetenceFunction.RECOGNITION)


T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def released(db: Database, frozen: FrozenClock, *, results: tuple[str, str] = ("achieved", "achieved"),
             **world: Any) -> tuple[LiveMobility, str]:
    """A mobility whose transcript (U1 12 points, U2 4 points) is ready for recognition."""
    live = make_live_mobility(db, frozen, **world)
    frozen.set(datetime(2027, 4, 8, 10, 0, tzinfo=UTC))
    assessor = {"name": "Javier Ruiz", "organisation": "Hotel Sol"}
    with db.transaction() as s:
        assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessments=[
            {"unit": unit, "criteria": "c", "method": "observation", "date": "2027-04-07", "assessor": assessor,
             "result": result} for unit, result in zip(("U1", "U2"), results, strict=True)])
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
        transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER)
        digest = transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id).content_hash
    frozen.set(datetime(2027, 4, 20, 10, 0, tzinfo=UTC))
    return live, digest


def validate(db: Database, live: LiveMobility, digest: str, units: list[dict[str, Any]],
             actor: Any = None) -> list[ValidationDecision]:
    with db.transaction() as s:
        return recognition.validate(s, actor=actor or live.sending.actor, mobility_id=live.mobility_id,
                                    transcript_hash=digest, units=units, signer=SIGNER)


def recognise(db: Database, live: LiveMobility, digest: str, units: list[dict[str, Any]],
              actor: Any = None) -> RecognitionDecision:
    with db.transaction() as s:
        return recognition.recognise(s, actor=actor or live.sending.actor, mobility_id=live.mobility_id,
                                     transcript_hash=digest, units=units, signer=SIGNER)


def count(db: Database, model: Any) -> int:
    with db.transaction(write=False) as s:
        return s.scalars(select(func.count(model.id))).one()


def test_validation_then_recognition_by_the_sending_school(db: Database, frozen: FrozenClock) -> None:
    """The default model (e.g. CZ): the school validates, then recognises, in two acts."""
    live, digest = released(db, frozen, home="CZ", abroad="AT")
    with pytest.raises(Conflict, match="not validated the units yet"):
        recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True}])
    with pytest.raises(Conflict, match="stale"):
        validate(db, live, "0" * 64, [{"unit": "U1", "outcome": "validated"}])
    with pytest.raises(Forbidden):
        validate(db, live, digest, [{"unit": "U1", "outcome": "validated"}], actor=live.hosting.actor)
    with pytest.raises(Invalid) as refused:
        validate(db, live, digest, [{"unit": "U1", "outcome": "validated"},
                                    {"unit": "U2", "outcome": "partly_validated"}])
    assert set(refused.value.errors) == {"units.1.comment"}
    with pytest.raises(Invalid, match="not complete"):
        validate(db, live, digest, [{"unit": "U1", "outcome": "validated"}])
    assert count(db, ValidationDecision) == 0
    validate(db, live, digest, [{"unit": "U1", "outcome": "validated"},
                                {"unit": "U2", "outcome": "partly_validated", "comment": "HACCP log incomplete"}])
    with pytest.raises(Conflict, match="validated already"):
        validate(db, live, digest, [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}])
    for units, field in (
        ([{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True}], "units.1.ecvet_points"),
        ([{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True, "ecvet_points": 4}],
         "units.1.ecvet_points"),
        ([{"unit": "U1", "recognised": True, "ecvet_points": 10}, {"unit": "U2", "recognised": False}],
         "units.0.ecvet_points"),
    ):
        with pytest.raises(Invalid) as refused:
            recognise(db, live, digest, units)
        assert field in refused.value.errors
    decision = recognise(db, live, digest, [{"unit": "U1", "recognised": True},
                                            {"unit": "U2", "recognised": True, "ecvet_points": 2.5}])
    assert (decision.recognised_by, decision.organisation_id, decision.merged_with_validation) == (
        "sending", live.sending.org_id, False)
    with db.transaction(write=False) as s:
        awards = s.scalars(select(CreditAward).order_by(CreditAward.unit_code)).all()
        assert [(a.unit_code, a.ecvet_points, a.learner_id) for a in awards] == [
            ("U1", 12.0, live.learner_id), ("U2", 2.5, live.learner_id)]
        assert service.get(s, actor=live.sending.actor, mobility_id=live.mobility_id).status == \
            MobilityStatus.RECOGNIZED
    with pytest.raises(Conflict):
        recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": False}])


def test_the_chamber_recognises_where_the_model_names_it(db: Database, frozen: FrozenClock) -> None:
    live, digest = released(db, frozen, home="DE", abroad="NL", competences=DE_CHAMBER,
                            results=("achieved", "not_achieved"))
    validate(db, live, digest, [{"unit": "U1", "outcome": "validated"},
                                {"unit": "U2", "outcome": "not_validated", "comment": "Not achieved"}])
    with pytest.raises(Forbidden):
        recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": False}])
    assert live.competent_institution is not None
    chamber = live.competent_institution.actor
    with pytest.raises(Invalid) as refused:
        recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True}],
                  actor=chamber)
    assert "units.1.recognised" in refused.value.errors
    decision = recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": False}],
                         actor=chamber)
    assert (decision.recognised_by, decision.organisation_id) == ("competent_institution",
                                                                  live.competent_institution.org_id)
    with db.transaction(write=False) as s:
        view = views.decisions(s, s.get_one(Mobility, live.mobility_id))
        assert [c["unit"] for c in view["credits"]] == ["U1"]
        assert view["recognition"] is not None
        assert view["recognition"]["national_model"] == "chamber_approval"


def test_one_act_where_the_model_merges_validation_and_recognition(db: Database, frozen: FrozenClock) -> None:
    live, digest = released(db, frozen, home="NL", abroad="BE")
    with pytest.raises(Conflict, match="merges"):
        validate(db, live, digest, [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}])
    with pytest.raises(Conflict, match="merges"):
        recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True}])
    with db.transaction() as s:
        decision = recognition.validate_and_recognise(
            s, actor=live.sending.actor, mobility_id=live.mobility_id, transcript_hash=digest, signer=SIGNER,
            units=[{"unit": "U1", "outcome": "validated"},
                   {"unit": "U2", "outcome": "not_validated", "comment": "Outside the unit"}])
        assert decision.merged_with_validation is True
    with db.transaction(write=False) as s:
        rows = s.scalars(select(ValidationDecision).order_by(ValidationDecision.unit_code)).all()
        assert [(r.outcome, r.merged_with_recognition) for r in rows] == [("validated", True),
                                                                           ("not_validated", True)]
        assert [a.unit_code for a in s.scalars(select(CreditAward))] == ["U1"]


def test_separate_models_refuse_the_merged_act(db: Database, frozen: FrozenClock) -> None:
    live, digest = released(db, frozen, home="CZ", abroad="AT")
    with pytest.raises(Conflict, match="apart"), db.transaction() as s:
        recognition.validate_and_recognise(s, actor=live.sending.actor, mobility_id=live.mobility_id,
                                           transcript_hash=digest, signer=SIGNER,
                                           units=[{"unit": "U1", "outcome": "validated"}])


def test_nothing_before_the_transcript_is_released(db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen, home="CZ", abroad="AT")
    with pytest.raises(Conflict, match="not ready"):
        validate(db, live, "0" * 64, [{"unit": "U1", "outcome": "validated"}])


def test_practical_implications_and_the_learners_achievements(db: Database, frozen: FrozenClock) -> None:
    live, digest = released(db, frozen, home="CZ", abroad="AT")
    implications = [{"kind": "exempted_activity", "description": "No cold kitchen module in year 2", "unit": "U1"},
                    {"kind": "extra_credits", "description": "Extra credit for the restaurant project",
                     "ecvet_points": 3}]
    with pytest.raises(Conflict, match="follow recognition"), db.transaction() as s:
        recognition.record_implications(s, actor=live.sending.actor, mobility_id=live.mobility_id,
                                        implications=implications)
    validate(db, live, digest, [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}])
    recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True}])
    for bad, field in (([{"kind": "holiday", "description": "x"}], "implications.0.kind"),
                       ([{"kind": "extra_credits", "description": "x"}], "implications.0.ecvet_points"),
                       ([{"kind": "no_retake", "description": "x", "unit": "U9"}], "implications.0.unit"),
                       ([{"kind": "no_retake", "description": " "}], "implications.0.description")):
        with pytest.raises(Invalid) as refused, db.transaction() as s:
            recognition.record_implications(s, actor=live.sending.actor, mobility_id=live.mobility_id,
                                            implications=bad)
        assert field in refused.value.errors
    with pytest.raises(Forbidden), db.transaction() as s:
        recognition.record_implications(s, actor=live.hosting.actor, mobility_id=live.mobility_id,
                                        implications=implications)
    with db.transaction() as s:
        recognition.record_implications(s, actor=live.sending.actor, mobility_id=live.mobility_id,
                                        implications=implications)
    with pytest.raises(Conflict, match="already"), db.transaction() as s:
        recognition.record_implications(s, actor=live.sending.actor, mobility_id=live.mobility_id, implications=[])
    with db.transaction(write=False) as s:
        mine = views.achievements(s, actor=live.learner, learner_id=live.learner_id)
        assert [(c["unit"], c["ecvet_points"]) for c in mine["credits"]] == [("U1", 12.0), ("U2", 4.0)]
        assert (mine["total_ecvet_points"], mine["extra_ecvet_points"]) == (16.0, 3.0)
        assert mine["learner"]["name"] == "Lena Vos"
        assert views.achievements(s, actor=live.hosting.actor, learner_id=live.learner_id)["credits"]
        with pytest.raises(NotFound):
            views.achievements(s, actor=live.outsider.actor, learner_id=live.learner_id)
    for sql in ("UPDATE credit_awards SET ecvet_points = 60", "DELETE FROM credit_awards",
                "UPDATE recognition_decisions SET recognised_by = 'sending'", "DELETE FROM validation_decisions",
                "UPDATE practical_implications SET kind = 'other'", "DELETE FROM mobility_status_changes"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(sql))
    assert count(db, PracticalImplication) == 2


def test_achievements_show_only_the_mobilities_the_caller_takes_part_in(db: Database, frozen: FrozenClock) -> None:
    """The same learner abroad twice with two schools' partners: each host sees its own mobility's credits."""
    live, digest = released(db, frozen, home="CZ", abroad="AT")
    validate(db, live, digest, [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}])
    recognise(db, live, digest, [{"unit": "U1", "recognised": True}, {"unit": "U2", "recognised": True}])
    other = make_live_mobility(db, frozen, home="CZ", abroad="SK")
    with db.transaction() as s:  # a second mobility of the same learner (another school, another host)
        s.get_one(Mobility, other.mobility_id).learner_id = live.learner_id
    with db.transaction(write=False) as s:
        assert views.achievements(s, actor=other.hosting.actor, learner_id=live.learner_id)["credits"] == []
        mine = views.achievements(s, actor=live.learner, learner_id=live.learner_id)
        assert mine["mobility_ids"] == [live.mobility_id, other.mobility_id]
        assert len(mine["credits"]) == 2
