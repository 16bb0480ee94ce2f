"""Assessment sheets: the hosting organisation assesses each unit of the Learning Agreement in force.

One sheet per unit (the ECVET assessment sheet: criteria, method, context, assessor, date, result,
comments, learner acknowledgement). The host records the sheets during the mobility; recording a unit
again replaces its sheet (the new row names the one it supersedes, which stays as evidence). The
learner then acknowledges the sheets, saying whether they agree. Once the transcript is issued the
sheets are final.

Each sheet is signed by the member of the host who records it (:mod:`ecvet.signing`); the assessor
a sheet names is what it states (who observed the learner, possibly a colleague) and, when left out,
is that signer.

Each assessor then signs the sheet with their own signed-in account (:func:`sign`): a member of the
host, never anyone else, once per sheet; the sheet shows each assessor's name, role, place and date.

Sheets are host-side working documents: the host side, the learner and admins read them at any time;
the home side once the transcript is ready for recognition (EWP practice), like the transcript.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ecvet import signing
from ecvet.mobility import learning_agreement, periods, service
from ecvet.mobility.models import (
    AssessmentAcknowledgement,
    AssessmentMethod,
    AssessmentRecord,
    AssessmentResult,
    AssessmentSignature,
    Mobility,
    MobilityStatus,
    PersonalTranscript,
)
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation, utcnow
from engine.parties import Actor

_LIMITS = {"criteria": 10_000, "context": 10_000, "comments": 10_000, "evidence": 10_000,
           "learning_outcome": 10_000, "grade": 50}


def _agreement(session: Session, mobility: Mobility) -> tuple[Any, Any]:
    la = service.current_agreement(session, mobility)
    if la is None or not learning_agreement.in_force(session, la):
        raise Conflict("The Learning Agreement is not in force: assess against the text every party signed")
    return la, learning_agreement.current_version(session, la)


def _transcript(session: Session, mobility: Mobility) -> PersonalTranscript | None:
    return session.scalar(select(PersonalTranscript).where(PersonalTranscript.mobility_id == mobility.id))


def current(session: Session, mobility: Mobility) -> list[AssessmentRecord]:
    """The sheets that count: per unit the latest, i.e. the rows no other row supersedes."""
    newer = aliased(AssessmentRecord)
    superseded = select(newer.id).where(newer.supersedes_id == AssessmentRecord.id).exists()
    rows = session.scalars(select(AssessmentRecord).where(AssessmentRecord.mobility_id == mobility.id, ~superseded)
                           .order_by(AssessmentRecord.id))
    return list(rows)


def _text(entry: dict[str, Any], name: str, path: str, errors: dict[str, list[str]], *,
          required: bool = False) -> str | None:
    value = entry.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[f"{path}.{name}"] = ["A text"]
    elif required and not text:
        errors[f"{path}.{name}"] = ["Required"]
    elif len(text) > _LIMITS.get(name, 300):
        errors[f"{path}.{name}"] = [f"At most {_LIMITS.get(name, 300)} characters"]
    return text or None


def _outcome_text(outcome: Any) -> str:
    return str(outcome.get("text") or "") if isinstance(outcome, dict) else str(outcome)


def _outcome_results(entry: dict[str, Any], unit: dict[str, Any] | None, path: str,
                     errors: dict[str, list[str]]) -> list[dict[str, Any]] | None:
    """The result per learning outcome of the unit (`outcomes`: ``[{learning_outcome, result, comments?}]``,
    each outcome of the agreement once, by its text); a unit achieved has every outcome achieved."""
    given = entry.get("outcomes")
    if given is None or unit is None:
        return None
    stated = {_outcome_text(o): o for o in unit.get("learning_outcomes") or []}
    results: dict[str, dict[str, Any]] = {}
    problems: dict[str, list[str]] = {}
    for j, item in enumerate(given if isinstance(given, list) else [None]):
        text = item.get("learning_outcome") if isinstance(item, dict) else None
        if not isinstance(item, dict) or text not in stated or text in results:
            problems[f"{path}.outcomes.{j}.learning_outcome"] = ["Each learning outcome of the unit, once"]
        elif item.get("result") not in AssessmentResult.ALL:
            problems[f"{path}.outcomes.{j}.result"] = [f"One of {', '.join(AssessmentResult.ALL)}"]
        else:
            outcome = stated[text]
            results[text] = {"kind": outcome.get("kind") if isinstance(outcome, dict) else None, "text": text,
                             "result": item["result"],
                             "comment": _text(item, "comments", f"{path}.outcomes.{j}", problems)}
    missing = sorted(set(stated) - set(results))
    if not problems and missing:
        problems[f"{path}.outcomes"] = [f"Assess every learning outcome of the unit: {missing}"]
    elif entry.get("result") == AssessmentResult.ACHIEVED and any(
            r["result"] != AssessmentResult.ACHIEVED for r in results.values()):
        problems[f"{path}.result"] = ["A unit is achieved when each of its learning outcomes is"]
    errors.update(problems)
    return [results[t] for t in stated if t in results]


def _checked_entry(entry: Any, i: int, units: dict[str, dict[str, Any]], mobility: Mobility, *,
                   errors: dict[str, list[str]], signer: dict[str, str | None]) -> dict[str, Any] | None:
    path = f"assessments.{i}"
    if not isinstance(entry, dict):
        errors[path] = ["An assessment sheet (object)"]
        return None
    code = entry.get("unit")
    if not isinstance(code, str) or code not in units:
        errors[f"{path}.unit"] = [f"Not a unit of the Learning Agreement in force; its units: {sorted(units)}"]
    if entry.get("method") not in AssessmentMethod.ALL:
        errors[f"{path}.method"] = [f"One of {', '.join(AssessmentMethod.ALL)}"]
    if entry.get("result") not in AssessmentResult.ALL:
        errors[f"{path}.result"] = [f"One of {', '.join(AssessmentResult.ALL)}"]
    assessor = entry.get("assessor")
    if assessor is None or assessor == {}:
        assessor = signer  # the person signing the sheet assessed the learner
    elif not isinstance(assessor, dict):
        errors[f"{path}.assessor"] = ["An object: name, organisation, role (leave it out when you assessed)"]
        assessor = {}
    name = _text(assessor, "name", f"{path}.assessor", errors, required=True)
    organisation = _text(assessor, "organisation", f"{path}.assessor", errors, required=True)
    role = _text(assessor, "role", f"{path}.assessor", errors)
    on: date | None = None
    try:
        on = date.fromisoformat(str(entry.get("date")))
    except ValueError:
        errors[f"{path}.date"] = ["Not an ISO date (YYYY-MM-DD)"]
    if on is not None and not (mobility.start_date <= on <= min(utcnow().date(), mobility.end_date)):
        errors[f"{path}.date"] = [f"Between the start of the mobility ({mobility.start_date.isoformat()}) and "
                                  "today, within the mobility"]
    fields = {name_: _text(entry, name_, path, errors, required=name_ == "criteria")
              for name_ in ("learning_outcome", "criteria", "context", "grade", "comments", "evidence")}
    outcomes = _outcome_results(entry, units.get(code) if isinstance(code, str) else None, path, errors)
    return {"unit": code, "method": entry.get("method"), "result": entry.get("result"), "assessor_name": name,
            "outcome_results": outcomes,
            "assessor_organisation": organisation, "assessor_role": role, "assessed_on": on, **fields}


def record(
    session: Session, *, actor: Actor, mobility_id: int, assessments: list[dict[str, Any]],
    signer: dict[str, Any] | None = None, period: int = 1,
) -> list[AssessmentRecord]:
    """A member of the host records and signs assessment sheets, one per unit of the Learning Agreement
    in force, during the live mobility; a unit assessed again gets a new sheet superseding the earlier
    one. 403 for anyone but a member of the hosting organisation (administrators included), 409
    outside a live mobility or once the transcript is issued, 422 for an incomplete sheet or a
    `signer` naming someone else (nothing is stored then). With several hosts (:mod:`ecvet.mobility.periods`)
    the host of `period` assesses the units of its period only (422 for another period's unit)."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    host_id = periods.assessor(mobility, period)
    if not (actor.is_admin or host_id in actor.organisation_ids):
        raise Forbidden("Only the hosting organisation assesses the learner" if not mobility.periods else
                        f"Only the host of period {period} assesses the learner in it")
    mobility = service.locked(session, mobility.id)
    signed = signing.for_organisation(session, actor=actor, organisation_id=host_id, submitted=signer)
    host = session.get(Organisation, host_id)
    assessor = {"name": signed.name, "organisation": host.name if host else None, "role": signed.position}
    if mobility.status != MobilityStatus.LIVE:
        raise Conflict(f"The mobility is {mobility.status}: units are assessed while it is live")
    if _transcript(session, mobility) is not None:
        raise Conflict("The transcript is issued: the assessment is final")
    la, version = _agreement(session, mobility)
    units = {u["code"]: u for u in version.content.get("units") or []
             if periods.may_assess(mobility, period, u["code"])}
    if not isinstance(assessments, list) or not assessments:
        raise Invalid("Record at least one assessment sheet", errors={"assessments": ["At least one"]})
    errors: dict[str, list[str]] = {}
    entries = [_checked_entry(e, i, units, mobility, errors=errors, signer=assessor) for i, e in enumerate(assessments)]
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if entry and entry["unit"] in seen:
            errors[f"assessments.{i}.unit"] = ["One sheet per unit"]
        if entry:
            seen.add(entry["unit"])
    if errors:
        raise Invalid("The assessment is not complete", errors=errors)
    earlier = {r.unit_code: r for r in current(session, mobility)}
    now = signed.signed_at
    rows: list[AssessmentRecord] = []
    for entry in entries:
        assert entry is not None
        previous = earlier.get(entry["unit"])
        row = AssessmentRecord(
            mobility_id=mobility.id, la_id=la.id, la_version_id=version.id, unit_code=entry["unit"],
            unit_title=units[entry["unit"]].get("title"), learning_outcome=entry["learning_outcome"],
            outcome_results=entry["outcome_results"],
            criteria=entry["criteria"], method=entry["method"], context=entry["context"],
            assessor_name=entry["assessor_name"], assessor_organisation=entry["assessor_organisation"],
            assessor_role=entry["assessor_role"], assessed_on=entry["assessed_on"], result=entry["result"],
            grade=entry["grade"], comments=entry["comments"], evidence=entry["evidence"],
            organisation_id=host_id, supersedes_id=previous.id if previous else None,
            recorded_by=actor.user_id, recorded_at=now, **signed.columns(),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="assessment.recorded", mobility_id=mobility.id,
                 la_id=la.id, la_version=version.number, assessment_ids=[r.id for r in rows],
                 units=[r.unit_code for r in rows], superseded=[r.supersedes_id for r in rows if r.supersedes_id])
    return rows


def missing_units(session: Session, mobility: Mobility) -> list[str]:
    """Units of the Learning Agreement in force without a current assessment sheet."""
    la = service.current_agreement(session, mobility)
    if la is None:
        return []
    codes = [u["code"] for u in learning_agreement.current_version(session, la).content.get("units") or []]
    assessed = {r.unit_code for r in current(session, mobility)}
    return [c for c in codes if c not in assessed]


def acknowledgements(session: Session, mobility: Mobility) -> dict[int, AssessmentAcknowledgement]:
    rows = session.scalars(select(AssessmentAcknowledgement)
                           .where(AssessmentAcknowledgement.mobility_id == mobility.id))
    return {a.assessment_id: a for a in rows}


def _unit_comments(entries: Any, codes: set[str]) -> dict[str, str]:
    """The learner's comment per unit: ``[{unit, comment}]``, each unit once."""
    errors: dict[str, list[str]] = {}
    comments: dict[str, str] = {}
    for i, entry in enumerate(entries or []):
        unit = entry.get("unit") if isinstance(entry, dict) else None
        text = entry.get("comment") if isinstance(entry, dict) else None
        if unit not in codes or unit in comments:
            errors[f"unit_comments.{i}.unit"] = [f"Each assessed unit once: {sorted(codes)}"]
        elif not isinstance(text, str) or not text.strip() or len(text) > _LIMITS["comments"]:
            errors[f"unit_comments.{i}.comment"] = ["A comment on this unit"]
        else:
            comments[unit] = text.strip()
    if errors:
        raise Invalid("The comments per unit are not valid", errors=errors)
    return comments


def acknowledge(
    session: Session, *, actor: Actor, mobility_id: int, agrees: Any, comment: str | None = None,
    unit_comments: list[dict[str, Any]] | None = None,
) -> list[AssessmentAcknowledgement]:
    """The learner acknowledges the current sheets (every unit must have one), saying whether they agree;
    disagreeing needs a comment, which the host and, later, the home side read. A comment on one unit
    (`unit_comments`: ``[{unit, comment}]``) goes on that unit's sheet only; `comment` is on the assessment
    as a whole, kept as such (each sheet shows it under that name, never as a comment on the unit)."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    if actor.user_id != mobility.learner.user_id:
        raise Forbidden("Only the learner acknowledges their assessment, with their own account")
    mobility = service.locked(session, mobility.id)
    if not isinstance(agrees, bool):
        raise Invalid("Say whether you agree", errors={"agrees": ["True or false"]})
    comment = (comment or "").strip() or None
    missing = missing_units(session, mobility)
    if missing:
        raise Conflict(f"Not every unit is assessed yet: {', '.join(missing)}")
    per_unit = _unit_comments(unit_comments, {r.unit_code for r in current(session, mobility)})
    if not agrees and not (comment or per_unit):
        raise Invalid("Say what you disagree with", errors={"comment": ["Required when you disagree"]})
    done = acknowledgements(session, mobility)
    pending = [r for r in current(session, mobility) if r.id not in done]
    if not pending:
        raise Conflict("You have acknowledged every assessment sheet already")
    now = utcnow()
    rows = [AssessmentAcknowledgement(mobility_id=mobility.id, assessment_id=r.id, agrees=agrees,
                                      comment=per_unit.get(r.unit_code), overall_comment=comment, acknowledged_at=now,
                                      acknowledged_by=actor.user_id) for r in pending]
    session.add_all(rows)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="assessment.acknowledged", mobility_id=mobility.id,
                 assessment_ids=[r.id for r in pending], agrees=agrees)
    return rows


def readable(session: Session, actor: Actor, mobility: Mobility) -> bool:
    """Host side, learner and admins always; the home side once the transcript is ready for recognition."""
    if actor.is_admin or service.host_side(actor, mobility) or service.is_learner(actor, mobility):
        return True
    transcript = _transcript(session, mobility)
    return transcript is not None and transcript.ready_for_recognition_at is not None


class AssessorSignatureView(signing.SignerView):
    """An assessor's own signature on a sheet: the signed-in member of the host, where and when."""

    signed_at: datetime
    organisation_id: int


def signature_view(row: AssessmentSignature) -> AssessorSignatureView:
    return {**signing.view(row), "signed_at": row.signed_at, "organisation_id": row.organisation_id}


def signatures(session: Session, sheet: AssessmentRecord) -> list[AssessmentSignature]:
    """The assessors' signatures on a sheet, in the order they signed."""
    return list(session.scalars(select(AssessmentSignature).where(AssessmentSignature.assessment_id == sheet.id)
                                .order_by(AssessmentSignature.id)))


def sign(
    session: Session, *, actor: Actor, mobility_id: int, assessment_id: int, signer: dict[str, Any] | None = None,
) -> AssessmentSignature:
    """An assessor signs a current sheet with their own account: only a member of the hosting organisation
    (403 for the mobility's other parties, administrators included: a signature is personal), 404 for
    anyone outside the mobility or a sheet of another mobility, 409 for a replaced sheet, once the
    transcript is issued, or a second signature of the same person (the member who recorded the sheet
    signed it then)."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    sheet = session.get(AssessmentRecord, assessment_id)
    if sheet is None or sheet.mobility_id != mobility.id:
        raise NotFound(f"No assessment sheet {assessment_id} of mobility {mobility_id}")
    mobility = service.locked(session, mobility.id)
    signed = signing.for_organisation(session, actor=actor, organisation_id=sheet.organisation_id, submitted=signer)
    if sheet.id not in {r.id for r in current(session, mobility)}:
        raise Conflict("This sheet was replaced: sign the current one")
    if _transcript(session, mobility) is not None:
        raise Conflict("The transcript is issued: the assessment is final")
    if sheet.signer_user_id == actor.user_id or any(s.signer_user_id == actor.user_id
                                                   for s in signatures(session, sheet)):
        raise Conflict("You have signed this sheet already")
    assert signed.user_id is not None
    row = AssessmentSignature(assessment_id=sheet.id, organisation_id=sheet.organisation_id,
                              signer_user_id=signed.user_id, signer_name=signed.name, signer_email=signed.email,
                              signer_position=signed.position, signer_place=signed.place, signed_at=signed.signed_at)
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="assessment.signed", mobility_id=mobility.id,
                 assessment_id=sheet.id, signature_id=row.id)
    return row
