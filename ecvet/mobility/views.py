"""What a party reads about a mobility, each output described once here: the API's schemas only declare
the types, and documents reuse these dicts as their data.

The mobility itself, its learner, status history, Learning Agreement versions and signatures, and
the validation and recognition decisions and credits are for every party of the mobility (and
admins; everyone else gets 404 from :func:`ecvet.mobility.service.get`). The assessment sheets and the
transcript are held back from the home side until the host marks the transcript ready for
recognition: until then they come back as ``None`` with ``transcript_status`` saying why.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.mobility import assessment, learning_agreement, recognition, service, transcript
from ecvet.mobility.models import (
    AssessmentAcknowledgement,
    AssessmentRecord,
    CreditAward,
    ImplicationKind,
    LaSignature,
    LaStatus,
    LaVersion,
    Learner,
    Mobility,
    PersonalTranscript,
    PracticalImplication,
    RecognitionDecision,
)
from engine.errors import NotFound
from engine.parties import Actor

# --------------------------------------------------------------------------------------------------
# The mobility and its learner
# --------------------------------------------------------------------------------------------------

#: What the API shows of the national model a mobility was nominated under.
NATIONAL_MODEL_FIELDS = ("model", "la_approval", "la_approval_days", "recognition_by",
                         "validation_recognition_merged", "source", "table_sha256")


def mobility(row: Mobility) -> dict[str, Any]:
    """The mobility's own fields (no personal data beyond the learner's id)."""
    model = row.national_model or {}
    return {
        "id": row.id, "status": row.status, "mou_id": row.mou_id, "learner_id": row.learner_id,
        "process_instance_id": row.process_instance_id,
        "sending_organisation_id": row.sending_organisation_id,
        "hosting_organisation_id": row.hosting_organisation_id,
        "competent_institution_home_id": row.competent_institution_home_id,
        "competent_institution_host_id": row.competent_institution_host_id,
        "intermediary_organisation_id": row.intermediary_organisation_id,
        "qualification_title": row.qualification_title,
        "qualification_eqf_level": row.qualification_eqf_level, "sector": row.sector,
        "start_date": row.start_date, "end_date": row.end_date, "cancel_reason": row.cancel_reason,
        "national_model": {k: model.get(k) for k in NATIONAL_MODEL_FIELDS} if model else None,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


def learner(row: Learner, on: date | None = None) -> dict[str, Any]:
    """A learner's personal data, for the parties of their mobility and admins only."""
    return {
        "id": row.id, "name": row.name, "date_of_birth": row.date_of_birth, "email": row.email,
        "guardian_name": row.guardian_name, "guardian_email": row.guardian_email,
        "european_student_identifier": row.european_student_identifier,
        "is_minor": row.is_minor(on) if on else None,
        "has_account": row.user_id is not None, "guardian_has_account": row.guardian_user_id is not None,
    }


def mobility_with_records(session: Session, *, actor: Actor, mobility_id: int) -> dict[str, Any]:
    """Everything a party of the mobility may read now (404 for anyone else)."""
    found = service.get(session, actor=actor, mobility_id=mobility_id)
    issued = transcript.issued_for(session, found)
    readable = issued is not None and transcript.readable(actor, found, issued)
    status = "not_issued" if issued is None else (
        "ready_for_recognition" if issued.ready_for_recognition_at is not None else "issued")
    return {
        **mobility(found),
        "learner": learner(found.learner, found.start_date),
        "status_history": [
            {"old_status": c.old_status, "new_status": c.new_status, "reason": c.reason, "changed_at": c.changed_at,
             "changed_by": c.changed_by} for c in service.status_history(session, found)
        ],
        "learning_agreement": _agreement_with_versions(session, actor, found),
        "assessments": assessment_sheets(session, actor=actor, mobility_id=found.id)
        if assessment.readable(session, actor, found) else None,
        "transcript_status": status,
        "transcript": personal_transcript(issued) if readable and issued is not None else None,
        **decisions(session, found),
    }


# --------------------------------------------------------------------------------------------------
# The Learning Agreement
# --------------------------------------------------------------------------------------------------


def la_signature(row: LaSignature, numbers: dict[int, int], shown: LaVersion) -> dict[str, Any]:
    """One signature with the number of the version it was given for and whether it ``counts`` for
    `shown` (given for exactly that version and hash)."""
    return {"id": row.id, "version": numbers.get(row.la_version_id), "party": row.party,
            "organisation_id": row.organisation_id, "mode": row.mode,
            "signer": signing.view(row), "recorded_by": row.recorded_by,
            "signed_at": row.signed_at, "content_hash": row.content_hash,
            "counts": row.la_version_id == shown.id and row.content_hash == shown.content_hash}


def la_version_numbers(session: Session, la_id: int) -> dict[int, int]:
    """Version id -> number, for every version of the Learning Agreement."""
    rows = session.execute(select(LaVersion.id, LaVersion.number).where(LaVersion.la_id == la_id)).all()
    return {version_id: number for version_id, number in rows}


def la_signatures(session: Session, la_id: int) -> list[LaSignature]:
    """Every signature ever given on the Learning Agreement, oldest first."""
    return list(session.scalars(select(LaSignature).where(LaSignature.la_id == la_id).order_by(LaSignature.id)))


def agreement(session: Session, *, actor: Actor, la_id: int) -> dict[str, Any]:
    """What a party needs to sign: current text and hash, who signs in which order and who is next,
    and every signature ever given with whether it still counts."""
    la = learning_agreement.get(session, actor=actor, la_id=la_id)
    found = learning_agreement.mobility_of(session, la)
    version = learning_agreement.current_version(session, la)
    numbers = la_version_numbers(session, la.id)
    return {
        "id": la.id,
        "mobility_id": found.id,
        "status": la.status,
        "version": version.number,
        "content": version.content,
        "content_hash": version.content_hash,
        "changes": version.changes,
        "required_signatures": learning_agreement.required_signatures(session, la),
        "next_party": learning_agreement.next_party(session, la) if la.status != LaStatus.DELETED else None,
        "in_force": learning_agreement.in_force(session, la),
        "learner_is_minor": found.learner.is_minor(found.start_date),
        "start_date": found.start_date,
        "signatures": [la_signature(s, numbers, version) for s in la_signatures(session, la.id)],
    }


def _agreement_with_versions(session: Session, actor: Actor, found: Mobility) -> dict[str, Any] | None:
    la = service.current_agreement(session, found)
    if la is None:
        return None
    described = agreement(session, actor=actor, la_id=la.id)
    versions = session.scalars(select(LaVersion).where(LaVersion.la_id == la.id).order_by(LaVersion.number))
    described["versions"] = [{"number": v.number, "content_hash": v.content_hash, "changes": v.changes,
                              "created_at": v.created_at} for v in versions]
    return described


# --------------------------------------------------------------------------------------------------
# Assessment sheets and the Learner's Personal Transcript
# --------------------------------------------------------------------------------------------------


def assessment_sheet(row: AssessmentRecord, acknowledgement: AssessmentAcknowledgement | None) -> dict[str, Any]:
    """One assessment sheet with the learner's acknowledgement, if given."""
    return {
        "id": row.id, "unit": row.unit_code, "unit_title": row.unit_title,
        "learning_outcome": row.learning_outcome, "outcome_results": row.outcome_results,
        "criteria": row.criteria, "method": row.method,
        "context": row.context,
        "assessor": {"name": row.assessor_name, "organisation": row.assessor_organisation,
                     "role": row.assessor_role},
        "date": row.assessed_on, "result": row.result, "grade": row.grade,
        "comments": row.comments, "evidence": row.evidence, "supersedes_id": row.supersedes_id,
        "recorded_at": row.recorded_at, "organisation_id": row.organisation_id,
        "signer": signing.view(row),
        "learner_acknowledgement": None if acknowledgement is None else {
            "agrees": acknowledgement.agrees, "comment": acknowledgement.comment,
            "acknowledged_at": acknowledgement.acknowledged_at},
    }


def assessment_sheets(session: Session, *, actor: Actor, mobility_id: int) -> list[dict[str, Any]]:
    """The current assessment sheets with the learner's acknowledgement (404 for who may not read them)."""
    found = service.get(session, actor=actor, mobility_id=mobility_id)
    if not assessment.readable(session, actor, found):
        raise NotFound(f"No assessment of mobility {mobility_id} you can read yet")
    done = assessment.acknowledgements(session, found)
    return [assessment_sheet(r, done.get(r.id)) for r in assessment.current(session, found)]


def personal_transcript(row: PersonalTranscript) -> dict[str, Any]:
    """The Learner's Personal Transcript as issued, with who signed it for the host."""
    return {
        "id": row.id, "mobility_id": row.mobility_id, "learner_id": row.learner_id,
        "la_id": row.la_id, "la_version": row.la_version_number, "la_hash": row.la_hash,
        "content": row.content, "content_hash": row.content_hash,
        "issued_by": {**signing.view(row), "organisation_id": row.hosting_organisation_id},
        "issued_at": row.issued_at, "ready_for_recognition_at": row.ready_for_recognition_at,
    }


# --------------------------------------------------------------------------------------------------
# Validation, recognition, credits and the learner's achievements
# --------------------------------------------------------------------------------------------------


def credit(row: CreditAward) -> dict[str, Any]:
    """One unit and its ECVET points awarded to the learner."""
    return {"id": row.id, "mobility_id": row.mobility_id, "unit": row.unit_code, "unit_title": row.unit_title,
            "qualification_title": row.qualification_title, "eqf_level": row.eqf_level,
            "ecvet_points": row.ecvet_points, "awarded_by_organisation_id": row.awarded_by_organisation_id,
            "awarded_at": row.awarded_at, "recognition_id": row.recognition_id}


def implication(row: PracticalImplication) -> dict[str, Any]:
    """One practical implication of recognition for the learner's programme at home."""
    return {"id": row.id, "mobility_id": row.mobility_id, "kind": row.kind, "description": row.description,
            "unit": row.unit_code, "ecvet_points": row.ecvet_points, "recorded_at": row.recorded_at}


def decisions(session: Session, found: Mobility) -> dict[str, Any]:
    """Validation, recognition, credits and implications of one mobility (for its parties)."""
    decided = session.scalar(select(RecognitionDecision).where(RecognitionDecision.mobility_id == found.id))
    credits = session.scalars(select(CreditAward).where(CreditAward.mobility_id == found.id)
                              .order_by(CreditAward.id))
    implications = session.scalars(select(PracticalImplication).where(PracticalImplication.mobility_id == found.id)
                                   .order_by(PracticalImplication.id))
    return {
        "validation": [
            {"unit": v.unit_code, "outcome": v.outcome, "comment": v.comment, "organisation_id": v.organisation_id,
             "merged_with_recognition": v.merged_with_recognition, "transcript_hash": v.transcript_hash,
             "signer": signing.view(v),
             "decided_at": v.decided_at}
            for v in recognition.validations(session, found).values()
        ],
        "recognition": None if decided is None else {
            "id": decided.id, "recognised_by": decided.recognised_by,
            "organisation_id": decided.organisation_id,
            "merged_with_validation": decided.merged_with_validation, "units": decided.units,
            "comment": decided.comment, "national_model": decided.national_model,
            "transcript_hash": decided.transcript_hash,
            "signer": signing.view(decided),
            "decided_at": decided.decided_at,
        },
        "credits": [credit(c) for c in credits],
        "implications": [implication(i) for i in implications],
    }


def achievements(session: Session, *, actor: Actor, learner_id: int) -> dict[str, Any]:
    """The learner's achievements: units and ECVET points awarded, and the practical implications, from
    the mobilities the caller takes part in (all of them for the learner, guardian and admins)."""
    person = service.get_learner(session, actor=actor, learner_id=learner_id)
    visible = service.visible_mobility_ids(session, actor, learner_id)
    if not visible:
        raise NotFound(f"No learner {learner_id}")
    credits = list(session.scalars(select(CreditAward).where(
        CreditAward.learner_id == person.id, CreditAward.mobility_id.in_(visible)).order_by(CreditAward.id)))
    implications = list(session.scalars(select(PracticalImplication).where(
        PracticalImplication.learner_id == person.id, PracticalImplication.mobility_id.in_(visible))
        .order_by(PracticalImplication.id)))
    extra = sum(i.ecvet_points or 0 for i in implications if i.kind == ImplicationKind.EXTRA_CREDITS)
    return {
        "learner": learner(person),
        "credits": [credit(c) for c in credits],
        "implications": [implication(i) for i in implications],
        "total_ecvet_points": sum(c.ecvet_points for c in credits),
        "extra_ecvet_points": extra,
        "mobility_ids": visible,
    }
