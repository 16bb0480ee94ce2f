"""The Erasmus+ beneficiary report: the sending organisation's mobilities as CSV rows in the columns the
Beneficiary Module imports (participant, organisations and countries, dates, Mobility ID, project code,
qualification, EQF level, ECVET points awarded)."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.mobility.models import CreditAward, LaVersion, LearningAgreement, Mobility, MobilityStatus
from ecvet.subject_access import reads
from engine import audit
from engine.models import Organisation
from engine.parties import Actor

#: The columns, in the order of the Beneficiary Module's mobility import.
COLUMNS = (
    "Mobility ID", "Project Code", "Participant Name", "Participant Email",
    "Sending Organisation", "Sending Organisation OID", "Sending Country",
    "Receiving Organisation", "Receiving Organisation OID", "Receiving Country",
    "Start Date", "End Date", "Qualification", "EQF Level", "ECVET Points Awarded",
)
#: A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text, with a leading ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _la_content(session: Session, mobility_id: int) -> dict[str, object]:
    """The current content of the mobility's Learning Agreement (empty when it has none yet)."""
    version = session.scalar(
        select(LaVersion).join(LearningAgreement, LearningAgreement.current_version_id == LaVersion.id)
        .where(LearningAgreement.mobility_id == mobility_id, LearningAgreement.deleted_at.is_(None))
        .order_by(LearningAgreement.id.desc()).limit(1))
    return dict(version.content) if version is not None else {}


def _points(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def rows(session: Session, *, actor: Actor) -> list[list[str]]:
    """One row per mobility the caller's organisations send (cancelled ones left out), oldest first;
    audited as a read of the learners' personal data."""
    mobilities = list(session.scalars(
        select(Mobility).where(Mobility.sending_organisation_id.in_(sorted(actor.organisation_ids)),
                               Mobility.status != MobilityStatus.CANCELLED).order_by(Mobility.id)))
    ids = [m.id for m in mobilities]
    points: dict[int, float] = {mobility_id: total for mobility_id, total in session.execute(
        select(CreditAward.mobility_id, func.sum(CreditAward.ecvet_points))
        .where(CreditAward.mobility_id.in_(ids)).group_by(CreditAward.mobility_id))}
    org_ids = {m.sending_organisation_id for m in mobilities} | {m.hosting_organisation_id for m in mobilities}
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    out = []
    for m in mobilities:
        content = _la_content(session, m.id)
        sending, hosting = orgs[m.sending_organisation_id], orgs[m.hosting_organisation_id]
        out.append([safe_cell(v) for v in (
            content.get("mobility_identifier"), content.get("project_code"), m.learner.name, m.learner.email,
            sending.name, sending.erasmus_oid, sending.country, hosting.name, hosting.erasmus_oid, hosting.country,
            m.start_date.isoformat(), m.end_date.isoformat(), m.qualification_title, m.qualification_eqf_level,
            _points(points.get(m.id)))])
    reads.log_reads(session, actor=actor, what="beneficiary-report",
                    read=[(m.learner_id, m.id, m.sending_organisation_id) for m in mobilities])
    audit.record(session, actor_id=actor.user_id, action="mobility.beneficiary_report_read",
                 organisation_ids=sorted(actor.organisation_ids), mobility_ids=ids)
    return out


def to_csv(table: Sequence[Sequence[str]]) -> str:
    """The header and rows as CSV (RFC 4180: comma, quotes where needed, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return buffer.getvalue()
