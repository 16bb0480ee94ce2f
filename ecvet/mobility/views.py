"""What a party reads about a mobility, each output described once here: a view (TypedDict) names its keys,
types and descriptions, the API's schemas are made from it (api/schemas.py ``schema_for``), and documents
reuse these dicts as their data.

The mobility itself, its learner, status history, Learning Agreement versions and signatures, and
the validation and recognition decisions and credits are for every party of the mobility (and
admins; everyone else gets 404 from :func:`ecvet.mobility.service.get`). The assessment sheets and the
transcript are held back from the home side until the host marks the transcript ready for
recognition: until then they come back as ``None`` with ``transcript_status`` saying why.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypedDict, cast

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

class MobilityNationalModel(TypedDict):
    """What the API shows of the national model a mobility was nominated under."""

    model: str
    la_approval: Annotated[str, "none | explicit | implicit"]
    la_approval_days: int
    recognition_by: Annotated[str, "sending | competent_institution"]
    validation_recognition_merged: bool
    source: str
    table_sha256: str


NATIONAL_MODEL_FIELDS = tuple(MobilityNationalModel.__annotations__)


class MobilityView(TypedDict):
    """The mobility's own fields (no personal data beyond the learner's id)."""

    id: int
    status: Annotated[str, "nomination | live | recognized | cancelled"]
    mou_id: int
    learner_id: int
    process_instance_id: str | None
    sending_organisation_id: int
    hosting_organisation_id: int
    competent_institution_home_id: int | None
    competent_institution_host_id: int | None
    intermediary_organisation_id: int | None
    qualification_title: str
    qualification_eqf_level: int | None
    sector: str | None
    start_date: date
    end_date: date
    cancel_reason: str | None
    national_model: Annotated[MobilityNationalModel | None, "as evaluated when the learner was nominated"]
    created_at: datetime
    updated_at: datetime | None


class LearnerView(TypedDict):
    """A learner's personal data."""

    id: int
    name: str
    date_of_birth: Annotated[date | None, "for the home side, the learner and admins only (minimisation)"]
    email: str
    guardian_name: str | None
    guardian_email: str | None
    european_student_identifier: str | None
    is_minor: Annotated[bool | None, "on the first day of the mobility"]
    has_account: bool
    guardian_has_account: bool


class StatusChange(TypedDict):
    old_status: str | None
    new_status: str
    reason: str | None
    changed_at: datetime
    changed_by: int | None


def mobility(row: Mobility) -> MobilityView:
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
        "national_model": cast(MobilityNationalModel, {k: model.get(k) for k in NATIONAL_MODEL_FIELDS})
        if model else None,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


def learner(row: Learner, on: date | None = None, *, birth: bool = True, guardian: bool = True) -> LearnerView:
    """A learner's personal data for the parties; birth date, guardian where :func:`service.personal_fields` say."""
    return {
        "id": row.id, "name": row.name, "date_of_birth": row.date_of_birth if birth else None, "email": row.email,
        "guardian_name": row.guardian_name if guardian else None, "is_minor": row.is_minor(on) if on else None,
        "guardian_email": row.guardian_email if guardian else None,
        "european_student_identifier": row.european_student_identifier,
        "has_account": row.user_id is not None, "guardian_has_account": row.guardian_user_id is not None,
    }


class MobilityRecords(MobilityView):
    """Everything a party of the mobility may read now."""

    learner: LearnerView
    status_history: list[StatusChange]
    learning_agreement: AgreementWithVersions | None
    assessments: Annotated[list[AssessmentSheet] | None, "null while the home side may not read them yet"]
    transcript_status: Annotated[str, "not_issued | issued | ready_for_recognition"]
    transcript: Annotated[TranscriptView | None, "null until issued, and for the home side until ready"]
    validation: list[ValidationView]
    recognition: RecognitionView | None
    credits: list[CreditView]
    implications: list[ImplicationView]


def mobility_with_records(session: Session, *, actor: Actor, mobility_id: int) -> MobilityRecords:
    """Everything a party of the mobility may read now (404 for anyone else)."""
    found = service.get(session, actor=actor, mobility_id=mobility_id)
    issued = transcript.issued_for(session, found)
    readable = issued is not None and transcript.readable(actor, found, issued)
    status = "not_issued" if issued is None else (
        "ready_for_recognition" if issued.ready_for_recognition_at is not None else "issued")
    return {
        **mobility(found),
        "learner": learner(found.learner, found.start_date, **service.personal_fields(actor, found)),
        "status_history": [
            StatusChange(old_status=c.old_status, new_status=c.new_status, reason=c.reason, changed_at=c.changed_at,
                         changed_by=c.changed_by) for c in service.status_history(session, found)
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


class LaSignatureView(TypedDict):
    id: int
    version: int | None
    party: Annotated[str, "learner | guardian | sending | hosting | competent_institution"]
    organisation_id: int | None
    mode: Annotated[str, "explicit | implicit (no objection within the period)"]
    signer: signing.SignerView
    recorded_by: Annotated[int | None, (
        "the account that recorded it: the signer, or the school member for a paper signature")]
    signed_at: datetime
    content_hash: str
    counts: Annotated[bool, "given for the current version and hash"]


class LaVersionView(TypedDict):
    number: int
    content_hash: str
    changes: Annotated[list[dict[str, Any]], "units added/removed, parts replaced, reasons"]
    created_at: datetime


class AgreementView(TypedDict):
    """What a party needs to sign a Learning Agreement."""

    id: int
    mobility_id: int
    status: Annotated[str, "draft | signing | signed | approved | deleted"]
    version: int
    content: Annotated[dict[str, Any], "the current text (Erasmus+ ECVET LA fields)"]
    content_hash: str
    changes: list[dict[str, Any]]
    required_signatures: Annotated[list[str], "in signing order"]
    next_party: str | None
    in_force: bool
    learner_is_minor: bool
    start_date: date
    signatures: list[LaSignatureView]


class AgreementWithVersions(AgreementView):
    versions: list[LaVersionView]


def la_signature(row: LaSignature, numbers: dict[int, int], shown: LaVersion) -> LaSignatureView:
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


def agreement(session: Session, *, actor: Actor, la_id: int) -> AgreementView:
    """What a party needs to sign: current text and hash, who signs in which order and who is next,
    and every signature ever given with whether it still counts."""
    la = learning_agreement.get(session, actor=actor, la_id=la_id)
    found = learning_agreement.mobility_of(session, la)
    version = learning_agreement.current_version(session, la)
    numbers = la_version_numbers(session, la.id)
    return {
        "id": la.id, "mobility_id": found.id,
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


def _agreement_with_versions(session: Session, actor: Actor, found: Mobility) -> AgreementWithVersions | None:
    la = service.current_agreement(session, found)
    if la is None:
        return None
    versions = session.scalars(select(LaVersion).where(LaVersion.la_id == la.id).order_by(LaVersion.number))
    return {**agreement(session, actor=actor, la_id=la.id),
            "versions": [LaVersionView(number=v.number, content_hash=v.content_hash, changes=v.changes,
                                       created_at=v.created_at) for v in versions]}


# --------------------------------------------------------------------------------------------------
# Assessment sheets and the Learner's Personal Transcript
# --------------------------------------------------------------------------------------------------


class Assessor(TypedDict):
    name: str
    organisation: str
    role: str | None


class Acknowledgement(TypedDict):
    agrees: bool
    comment: Annotated[str | None, "the learner's comment on this unit"]
    overall_comment: Annotated[str | None, "the learner's comment on the assessment as a whole (since 1705)"]
    acknowledged_at: datetime


class AssessmentSheet(TypedDict):
    id: int
    unit: str
    unit_title: str | None
    learning_outcome: str | None
    outcome_results: Annotated[list[dict[str, Any]] | None, "per learning outcome: kind, text, result, comment"]
    criteria: str
    method: Annotated[str, "observation | practical_task | portfolio | interview | test"]
    context: str | None
    assessor: Assessor
    date: date
    result: Annotated[str, "achieved | not_achieved"]
    grade: str | None
    comments: str | None
    evidence: str | None
    supersedes_id: int | None
    recorded_at: datetime
    organisation_id: int
    signer: Annotated[signing.SignerView, "the member who recorded and signed the sheet"]
    learner_acknowledgement: Acknowledgement | None


def assessment_sheet(row: AssessmentRecord, acknowledgement: AssessmentAcknowledgement | None) -> AssessmentSheet:
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
            "overall_comment": acknowledgement.overall_comment, "acknowledged_at": acknowledgement.acknowledged_at},
    }


def assessment_sheets(session: Session, *, actor: Actor, mobility_id: int) -> list[AssessmentSheet]:
    """The current assessment sheets with the learner's acknowledgement (404 for who may not read them)."""
    found = service.get(session, actor=actor, mobility_id=mobility_id)
    if not assessment.readable(session, actor, found):
        raise NotFound(f"No assessment of mobility {mobility_id} you can read yet")
    done = assessment.acknowledgements(session, found)
    return [assessment_sheet(r, done.get(r.id)) for r in assessment.current(session, found)]


class TranscriptIssuer(signing.SignerView):
    organisation_id: int


class TranscriptView(TypedDict):
    id: int
    mobility_id: int
    learner_id: int
    la_id: int
    la_version: int
    la_hash: str
    content: Annotated[dict[str, Any], "learner, home, host, units with results and points"]
    content_hash: str
    issued_by: TranscriptIssuer
    issued_at: datetime
    ready_for_recognition_at: datetime | None


def personal_transcript(row: PersonalTranscript) -> TranscriptView:
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


class ValidationView(TypedDict):
    unit: str
    outcome: Annotated[str, "validated | partly_validated | not_validated"]
    comment: str | None
    organisation_id: int
    merged_with_recognition: bool
    transcript_hash: str
    signer: signing.SignerView
    decided_at: datetime


class RecognitionView(TypedDict):
    id: int
    recognised_by: Annotated[str, "sending | competent_institution"]
    organisation_id: int
    merged_with_validation: bool
    units: Annotated[list[dict[str, Any]], "per unit: recognised, ECVET points, comment"]
    comment: str | None
    national_model: str | None
    transcript_hash: str
    signer: signing.SignerView
    decided_at: datetime


class CreditView(TypedDict):
    id: int
    mobility_id: int
    unit: str
    unit_title: str | None
    qualification_title: str
    eqf_level: int | None
    ecvet_points: float
    awarded_by_organisation_id: int
    awarded_at: datetime
    recognition_id: int


class ImplicationView(TypedDict):
    id: int
    mobility_id: int
    kind: Annotated[str, "exempted_activity | no_retake | extra_credits | other"]
    description: str
    unit: str | None
    ecvet_points: float | None
    recorded_at: datetime


class Decisions(TypedDict):
    """Validation, recognition, credits and implications of one mobility."""

    validation: list[ValidationView]
    recognition: RecognitionView | None
    credits: list[CreditView]
    implications: list[ImplicationView]


class Achievements(TypedDict):
    learner: LearnerView
    credits: Annotated[list[CreditView], "units and ECVET points awarded"]
    implications: list[ImplicationView]
    total_ecvet_points: Annotated[float, "sum of the credits listed"]
    extra_ecvet_points: Annotated[float, "extra credits recorded as practical implications"]
    mobility_ids: Annotated[list[int], "the mobilities these come from"]


def credit(row: CreditAward) -> CreditView:
    """One unit and its ECVET points awarded to the learner."""
    return {"id": row.id, "mobility_id": row.mobility_id, "unit": row.unit_code, "unit_title": row.unit_title,
            "qualification_title": row.qualification_title, "eqf_level": row.eqf_level,
            "ecvet_points": row.ecvet_points, "awarded_by_organisation_id": row.awarded_by_organisation_id,
            "awarded_at": row.awarded_at, "recognition_id": row.recognition_id}


def implication(row: PracticalImplication) -> ImplicationView:
    """One practical implication of recognition for the learner's programme at home."""
    return {"id": row.id, "mobility_id": row.mobility_id, "kind": row.kind, "description": row.description,
            "unit": row.unit_code, "ecvet_points": row.ecvet_points, "recorded_at": row.recorded_at}


def decisions(session: Session, found: Mobility) -> Decisions:
    """Validation, recognition, credits and implications of one mobility (for its parties)."""
    decided = session.scalar(select(RecognitionDecision).where(RecognitionDecision.mobility_id == found.id))
    credits = session.scalars(select(CreditAward).where(CreditAward.mobility_id == found.id)
                              .order_by(CreditAward.id))
    implications = session.scalars(select(PracticalImplication).where(PracticalImplication.mobility_id == found.id)
                                   .order_by(PracticalImplication.id))
    return {
        "validation": [
            ValidationView(unit=v.unit_code, outcome=v.outcome, comment=v.comment, organisation_id=v.organisation_id,
                           merged_with_recognition=v.merged_with_recognition, transcript_hash=v.transcript_hash,
                           signer=signing.view(v), decided_at=v.decided_at)
            for v in recognition.validations(session, found).values()
        ],
        "recognition": None if decided is None else RecognitionView(
            id=decided.id, recognised_by=decided.recognised_by, organisation_id=decided.organisation_id,
            merged_with_validation=decided.merged_with_validation, units=decided.units, comment=decided.comment,
            national_model=decided.national_model, transcript_hash=decided.transcript_hash,
            signer=signing.view(decided), decided_at=decided.decided_at),
        "credits": [credit(c) for c in credits],
        "implications": [implication(i) for i in implications],
    }


def achievements(session: Session, *, actor: Actor, learner_id: int) -> Achievements:
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
        "learner": learner(person, birth=False, guardian=False),  # what a certificate needs
        "credits": [credit(c) for c in credits],
        "implications": [implication(i) for i in implications],
        "total_ecvet_points": sum(c.ecvet_points for c in credits),
        "extra_ecvet_points": extra,
        "mobility_ids": visible,
    }
