"""The assessment sheet as a document (ecvet/documents/assessment.py): the learning outcomes assessed (the
unit's, from the agreement, when the sheet names none) and the result of each where it records them."""
from __future__ import annotations

from datetime import UTC, datetime

from ecvet.documents import service
from ecvet.mobility import assessment
from engine.clock import FrozenClock
from engine.db import Database
from tests.support.ecvet_factories import make_live_mobility

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
OUTCOME = "Prepares cold starters to recipe"


def test_the_sheet_prints_the_outcomes_assessed_and_each_result(db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen)
    frozen.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))
    with db.transaction() as s:
        rows = assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessments=[
            {"unit": "U1", "criteria": "To recipe", "method": "observation", "date": "2027-03-18",
             "result": "achieved", "outcomes": [{"learning_outcome": OUTCOME, "result": "achieved"}]}])
        document = service.build(s, actor=live.hosting.actor, kind="assessment-sheet", record_id=rows[0].id)
    unit = {label: value for section in document.sections if section.heading == "Unit of learning outcomes"
            for label, value in section.fields}
    assert unit["Learning outcomes assessed"] == f"Skills: {OUTCOME}"
    per_outcome = [section.table for section in document.sections if section.heading == "Results per learning outcome"]
    assert per_outcome[0] is not None
    assert per_outcome[0].rows == [[f"Skills: {OUTCOME}", "achieved", "—"]]
