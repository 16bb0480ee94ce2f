"""The beneficiary report: the sending organisation's mobilities in the Beneficiary Module's columns,
formula cells defused, the read audited."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from ecvet.mobility import beneficiary_report
from ecvet.mobility.models import CreditAward
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent
from tests.support.beneficiary_report_case import FORMULA_NAME, MOBILITY_ID, PROJECT_CODE, report_case
from tests.support.ecvet_worlds import make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # the frozen clock starts here


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+31 6 1234", "'+31 6 1234"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("Lena Vos", "Lena Vos"), (None, ""), (4, "4"), ("a=b", "a=b"),
])
def test_cells_a_spreadsheet_would_run_start_with_a_quote(value: object, cell: str) -> None:
    assert beneficiary_report.safe_cell(value) == cell


def test_rows_are_the_senders_mobilities_in_the_import_columns(db: Database) -> None:
    case = report_case(db)
    with db.transaction() as s:
        table = beneficiary_report.rows(s, actor=case.sending.actor)
    assert len(table) == 1  # the cancelled one and the other school's are left out
    row = dict(zip(beneficiary_report.COLUMNS, table[0], strict=True))
    assert row["Mobility ID"] == MOBILITY_ID
    assert row["Project Code"] == PROJECT_CODE
    assert row["Participant Name"] == "'" + FORMULA_NAME
    assert row["Participant Email"].endswith("@learner.example")
    assert (row["Sending Organisation"], row["Sending Country"]) == ("Sending school", "NL")
    assert (row["Receiving Organisation"], row["Receiving Country"]) == ("Hosting company", "BE")
    assert (row["Start Date"], row["End Date"]) == ("2027-03-01", "2027-04-09")
    assert (row["Qualification"], row["EQF Level"], row["ECVET Points Awarded"]) == ("Cook", "4", "")
    with db.transaction() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "mobility.beneficiary_report_read")))
    assert [(e.actor_id, e.detail["mobility_ids"]) for e in events] == [(case.sending.user_id, [case.reported_id])]


def test_the_hosting_side_and_strangers_get_no_rows(db: Database) -> None:
    case = report_case(db)
    with db.transaction() as s:
        assert beneficiary_report.rows(s, actor=case.hosting.actor) == []
        assert [r[2] for r in beneficiary_report.rows(s, actor=case.other.actor)] == ["Not Yours"]


def test_csv_has_the_header_then_one_line_per_row() -> None:
    text = beneficiary_report.to_csv([["'=1", "a,b"]])
    assert list(csv.reader(io.StringIO(text))) == [list(beneficiary_report.COLUMNS), ["'=1", "a,b"]]


def test_points_awarded_are_the_credits_of_the_recognised_units(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    with db.transaction() as s:
        awarded = s.scalar(select(func.sum(CreditAward.ecvet_points))
                           .where(CreditAward.mobility_id == life.mobility_id))
        table = beneficiary_report.rows(s, actor=life.sending.actor)
    assert awarded
    row = dict(zip(beneficiary_report.COLUMNS, table[0], strict=True))
    assert float(row["ECVET Points Awarded"]) == awarded
