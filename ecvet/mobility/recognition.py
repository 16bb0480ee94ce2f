"""After the mobility: validation, recognition, credit awards (the learner's achievements) and practical
implications.

* **Validation** (sending organisation): the transcript is compared with the Learning Agreement and each
  unit is validated, partly validated or not (a comment says why when it is not fully validated).
* **Recognition** by the recogniser the mobility's national model names (``recognition_by``: the sending
  organisation or the competent institution at home): per validated unit recognised or not; a partly
  validated unit may be recognised with part of its ECVET points. Where the national model merges
  validation and recognition (``validation_recognition_merged``) the recogniser does both in one act
  (:func:`validate_and_recognise`).
* Recognition **awards** every recognised unit with its points to the learner (:class:`CreditAward`,
  the database of learners' achievements) and the mobility becomes ``recognized``.
* **Practical implications** agreed beforehand are then recorded by the sending organisation.

Every decision quotes the transcript's hash, so it is bound to the exact document read. All rows are
append-only evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.mobility import service
from ecvet.mobility.models import (
    CreditAward,
    ImplicationKind,
    Mobility,
    MobilityStatus,
    PersonalTranscript,
    PracticalImplication,
    Recogniser,
    RecognitionDecision,
    ValidationDecision,
    ValidationOutcome,
)
from ecvet.mobility.transcript import issued_for
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import utcnow
from engine.parties import Actor

STALE_MESSAGE = "stale: the transcript you quote is not the one issued"

# --------------------------------------------------------------------------------------------------
# Who decides
# --------------------------------------------------------------------------------------------------


def recogniser_organisation(session: Session, mobility: Mobility) -> tuple[str, int]:
    """(recognition_by, organisation id) for the mobility, from its national model."""
    model = service.national_model(session, mobility)
    if model.recognition_by == Recogniser.COMPETENT_INSTITUTION:
        if mobility.competent_institution_home_id is None:
            raise Conflict("The national model has a competent institution recognise, but the mobility names none")
        return Recogniser.COMPETENT_INSTITUTION, mobility.competent_institution_home_id
    return Recogniser.SENDING, mobility.sending_organisation_id


def _acting_for(actor: Actor, organisation_id: int, what: str) -> None:
    if not (actor.is_admin or organisation_id in actor.organisation_ids):
        raise Forbidden(f"Only the {what} decides this")


def _ready_transcript(session: Session, mobility: Mobility, quoted_hash: Any) -> PersonalTranscript:
    transcript = issued_for(session, mobility)
    if transcript is None or transcript.ready_for_recognition_at is None:
        raise Conflict("The transcript is not ready for recognition yet")
    if quoted_hash != transcript.content_hash:
        raise Conflict(STALE_MESSAGE, errors={"transcript_hash": [
            f"You quoted {quoted_hash!r}; the transcript issued is {transcript.content_hash}"]})
    ended = ended_on(mobility, transcript)
    if utcnow().date() < ended:
        raise Conflict(f"The mobility ends on {ended.isoformat()}: its units are validated and recognised from "
                       "its last day on (the host records an early end in the transcript)")
    return transcript


def ended_on(mobility: Mobility, transcript: PersonalTranscript) -> date:
    """The mobility's last day: the actual one the transcript records, else the planned one."""
    actual = (transcript.content.get("period") or {}).get("actual_end")
    return date.fromisoformat(actual) if isinstance(actual, str) else mobility.end_date


def _live(session: Session, actor: Actor, mobility_id: int) -> Mobility:
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    mobility = service.locked(session, mobility.id)
    if mobility.status != MobilityStatus.LIVE:
        raise Conflict(f"The mobility is {mobility.status}")
    return mobility


@dataclass(frozen=True)
class _Decider:
    """Who takes a decision: as what (``recognised_by``), for which organisation, signed by whom."""

    by: str
    organisation_id: int
    signer: signing.Signer
    actor: Actor


def _decider(session: Session, actor: Actor, *, by: str, organisation_id: int, signer: Any) -> _Decider:
    """The member deciding for `organisation_id` (never an administrator on someone's behalf)."""
    signed = signing.for_organisation(session, actor=actor, organisation_id=organisation_id, submitted=signer)
    return _Decider(by, organisation_id, signed, actor)


def _transcript_units(transcript: PersonalTranscript) -> dict[str, dict[str, Any]]:
    return {u["code"]: u for u in transcript.content.get("units") or []}


def _per_unit(entries: Any, units: dict[str, dict[str, Any]], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Exactly one entry per unit of the transcript."""
    if not isinstance(entries, list):
        errors["units"] = ["A list with one entry per unit of the transcript"]
        return []
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(entries):
        code = entry.get("unit") if isinstance(entry, dict) else None
        if code not in units:
            errors[f"units.{i}.unit"] = [f"Not a unit of the transcript; its units: {sorted(units)}"]
            continue
        if code in seen:
            errors[f"units.{i}.unit"] = ["Each unit once"]
            continue
        seen.add(code)
        out.append({**entry, "_index": i})
    for code in units:
        if code not in seen and not any(k.startswith("units.") for k in errors):
            errors.setdefault("units", []).append(f"Unit {code} has no decision")
    return out


def _comment(entry: dict[str, Any]) -> str | None:
    value = entry.get("comment")
    return value.strip()[:10_000] or None if isinstance(value, str) else None


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _validation_rows(
    mobility: Mobility, transcript: PersonalTranscript, entries: list[dict[str, Any]], decider: _Decider, *,
    merged: bool, errors: dict[str, list[str]],
) -> list[ValidationDecision]:
    now = decider.signer.signed_at
    rows = []
    for entry in entries:
        i, outcome = entry["_index"], entry.get("outcome")
        if outcome not in ValidationOutcome.ALL:
            errors[f"units.{i}.outcome"] = [f"One of {', '.join(ValidationOutcome.ALL)}"]
            continue
        comment = _comment(entry)
        if outcome != ValidationOutcome.VALIDATED and not comment:
            errors[f"units.{i}.comment"] = ["Say which learning outcomes do not correspond to the unit"]
        rows.append(ValidationDecision(
            mobility_id=mobility.id, transcript_id=transcript.id, transcript_hash=transcript.content_hash,
            unit_code=entry["unit"], outcome=outcome, comment=comment, merged_with_recognition=merged,
            organisation_id=decider.organisation_id, decided_at=now, recorded_by=decider.actor.user_id,
            **decider.signer.columns(),
        ))
    return rows


def validations(session: Session, mobility: Mobility) -> dict[str, ValidationDecision]:
    rows = session.scalars(select(ValidationDecision).where(ValidationDecision.mobility_id == mobility.id)
                           .order_by(ValidationDecision.id))
    return {v.unit_code: v for v in rows}


def validate(
    session: Session,
    *,
    actor: Actor,
    mobility_id: int,
    transcript_hash: str,
    units: list[dict[str, Any]],
    signer: dict[str, Any] | None = None,
) -> list[ValidationDecision]:
    """The sending organisation validates each unit of the transcript against the Learning Agreement:
    ``[{unit, outcome: validated|partly_validated|not_validated, comment}]`` (a comment is required
    unless validated). 409 when the transcript is not ready, the hash is stale, validation was given
    already, or the national model merges validation into recognition."""
    mobility = _live(session, actor, mobility_id)
    _acting_for(actor, mobility.sending_organisation_id, "sending organisation (validation)")
    if service.national_model(session, mobility).validation_recognition_merged:
        raise Conflict("The national model merges validation and recognition into one act")
    transcript = _ready_transcript(session, mobility, transcript_hash)
    if validations(session, mobility):
        raise Conflict("The units are validated already")
    decider = _decider(session, actor, by=Recogniser.SENDING, organisation_id=mobility.sending_organisation_id,
                       signer=signer)
    errors: dict[str, list[str]] = {}
    entries = _per_unit(units, _transcript_units(transcript), errors)
    rows = _validation_rows(mobility, transcript, entries, decider, merged=False, errors=errors)
    if errors:
        raise Invalid("The validation is not complete", errors=errors)
    session.add_all(rows)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="validation.decided", mobility_id=mobility.id,
                 transcript_id=transcript.id, transcript_hash=transcript.content_hash,
                 outcomes={r.unit_code: r.outcome for r in rows})
    return rows


# --------------------------------------------------------------------------------------------------
# Recognition and credit
# --------------------------------------------------------------------------------------------------


def _points(entry: dict[str, Any], unit: dict[str, Any], outcome: str, errors: dict[str, list[str]]) -> float | None:
    """Points awarded for a recognised unit: all of them when validated, the part given when partly."""
    i = entry["_index"]
    full = float(unit.get("ecvet_points") or 0)
    given = entry.get("ecvet_points")
    if given is not None and (isinstance(given, bool) or not isinstance(given, int | float) or given < 0):
        errors[f"units.{i}.ecvet_points"] = ["A number of ECVET points, 0 or more"]
        return None
    if outcome == ValidationOutcome.VALIDATED:
        if given is not None and float(given) != full:
            errors[f"units.{i}.ecvet_points"] = [f"A validated unit carries its {full:g} ECVET points"]
        return full
    if given is None:
        errors[f"units.{i}.ecvet_points"] = ["A partly validated unit is recognised with the points you give"]
        return None
    if not 0 < float(given) < full:
        errors[f"units.{i}.ecvet_points"] = [f"More than 0 and less than the unit's {full:g} points"]
        return None
    return float(given)


def _decided_units(
    transcript: PersonalTranscript, entries: list[dict[str, Any]], outcomes: dict[str, str], *, merged: bool,
    errors: dict[str, list[str]],
) -> list[dict[str, Any]]:
    """Per unit of the transcript: its validation, whether it is recognised, and the points given."""
    units = _transcript_units(transcript)
    decided: list[dict[str, Any]] = []
    for entry in entries:
        i, code = entry["_index"], entry["unit"]
        outcome = outcomes.get(code)
        recognised = entry.get("recognised", outcome != ValidationOutcome.NOT_VALIDATED) if not merged else \
            outcome != ValidationOutcome.NOT_VALIDATED
        if not isinstance(recognised, bool):
            errors[f"units.{i}.recognised"] = ["True or false"]
            continue
        if outcome is None:
            continue
        if recognised and outcome == ValidationOutcome.NOT_VALIDATED:
            errors[f"units.{i}.recognised"] = ["A unit that was not validated cannot be recognised"]
            continue
        points = _points(entry, units[code], outcome, errors) if recognised else None
        decided.append({"unit": code, "title": units[code].get("title"), "validation": outcome,
                        "recognised": recognised, "ecvet_points": points, "comment": _comment(entry)})
    if errors:
        raise Invalid("The recognition is not complete", errors=errors)
    return decided


def _award(
    session: Session, mobility: Mobility, transcript: PersonalTranscript, decided: list[dict[str, Any]], *,
    decider: _Decider, comment: str | None, merged: bool,
) -> RecognitionDecision:
    """Record the recognition act, award every recognised unit with its points to the learner, and
    move the mobility to ``recognized``."""
    actor, by, organisation_id = decider.actor, decider.by, decider.organisation_id
    model = service.national_model(session, mobility)
    now = decider.signer.signed_at
    decision = RecognitionDecision(
        mobility_id=mobility.id, transcript_id=transcript.id, transcript_hash=transcript.content_hash,
        recognised_by=by, organisation_id=organisation_id, merged_with_validation=merged, units=decided,
        comment=comment, national_model=model.model, decided_at=now, recorded_by=actor.user_id,
        **decider.signer.columns(),
    )
    session.add(decision)
    session.flush()
    awards = [CreditAward(
        learner_id=mobility.learner_id, mobility_id=mobility.id, recognition_id=decision.id, unit_code=d["unit"],
        unit_title=d["title"], qualification_title=mobility.qualification_title,
        eqf_level=mobility.qualification_eqf_level, ecvet_points=d["ecvet_points"],
        awarded_by_organisation_id=organisation_id, awarded_at=now, recorded_by=actor.user_id,
    ) for d in decided if d["recognised"]]
    session.add_all(awards)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="recognition.decided", mobility_id=mobility.id,
                 recognition_id=decision.id, recognised_by=by, organisation_id=organisation_id, merged=merged,
                 transcript_hash=transcript.content_hash, units=[d["unit"] for d in decided if d["recognised"]])
    for award in awards:
        audit.record(session, actor_id=actor.user_id, action="credit.awarded", mobility_id=mobility.id,
                     learner_id=mobility.learner_id, credit_award_id=award.id, unit=award.unit_code,
                     ecvet_points=award.ecvet_points)
    service.transition(session, mobility, MobilityStatus.RECOGNIZED, actor_id=actor.user_id,
                       reason=f"recognised by the {by.replace('_', ' ')}: {len(awards)} unit(s) awarded")
    return decision


def _not_recognised_yet(session: Session, mobility: Mobility) -> None:
    if session.scalar(select(RecognitionDecision.id).where(RecognitionDecision.mobility_id == mobility.id)):
        raise Conflict("The mobility is recognised already")


def recognise(
    session: Session,
    *,
    actor: Actor,
    mobility_id: int,
    transcript_hash: str,
    units: list[dict[str, Any]],
    signer: dict[str, Any] | None = None,
    comment: str | None = None,
) -> RecognitionDecision:
    """The recogniser the national model names recognises the validated units:
    ``[{unit, recognised, ecvet_points?, comment?}]``. Recognised units and their points are awarded
    to the learner and the mobility becomes ``recognized``."""
    mobility = _live(session, actor, mobility_id)
    by, organisation_id = recogniser_organisation(session, mobility)
    _acting_for(actor, organisation_id, "recogniser the national model names")
    if service.national_model(session, mobility).validation_recognition_merged:
        raise Conflict("The national model merges validation and recognition into one act")
    transcript = _ready_transcript(session, mobility, transcript_hash)
    _not_recognised_yet(session, mobility)
    validated = validations(session, mobility)
    if set(validated) != set(_transcript_units(transcript)):
        raise Conflict("The sending organisation has not validated the units yet")
    decider = _decider(session, actor, by=by, organisation_id=organisation_id, signer=signer)
    errors: dict[str, list[str]] = {}
    entries = _per_unit(units, _transcript_units(transcript), errors)
    outcomes = {code: v.outcome for code, v in validated.items()}
    decided = _decided_units(transcript, entries, outcomes, merged=False, errors=errors)
    return _award(session, mobility, transcript, decided, decider=decider, comment=(comment or "").strip() or None,
                  merged=False)


def validate_and_recognise(
    session: Session,
    *,
    actor: Actor,
    mobility_id: int,
    transcript_hash: str,
    units: list[dict[str, Any]],
    signer: dict[str, Any] | None = None,
    comment: str | None = None,
) -> RecognitionDecision:
    """Validation and recognition in one act, where the national model merges them: per unit the
    validation outcome (and points for a partly validated unit); validated and partly validated
    units are recognised and awarded."""
    mobility = _live(session, actor, mobility_id)
    by, organisation_id = recogniser_organisation(session, mobility)
    _acting_for(actor, organisation_id, "recogniser the national model names")
    if not service.national_model(session, mobility).validation_recognition_merged:
        raise Conflict("The national model keeps validation and recognition apart: validate first")
    transcript = _ready_transcript(session, mobility, transcript_hash)
    _not_recognised_yet(session, mobility)
    decider = _decider(session, actor, by=by, organisation_id=organisation_id, signer=signer)
    errors: dict[str, list[str]] = {}
    entries = _per_unit(units, _transcript_units(transcript), errors)
    rows = _validation_rows(mobility, transcript, entries, decider, merged=True, errors=errors)
    if errors:
        raise Invalid("The decision is not complete", errors=errors)
    session.add_all(rows)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="validation.decided", mobility_id=mobility.id,
                 transcript_id=transcript.id, transcript_hash=transcript.content_hash, merged=True,
                 outcomes={r.unit_code: r.outcome for r in rows})
    outcomes = {r.unit_code: r.outcome for r in rows}
    decided = _decided_units(transcript, entries, outcomes, merged=True, errors=errors)
    return _award(session, mobility, transcript, decided, decider=decider, comment=(comment or "").strip() or None,
                  merged=True)


# --------------------------------------------------------------------------------------------------
# Practical implications
# --------------------------------------------------------------------------------------------------


def record_implications(
    session: Session, *, actor: Actor, mobility_id: int, implications: Any
) -> list[PracticalImplication]:
    """The sending organisation records what recognition changes at home: ``[{kind, description,
    unit?, ecvet_points?}]`` (extra credits carry their points). An empty list records that there are
    none. Only once the mobility is recognised, and only once."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    _acting_for(actor, mobility.sending_organisation_id, "sending organisation")
    mobility = service.locked(session, mobility.id)
    if mobility.status != MobilityStatus.RECOGNIZED:
        raise Conflict(f"The mobility is {mobility.status}: implications follow recognition")
    if not isinstance(implications, list):
        raise Invalid("A list of implications", errors={"implications": ["A list"]})
    if session.scalar(select(func.count()).select_from(PracticalImplication)
                      .where(PracticalImplication.mobility_id == mobility.id)):
        raise Conflict("The practical implications are recorded already")
    transcript = issued_for(session, mobility)
    codes = set(_transcript_units(transcript)) if transcript else set()
    errors: dict[str, list[str]] = {}
    rows = []
    now = utcnow()
    for i, given in enumerate(implications):
        entry = given if isinstance(given, dict) else {}
        kind, description = entry.get("kind"), str(entry.get("description") or "").strip()
        unit, points = entry.get("unit") or None, entry.get("ecvet_points")
        if kind not in ImplicationKind.ALL:
            errors[f"implications.{i}.kind"] = [f"One of {', '.join(ImplicationKind.ALL)}"]
        if not description:
            errors[f"implications.{i}.description"] = ["Say what changes for the learner"]
        if unit is not None and unit not in codes:
            errors[f"implications.{i}.unit"] = [f"Not a unit of this mobility; its units: {sorted(codes)}"]
        if points is not None and (isinstance(points, bool) or not isinstance(points, int | float) or points < 0):
            errors[f"implications.{i}.ecvet_points"] = ["A number of ECVET points, 0 or more"]
        elif kind == ImplicationKind.EXTRA_CREDITS and not points:
            errors[f"implications.{i}.ecvet_points"] = ["Extra credits carry their ECVET points"]
        rows.append(PracticalImplication(
            mobility_id=mobility.id, learner_id=mobility.learner_id, kind=kind, description=description[:10_000],
            unit_code=unit, ecvet_points=float(points) if isinstance(points, int | float) else None,
            organisation_id=mobility.sending_organisation_id, recorded_by=actor.user_id, recorded_at=now))
    if errors:
        raise Invalid("The implications are not complete", errors=errors)
    session.add_all(rows)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="implications.recorded", mobility_id=mobility.id,
                 implication_ids=[r.id for r in rows], kinds=[r.kind for r in rows])
    return rows
