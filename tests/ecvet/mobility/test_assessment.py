"""Assessment sheets: the host assesses each unit of the agreement in force, corrections supersede,
the learner acknowledges; refusals store nothing; the home side reads the sheets only once released."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ecvet.mobility import assessment, transcript, views
from ecvet.mobility.models import AssessmentAcknowledgement, AssessmentRecord
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import SIGNER, LiveMobility, make_live_mobility

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def live(db: Database, frozen: FrozenClock) -> LiveMobility:
    world = make_live_mobility(db, frozen)
    frozen.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))
    return world


def sheet(unit: str, result: str = "achieved", **extra: Any) -> dict[str, Any]:
    return {"unit": unit, "criteria": f"Criteria of {unit}", "method": "observation", "date": "2027-03-18",
            "assessor": {"name": "Javier Ruiz", "organisation": "Hotel Sol", "role": "mentor"}, "result": result,
            **extra}


def record(db: Database, live: LiveMobility, sheets: list[dict[str, Any]], actor: Any = None) -> list[int]:
    with db.transaction() as s:
        return [r.id for r in assessment.record(s, actor=actor or live.hosting.actor, mobility_id=live.mobility_id,
                                                assessments=sheets)]


def count(db: Database, model: Any) -> int:
    with db.transaction(write=False) as s:
        return s.scalars(select(func.count(model.id))).one()


def test_the_host_records_one_sheet_per_unit_and_a_correction_supersedes(db: Database, live: LiveMobility) -> None:
    first = record(db, live, [sheet("U1", grade="8/10", evidence="Photos"), sheet("U2", "not_achieved")])
    again = record(db, live, [sheet("U2", comments="Second attempt")])
    with db.transaction(write=False) as s:
        current = views.assessment_sheets(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
        assert [(c["unit"], c["result"], c["supersedes_id"]) for c in current] == [
            ("U1", "achieved", None), ("U2", "achieved", first[1])]
        assert current[0]["grade"] == "8/10"
        assert current[0]["assessor"]["role"] == "mentor"
        assert s.get_one(AssessmentRecord, first[1]).result == "not_achieved", "the superseded sheet stays"
    assert again
    assert count(db, AssessmentRecord) == 3


@pytest.mark.parametrize(("sheets", "field"), [
    ([sheet("U9")], "assessments.0.unit"),
    ([sheet("U1", method="guess")], "assessments.0.method"),
    ([sheet("U1", result="maybe")], "assessments.0.result"),
    ([sheet("U1", date="2027-02-01")], "assessments.0.date"),  # before the mobility
    ([sheet("U1", date="2027-03-25")], "assessments.0.date"),  # in the future
    ([sheet("U1", criteria=" ")], "assessments.0.criteria"),
    ([{**sheet("U1"), "assessor": {"name": "X"}}], "assessments.0.assessor.organisation"),
    ([sheet("U1"), sheet("U1")], "assessments.1.unit"),
])
def test_an_incomplete_sheet_is_refused_and_nothing_is_stored(
    db: Database, live: LiveMobility, sheets: list[dict[str, Any]], field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        record(db, live, sheets + [sheet("U2")])
    assert field in refused.value.errors
    assert count(db, AssessmentRecord) == 0


def test_only_the_host_assesses_and_only_during_the_mobility(db: Database, live: LiveMobility) -> None:
    with pytest.raises(Forbidden):
        record(db, live, [sheet("U1")], actor=live.sending.actor)
    with pytest.raises(NotFound):
        record(db, live, [sheet("U1")], actor=live.outsider.actor)
    with pytest.raises(Invalid):
        record(db, live, [])
    record(db, live, [sheet("U1"), sheet("U2")])
    with db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
        transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER)
    with pytest.raises(Conflict, match="final"):
        record(db, live, [sheet("U1", "not_achieved")])


def test_the_learner_acknowledges_every_sheet(db: Database, live: LiveMobility) -> None:
    record(db, live, [sheet("U1")])
    with pytest.raises(Conflict, match="Not every unit is assessed yet: U2"), db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
    record(db, live, [sheet("U2")])
    with pytest.raises(Forbidden), db.transaction() as s:
        assessment.acknowledge(s, actor=live.hosting.actor, mobility_id=live.mobility_id, agrees=True)
    with pytest.raises(Invalid, match="disagree"), db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=False)
    with db.transaction() as s:
        rows = assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=False,
                                      comment="U2 was assessed on a busy day")
        assert len(rows) == 2
    with pytest.raises(Conflict, match="already"), db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
    record(db, live, [sheet("U2", evidence="Re-assessed on a quiet day")])
    with db.transaction() as s:
        assert len(assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)) == 1
    with db.transaction(write=False) as s:
        sheets = views.assessment_sheets(s, actor=live.learner, mobility_id=live.mobility_id)
        assert [c["learner_acknowledgement"]["agrees"] for c in sheets] == [False, True]  # type: ignore[index]


def test_the_home_side_reads_the_sheets_once_the_transcript_is_released(db: Database, live: LiveMobility) -> None:
    record(db, live, [sheet("U1"), sheet("U2")])
    with db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
        transcript.issue(s, actor=live.hosting.actor, mobility_id=live.mobility_id, signer=SIGNER)
    with pytest.raises(NotFound), db.transaction(write=False) as s:
        views.assessment_sheets(s, actor=live.sending.actor, mobility_id=live.mobility_id)
    with db.transaction() as s:
        transcript.mark_ready(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
    with db.transaction(write=False) as s:
        assert len(views.assessment_sheets(s, actor=live.sending.actor, mobility_id=live.mobility_id)) == 2
    with pytest.raises(NotFound), db.transaction(write=False) as s:
        views.assessment_sheets(s, actor=live.outsider.actor, mobility_id=live.mobility_id)


def test_sheets_and_acknowledgements_are_append_only(db: Database, live: LiveMobility) -> None:
    ids = record(db, live, [sheet("U1"), sheet("U2")])
    with db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=True)
    for sql in ("UPDATE assessment_records SET result = 'not_achieved' WHERE id = :id",
                "DELETE FROM assessment_records WHERE id = :id",
                "UPDATE assessment_acknowledgements SET agrees = false WHERE assessment_id = :id",
                "DELETE FROM assessment_acknowledgements WHERE assessment_id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(sql), {"id": ids[0]})
    assert count(db, AssessmentAcknowledgement) == 2
