"""Assessment sheets: the host assesses each unit of the agreement in force, corrections supersede,
the learner acknowledges; refusals store nothing; the home side reads the sheets only once released."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ecvet.documents import assessment as assessment_document
from ecvet.mobility import assessment, transcript, views
from ecvet.mobility.models import AssessmentAcknowledgement, AssessmentRecord, Mobility
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import SIGNER, LiveMobility, make_live_mobility
from tests.support.engine import actor_for
from tests.support.factories import make_user

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


def test_a_learner_comment_on_one_unit_stays_on_that_unit(db: Database, live: LiveMobility) -> None:
    record(db, live, [sheet("U1"), sheet("U2")])
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=False,
                               unit_comments=[{"unit": "U9", "comment": "Not mine"}, {"unit": "U1", "comment": " "}])
    assert set(refused.value.errors) == {"unit_comments.0.unit", "unit_comments.1.comment"}
    with db.transaction() as s:
        rows = assessment.acknowledge(s, actor=live.learner, mobility_id=live.mobility_id, agrees=False,
                                      comment="Overall fair, but rushed",
                                      unit_comments=[{"unit": "U2", "comment": "The log template was new to me"}])
        sheets = {r.id: r.unit_code for r in assessment.current(s, s.get_one(Mobility, live.mobility_id))}
        by_unit = {sheets[r.assessment_id]: (r.comment, r.overall_comment) for r in rows}
    # The comment on the whole is kept as such: it is not U1's comment (issue 12: no copy onto every unit).
    assert by_unit == {"U1": (None, "Overall fair, but rushed"),
                       "U2": ("The log template was new to me", "Overall fair, but rushed")}


def test_each_learning_outcome_of_the_unit_gets_its_result(db: Database, live: LiveMobility) -> None:
    outcome = "Prepares cold starters to recipe"  # U1's outcome in the agreement (from the MoU)
    for outcomes, field in (
        ([{"learning_outcome": "Flambés desserts", "result": "achieved"}], "assessments.0.outcomes.0.learning_outcome"),
        ([{"learning_outcome": outcome, "result": "maybe"}], "assessments.0.outcomes.0.result"),
        ([], "assessments.0.outcomes"),
        ([{"learning_outcome": outcome, "result": "not_achieved"}], "assessments.0.result"),
    ):
        with pytest.raises(Invalid) as refused:
            record(db, live, [sheet("U1", outcomes=outcomes)])
        assert field in refused.value.errors
    assert count(db, AssessmentRecord) == 0
    record(db, live, [sheet("U1", outcomes=[{"learning_outcome": outcome, "result": "achieved",
                                            "comments": "Clean and fast"}]), sheet("U2")])
    with db.transaction(write=False) as s:
        sheets = views.assessment_sheets(s, actor=live.hosting.actor, mobility_id=live.mobility_id)
    assert sheets[0]["outcome_results"] == [{"kind": "skills", "text": outcome, "result": "achieved",
                                             "comment": "Clean and fast"}]
    assert sheets[1]["outcome_results"] is None


def test_each_assessor_signs_the_sheet_with_their_own_account(db: Database, live: LiveMobility) -> None:
    first, _ = record(db, live, [sheet("U1"), sheet("U2")])
    colleague = actor_for(db, make_user(db, organisation_ids=[live.hosting.org_id], name="Carmen Vidal",
                                        position="Head chef", place="València").id)
    with db.transaction() as s:
        signed = assessment.sign(s, actor=colleague, mobility_id=live.mobility_id, assessment_id=first,
                                 signer={"place": "Valencia"})
        assert (signed.signer_name, signed.signer_position, signed.signer_place) == (
            "Carmen Vidal", "Head chef", "Valencia")
    refusals: list[tuple[Any, type[Exception]]] = [
        (live.sending.actor, Forbidden),   # the sending school is no assessor of the host
        (live.learner, Forbidden),
        (live.outsider.actor, NotFound),   # another organisation does not see the mobility at all
        (colleague, Conflict),             # once per assessor
        (live.hosting.actor, Conflict),    # the member who recorded the sheet signed it then
    ]
    for actor, error in refusals:
        with pytest.raises(error), db.transaction() as s:
            assessment.sign(s, actor=actor, mobility_id=live.mobility_id, assessment_id=first)
    with pytest.raises(Invalid), db.transaction() as s:  # nobody signs in someone else's name
        assessment.sign(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessment_id=first + 1,
                        signer={"name": "Carmen Vidal"})
    with db.transaction(write=False) as s:
        document = assessment_document.build(s, live.hosting.actor, first)
    assessors = [x for x in document.signatures if x.party.startswith("Assessor")]
    assert [(x.name, x.position, x.place) for x in assessors] == [("Carmen Vidal", "Head chef", "Valencia")]
    assert assessors[0].signed_at is not None
    assert document.data["assessor_signatures"][0]["name"] == "Carmen Vidal"


def test_a_replaced_sheet_is_not_signed(db: Database, live: LiveMobility) -> None:
    first, _ = record(db, live, [sheet("U1"), sheet("U2")])
    record(db, live, [sheet("U1", comments="corrected")])
    colleague = actor_for(db, make_user(db, organisation_ids=[live.hosting.org_id], position="Chef").id)
    with pytest.raises(Conflict), db.transaction() as s:
        assessment.sign(s, actor=colleague, mobility_id=live.mobility_id, assessment_id=first)


def test_assessors_signatures_are_append_only(db: Database, live: LiveMobility) -> None:
    first, _ = record(db, live, [sheet("U1"), sheet("U2")])
    colleague = actor_for(db, make_user(db, organisation_ids=[live.hosting.org_id], position="Chef").id)
    with db.transaction() as s:
        signed = assessment.sign(s, actor=colleague, mobility_id=live.mobility_id, assessment_id=first).id
    for sql in ("UPDATE assessment_signatures SET signer_place = 'Elsewhere' WHERE id = :id",
                "DELETE FROM assessment_signatures WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(sql), {"id": signed})
