"""The Learner's Personal Transcript: what the learner achieved abroad, issued by the hosting organisation.

Built from the current assessment sheets and the Learning Agreement in force (its id, version and
hash are part of the transcript): per unit the method, date, assessor, result (and grade), ECVET
points and evidence. Its content is hashed like every signed document; the row is immutable once
issued (database triggers), except that the host marks it ready for recognition, once.

Visibility follows EWP practice: the host side, the learner and admins read it as soon as it is
issued; the home side (sending organisation, competent institution at home) and an intermediary only
once it is ready for recognition. To them it does not exist before (404).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.evidence import content_hash
from ecvet.mobility import assessment, learning_agreement, periods, service
from ecvet.mobility.models import AssessmentResult, Mobility, MobilityStatus, PersonalTranscript
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation, utcnow
from engine.parties import Actor


def issued_for(session: Session, mobility: Mobility) -> PersonalTranscript | None:
    """The mobility's transcript, if issued (no visibility check: callers decide what to show)."""
    return session.scalar(select(PersonalTranscript).where(PersonalTranscript.mobility_id == mobility.id))


def readable(actor: Actor, mobility: Mobility, transcript: PersonalTranscript) -> bool:
    """Host side, learner and admins from issue; everyone else of the mobility once it is ready."""
    if actor.is_admin or service.host_side(actor, mobility) or service.is_learner(actor, mobility):
        return True
    return transcript.ready_for_recognition_at is not None and service.is_party(actor, mobility)


def _organisation(session: Session, org_id: int) -> dict[str, Any]:
    org = session.get(Organisation, org_id)
    assert org is not None
    return {"organisation_id": org.id, "name": org.name, "country": org.country, "erasmus_oid": org.erasmus_oid}


#: Hours of learning activities a transcript may state for one unit.
MAX_HOURS = 10_000


def _day(value: Any, path: str, errors: dict[str, list[str]]) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[path] = ["Not an ISO date (YYYY-MM-DD)"]
        return None


def actual_period(mobility: Mobility, period: Any) -> dict[str, Any]:
    """The dates the learner actually spent abroad: the planned ones unless the host states others.
    The first day may be later than planned; the last day earlier (an early end, which must have
    happened: not after today), never later (a longer stay is a postponement of the mobility)."""
    period = period if isinstance(period, dict) else {}
    errors: dict[str, list[str]] = {}
    start = _day(period["start"], "period.start", errors) if period.get("start") else mobility.start_date
    end = _day(period["end"], "period.end", errors) if period.get("end") else mobility.end_date
    if start is not None and end is not None:
        if not mobility.start_date <= start <= end <= mobility.end_date:
            errors["period"] = [f"Within the planned period ({mobility.start_date.isoformat()} to "
                                f"{mobility.end_date.isoformat()}), the first day not after the last"]
        elif end < mobility.end_date and end > utcnow().date():
            errors["period.end"] = ["An early end is recorded once it happened: not after today"]
    if errors or start is None or end is None:
        raise Invalid("The actual dates of the mobility are not valid", errors=errors)
    return {"actual_start": start.isoformat(), "actual_end": end.isoformat(),
            "early_end": end < mobility.end_date}


def _hours(entries: Any, codes: set[str]) -> dict[str, float]:
    """Hours of learning activities per unit, as the host states them (optional)."""
    errors: dict[str, list[str]] = {}
    hours: dict[str, float] = {}
    for i, entry in enumerate(entries or []):
        unit = entry.get("unit") if isinstance(entry, dict) else None
        value = entry.get("hours") if isinstance(entry, dict) else None
        if unit not in codes:
            errors[f"hours.{i}.unit"] = [f"A unit of the Learning Agreement: {sorted(codes)}"]
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_HOURS:
            errors[f"hours.{i}.hours"] = [f"A number of hours, 0 to {MAX_HOURS}"]
        else:
            hours[unit] = value
    if errors:
        raise Invalid("The hours of learning activities are not valid", errors=errors)
    return hours


def issue(session: Session, *, actor: Actor, mobility_id: int, signer: dict[str, Any] | None = None,
          period: dict[str, Any] | None = None, hours: list[dict[str, Any]] | None = None
          ) -> PersonalTranscript:
    """The host issues the transcript from the current assessment sheets, once every unit of the
    Learning Agreement in force is assessed and the learner acknowledged the sheets (409 otherwise).
    A member of the hosting organisation issues and signs it (403 for anyone else, administrators
    included: :mod:`ecvet.signing`); a second issue is refused (409). It states, per unit, the
    learning outcomes and activities of the agreement and the hours the host gives (`hours`:
    ``[{unit, hours}]``), and the actual dates (`period`: ``{start, end}``, see :func:`actual_period`)."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    if not (actor.is_admin or service.is_host(actor, mobility)):
        raise Forbidden("Only the hosting organisation issues the Learner's Personal Transcript")
    mobility = service.locked(session, mobility.id)
    signed_by = signing.for_organisation(session, actor=actor, organisation_id=mobility.hosting_organisation_id,
                                         submitted=signer)
    if mobility.status != MobilityStatus.LIVE:
        raise Conflict(f"The mobility is {mobility.status}: the transcript is issued for a live mobility")
    if issued_for(session, mobility) is not None:
        raise Conflict("The transcript is already issued")
    la = service.current_agreement(session, mobility)
    if la is None or not learning_agreement.in_force(session, la):
        raise Conflict("The Learning Agreement is not in force")
    version = learning_agreement.current_version(session, la)
    actual = actual_period(mobility, period)
    spent = _hours(hours, {u["code"] for u in version.content.get("units") or []})
    missing = assessment.missing_units(session, mobility)
    if missing:
        raise Conflict(f"Not every unit is assessed: {', '.join(missing)}")
    sheets = {r.unit_code: r for r in assessment.current(session, mobility)}
    acknowledged = assessment.acknowledgements(session, mobility)
    if any(r.id not in acknowledged for r in sheets.values()):
        raise Conflict("The learner has not acknowledged every assessment sheet yet")
    units = []
    for unit in version.content.get("units") or []:
        sheet = sheets[unit["code"]]
        ack = acknowledged[sheet.id]
        units.append({
            "code": unit["code"], "title": unit.get("title"), "ecvet_points": unit.get("ecvet_points"),
            "learning_outcomes": unit.get("learning_outcomes") or [],
            "learning_activities": unit.get("learning_activities") or {}, "hours": spent.get(unit["code"]),
            "learning_outcome": sheet.learning_outcome, "outcome_results": sheet.outcome_results,
            "method": sheet.method,
            "date": sheet.assessed_on.isoformat(),
            "assessor": {"name": sheet.assessor_name, "organisation": sheet.assessor_organisation,
                         "role": sheet.assessor_role},
            "result": sheet.result, "grade": sheet.grade, "evidence": sheet.evidence, "comments": sheet.comments,
            "assessment_id": sheet.id,
            "learner_agrees": ack.agrees, "learner_comment": ack.comment,
        })
    learner = mobility.learner
    now = signed_by.signed_at
    content = {
        "learner": {"name": learner.name,  # no date of birth: the transcript's template does not ask for it
                    "european_student_identifier": learner.european_student_identifier},
        "home": _organisation(session, mobility.sending_organisation_id),
        "host": _organisation(session, mobility.hosting_organisation_id),
        "qualification": {"title": mobility.qualification_title, "eqf_level": mobility.qualification_eqf_level},
        "period": {"start": mobility.start_date.isoformat(), "end": mobility.end_date.isoformat(), **actual},
        "learning_agreement": {"id": la.id, "version": version.number, "hash": version.content_hash},
        "units": units,
        # The learner's comment on the assessment as a whole (1705), once, not on every unit.
        "learner_overall_comment": next((acknowledged[sheets[u["code"]].id].overall_comment for u in reversed(units)
                                         if acknowledged[sheets[u["code"]].id].overall_comment), None),
        "ecvet_points_achieved": sum(float(u["ecvet_points"] or 0) for u in units
                                     if u["result"] == AssessmentResult.ACHIEVED),
        "issued_on": now.date().isoformat(),
    }
    if mobility.periods:  # several hosts: each host's part, and per unit the host that assessed it
        content["host_periods"] = periods.described(session, mobility)
        for unit in units:
            unit["assessed_by"] = _organisation(session, sheets[unit["code"]].organisation_id)
    transcript = PersonalTranscript(
        mobility_id=mobility.id, learner_id=learner.id, sending_organisation_id=mobility.sending_organisation_id,
        hosting_organisation_id=mobility.hosting_organisation_id, la_id=la.id, la_version_id=version.id,
        la_version_number=version.number, la_hash=version.content_hash, content=content,
        content_hash=content_hash(content), issued_by=actor.user_id, issued_at=now, **signed_by.columns(),
    )
    session.add(transcript)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="transcript.issued", mobility_id=mobility.id,
                 transcript_id=transcript.id, content_hash=transcript.content_hash, la_id=la.id,
                 la_version=version.number, la_hash=version.content_hash)
    return transcript


def mark_ready(session: Session, *, actor: Actor, mobility_id: int) -> PersonalTranscript:
    """The host releases the issued transcript for recognition: from now on the home side reads it."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    if not (actor.is_admin or service.is_host(actor, mobility)):
        raise Forbidden("Only the hosting organisation marks its transcript ready for recognition")
    mobility = service.locked(session, mobility.id)
    transcript = issued_for(session, mobility)
    if transcript is None:
        raise Conflict("No transcript is issued yet")
    if transcript.ready_for_recognition_at is not None:
        raise Conflict("The transcript is already ready for recognition")
    transcript.ready_for_recognition_at = utcnow()
    transcript.ready_marked_by = actor.user_id
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="transcript.ready_for_recognition",
                 mobility_id=mobility.id, transcript_id=transcript.id, content_hash=transcript.content_hash)
    return transcript


def get(session: Session, *, actor: Actor, mobility_id: int) -> PersonalTranscript:
    """The transcript, for who may read it now; 404 for anyone else and before it is issued."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    transcript = issued_for(session, mobility)
    if transcript is None or not readable(actor, mobility, transcript):
        raise NotFound(f"No transcript of mobility {mobility_id} you can read")
    return transcript
