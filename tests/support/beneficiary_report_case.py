"""A sending school with two mobilities (one with an Erasmus+ Mobility ID and project code in its Learning
Agreement and a learner whose name a spreadsheet would run as a formula, one cancelled), and an unrelated
school with one of its own: what the beneficiary report must and must not show."""
from __future__ import annotations

from dataclasses import dataclass

from ecvet.mobility import learning_agreement
from ecvet.mobility.models import Mobility, MobilityStatus
from engine.db import Database
from tests.support.ecvet_factories import Party, active_mou, make_learner_mobility, make_party

FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"Lena\")"
MOBILITY_ID = "MOB-2027-000123"
PROJECT_CODE = "2027-1-NL01-KA122-VET-000042"


@dataclass
class ReportCase:
    sending: Party
    hosting: Party
    other: Party
    reported_id: int
    cancelled_id: int
    others_id: int


def report_case(db: Database) -> ReportCase:
    sending, hosting = make_party(db, "NL", "Sending school"), make_party(db, "BE", "Hosting company")
    other = make_party(db, "NL", "Unrelated school")
    mou_id = active_mou(db, sending, hosting, countries=("NL", "BE"))
    reported = make_learner_mobility(db, sending=sending, hosting=hosting, mou_id=mou_id, learner_name=FORMULA_NAME)
    cancelled = make_learner_mobility(db, sending=sending, hosting=hosting, mou_id=mou_id, learner_name="Gone Away")
    other_mou = active_mou(db, other, hosting, countries=("NL", "BE"))
    others = make_learner_mobility(db, sending=other, hosting=hosting, mou_id=other_mou, learner_name="Not Yours")
    with db.transaction() as s:
        learning_agreement.prepare(s, actor=sending.actor, mobility_id=reported.mobility_id, content={
            "mobility_identifier": MOBILITY_ID, "project_code": PROJECT_CODE, "units": [{"code": "U1"}],
            "assessment": {"method": "Practical task observed by the mentor"}})
        s.get_one(Mobility, cancelled.mobility_id).status = MobilityStatus.CANCELLED
    return ReportCase(sending, hosting, other, reported.mobility_id, cancelled.mobility_id, others.mobility_id)
