"""The Learner's Personal Transcript as a document (ecvet/documents/transcript.py): what the learner learnt
abroad (outcomes, activities, hours) and when (the actual dates, an early end) next to the results."""
from __future__ import annotations

from datetime import UTC, datetime

from ecvet.documents import service
from ecvet.documents.model import Document
from engine.clock import FrozenClock
from engine.db import Database
from tests.support.ecvet_worlds import make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _document(db: Database, frozen: FrozenClock) -> Document:
    life = make_lifecycle_world(db, frozen, "ready")
    assert life.transcript_id is not None
    with db.transaction(write=False) as s:
        return service.build(s, actor=life.sending.actor, kind="transcript", record_id=life.transcript_id)


def test_the_transcript_prints_outcomes_activities_hours_and_actual_dates(db: Database, frozen: FrozenClock) -> None:
    document = _document(db, frozen)
    period = {label: value for s in document.sections if s.heading == "Qualification and period"
              for label, value in s.fields}
    assert (period["End"], period["Actual last day"], period["Ended early"]) == ("2027-04-09", "2027-04-08", "yes")
    learnt = [s for s in document.sections if s.heading == "Learning achieved abroad"][0].table
    assert learnt is not None
    assert learnt.rows[0] == ["U1", "Prepares cold starters to recipe", "Hotel kitchen, Sofia: Garde-manger station",
                              "120"]
    assert learnt.rows[1][0::3] == ["U2", "—"]
    assert "Recognition" not in [s.heading for s in document.sections], "issue dates are not a recognition"
