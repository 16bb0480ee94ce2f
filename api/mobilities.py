"""/api/mobilities and /api/learners: nominate a learner (starts the Mobility process) and read the records.

Every route opens one unit of work and calls one records service; who may see what is decided there
(404 for anyone who is not a party of the mobility; the transcript and assessment sheets only once
released to the home side).
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.mobility import credentials, nomination, service, transcript, views
from ecvet.mobility.models import MobilityStatus
from engine.pagination import Page

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import PageArgs, SignerOut, page_schema

blp = Blueprint("mobilities", __name__, url_prefix="/api", description="Learner mobilities and their records")


# --------------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------------


class LearnerIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    date_of_birth = fields.Date(required=True)
    email = fields.Email(required=True, metadata={"description": "the address of the learner's own account"})
    guardian_name = fields.String(load_default=None, validate=validate.Length(max=200),
                                  metadata={"description": "required when the learner is a minor on the first day"})
    guardian_email = fields.Email(load_default=None)
    european_student_identifier = fields.String(load_default=None, validate=validate.Length(max=200))


class NominateRequest(Schema):
    mou_id = Id(required=True, metadata={"description": "an active MoU of your organisation"})
    hosting_organisation_id = Id(required=True, metadata={"description": "a signing partner of the MoU"})
    qualification_title = fields.String(required=True, validate=validate.Length(min=1, max=300),
                                        metadata={"description": "a qualification the MoU covers"})
    qualification_eqf_level = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))
    sector = fields.String(load_default=None, validate=validate.Length(max=100),
                           metadata={"description": "selects sector rows of the national model; default: the MoU's"})
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    learner = fields.Nested(LearnerIn, load_default=None, metadata={"description": "a new learner"})
    learner_id = Id(load_default=None, metadata={"description": "or a learner you nominated before"})
    intermediary_organisation_id = Id(load_default=None)
    competent_institution_home_id = Id(
        load_default=None, metadata={"description": "only when several could act for the national model"})
    competent_institution_host_id = Id(load_default=None)
    business_key = fields.String(load_default=None, validate=validate.Length(max=255))


class WithdrawRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                           metadata={"description": "why the mobility is cancelled"})


class MobilityListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(MobilityStatus.ALL))
    mou_id = Id(load_default=None)
    learner_id = Id(load_default=None)


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


class MobilityNationalModelOut(Schema):
    model = fields.String()
    la_approval = fields.String(metadata={"description": "none | explicit | implicit"})
    la_approval_days = fields.Integer()
    recognition_by = fields.String(metadata={"description": "sending | competent_institution"})
    validation_recognition_merged = fields.Boolean()
    source = fields.String()
    table_sha256 = fields.String()


class MobilitySummary(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "nomination | live | recognized | cancelled"})
    mou_id = fields.Integer()
    learner_id = fields.Integer()
    process_instance_id = fields.String(allow_none=True)
    sending_organisation_id = fields.Integer()
    hosting_organisation_id = fields.Integer()
    competent_institution_home_id = fields.Integer(allow_none=True)
    competent_institution_host_id = fields.Integer(allow_none=True)
    intermediary_organisation_id = fields.Integer(allow_none=True)
    qualification_title = fields.String()
    qualification_eqf_level = fields.Integer(allow_none=True)
    sector = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    cancel_reason = fields.String(allow_none=True)
    national_model = fields.Nested(MobilityNationalModelOut, allow_none=True,
                                   metadata={"description": "as evaluated when the learner was nominated"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)


class LearnerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    date_of_birth = fields.Date()
    email = fields.String()
    guardian_name = fields.String(allow_none=True)
    guardian_email = fields.String(allow_none=True)
    european_student_identifier = fields.String(allow_none=True)
    is_minor = fields.Boolean(allow_none=True, metadata={"description": "on the first day of the mobility"})
    has_account = fields.Boolean()
    guardian_has_account = fields.Boolean()


class StatusChangeOut(Schema):
    old_status = fields.String(allow_none=True)
    new_status = fields.String()
    reason = fields.String(allow_none=True)
    changed_at = fields.DateTime()
    changed_by = fields.Integer(allow_none=True)


class LaSignatureOut(Schema):
    id = fields.Integer()
    version = fields.Integer()
    party = fields.String(metadata={"description": "learner | guardian | sending | hosting | competent_institution"})
    organisation_id = fields.Integer(allow_none=True)
    mode = fields.String(metadata={"description": "explicit | implicit (no objection within the period)"})
    signer = fields.Nested(SignerOut)
    recorded_by = fields.Integer(allow_none=True, metadata={
        "description": "the account that recorded it: the signer, or the school member for a paper signature"})
    signed_at = fields.DateTime()
    content_hash = fields.String()
    counts = fields.Boolean(metadata={"description": "given for the current version and hash"})


class LaVersionOut(Schema):
    number = fields.Integer()
    content_hash = fields.String()
    changes = fields.List(fields.Dict(), metadata={"description": "units added/removed, parts replaced, reasons"})
    created_at = fields.DateTime()


class LearningAgreementOut(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "draft | signing | signed | approved | deleted"})
    version = fields.Integer()
    content = fields.Dict(metadata={"description": "the current text (Erasmus+ ECVET LA fields)"})
    content_hash = fields.String()
    changes = fields.List(fields.Dict())
    required_signatures = fields.List(fields.String(), metadata={"description": "in signing order"})
    next_party = fields.String(allow_none=True)
    in_force = fields.Boolean()
    learner_is_minor = fields.Boolean()
    signatures = fields.List(fields.Nested(LaSignatureOut))
    versions = fields.List(fields.Nested(LaVersionOut))


class AssessorOut(Schema):
    name = fields.String()
    organisation = fields.String()
    role = fields.String(allow_none=True)


class AcknowledgementOut(Schema):
    agrees = fields.Boolean()
    comment = fields.String(allow_none=True)
    acknowledged_at = fields.DateTime()


class AssessmentOut(Schema):
    id = fields.Integer()
    unit = fields.String()
    unit_title = fields.String(allow_none=True)
    learning_outcome = fields.String(allow_none=True)
    outcome_results = fields.List(fields.Dict(), allow_none=True,
                                  metadata={"description": "per learning outcome: kind, text, result, comment"})
    criteria = fields.String()
    method = fields.String(metadata={"description": "observation | practical_task | portfolio | interview | test"})
    context = fields.String(allow_none=True)
    assessor = fields.Nested(AssessorOut)
    date = fields.Date()
    result = fields.String(metadata={"description": "achieved | not_achieved"})
    grade = fields.String(allow_none=True)
    comments = fields.String(allow_none=True)
    evidence = fields.String(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime()
    organisation_id = fields.Integer()
    signer = fields.Nested(SignerOut, metadata={"description": "the member who recorded and signed the sheet"})
    learner_acknowledgement = fields.Nested(AcknowledgementOut, allow_none=True)


class TranscriptIssuerOut(SignerOut):
    organisation_id = fields.Integer()


class TranscriptOut(Schema):
    id = fields.Integer()
    mobility_id = fields.Integer()
    learner_id = fields.Integer()
    la_id = fields.Integer()
    la_version = fields.Integer()
    la_hash = fields.String()
    content = fields.Dict(metadata={"description": "learner, home, host, units with results and points"})
    content_hash = fields.String()
    issued_by = fields.Nested(TranscriptIssuerOut)
    issued_at = fields.DateTime()
    ready_for_recognition_at = fields.DateTime(allow_none=True)


class ValidationOut(Schema):
    unit = fields.String()
    outcome = fields.String(metadata={"description": "validated | partly_validated | not_validated"})
    comment = fields.String(allow_none=True)
    organisation_id = fields.Integer()
    merged_with_recognition = fields.Boolean()
    transcript_hash = fields.String()
    signer = fields.Nested(SignerOut)
    decided_at = fields.DateTime()


class RecognitionOut(Schema):
    id = fields.Integer()
    recognised_by = fields.String(metadata={"description": "sending | competent_institution"})
    organisation_id = fields.Integer()
    merged_with_validation = fields.Boolean()
    units = fields.List(fields.Dict(), metadata={"description": "per unit: recognised, ECVET points, comment"})
    comment = fields.String(allow_none=True)
    national_model = fields.String(allow_none=True)
    transcript_hash = fields.String()
    signer = fields.Nested(SignerOut)
    decided_at = fields.DateTime()


class CreditOut(Schema):
    id = fields.Integer()
    mobility_id = fields.Integer()
    unit = fields.String()
    unit_title = fields.String(allow_none=True)
    qualification_title = fields.String()
    eqf_level = fields.Integer(allow_none=True)
    ecvet_points = fields.Float()
    awarded_by_organisation_id = fields.Integer()
    awarded_at = fields.DateTime()
    recognition_id = fields.Integer()


class ImplicationOut(Schema):
    id = fields.Integer()
    mobility_id = fields.Integer()
    kind = fields.String(metadata={"description": "exempted_activity | no_retake | extra_credits | other"})
    description = fields.String()
    unit = fields.String(allow_none=True)
    ecvet_points = fields.Float(allow_none=True)
    recorded_at = fields.DateTime()


class MobilityDetail(MobilitySummary):
    learner = fields.Nested(LearnerOut)
    status_history = fields.List(fields.Nested(StatusChangeOut))
    learning_agreement = fields.Nested(LearningAgreementOut, allow_none=True)
    assessments = fields.List(fields.Nested(AssessmentOut), allow_none=True,
                              metadata={"description": "null while the home side may not read them yet"})
    transcript_status = fields.String(metadata={"description": "not_issued | issued | ready_for_recognition"})
    transcript = fields.Nested(TranscriptOut, allow_none=True,
                               metadata={"description": "null until issued, and for the home side until ready"})
    validation = fields.List(fields.Nested(ValidationOut))
    recognition = fields.Nested(RecognitionOut, allow_none=True)
    credits = fields.List(fields.Nested(CreditOut))
    implications = fields.List(fields.Nested(ImplicationOut))


class AchievementsOut(Schema):
    learner = fields.Nested(LearnerOut)
    credits = fields.List(fields.Nested(CreditOut), metadata={"description": "units and ECVET points awarded"})
    implications = fields.List(fields.Nested(ImplicationOut))
    total_ecvet_points = fields.Float(metadata={"description": "sum of the credits listed"})
    extra_ecvet_points = fields.Float(metadata={"description": "extra credits recorded as practical implications"})
    mobility_ids = fields.List(fields.Integer(), metadata={"description": "the mobilities these come from"})


# --------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------


@blp.route("/mobilities", methods=["POST"])
@blp.arguments(NominateRequest)
@blp.response(201, MobilityDetail)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def nominate(body: dict[str, Any]) -> Any:
    """Nominate a learner under your active MoU and start the Mobility process.

    The learner signs with their own account (found by e-mail: an administrator creates it first); a
    minor needs a parent or guardian, who signs with their account when one exists for their e-mail,
    or on paper recorded by your organisation. 403 unless you belong to the MoU's sending
    organisation, 409 when the MoU is not in force, 422 when the MoU does not cover the qualification
    or the dates, or the host did not sign the MoU."""
    with authenticated() as (session, actor):
        mobility = nomination.nominate(session, actor=actor, **body)
        return views.mobility_with_records(session, actor=actor, mobility_id=mobility.id)


@blp.route("/mobilities", methods=["GET"])
@blp.arguments(MobilityListArgs, location="query")
@blp.response(200, page_schema(MobilitySummary, "MobilityPage"))
def list_(args: dict[str, Any]) -> Any:
    """The mobilities you take part in (all of them for admins), oldest first."""
    with authenticated(write=False) as (session, actor):
        page = service.list_for(session, actor=actor, **args)
        return Page([views.mobility(m) for m in page.items], page.next_cursor)


@blp.route("/mobilities/<id:mobility_id>", methods=["GET"])
@blp.response(200, MobilityDetail)
def get(mobility_id: int) -> Any:
    """Status, learner, Learning Agreement versions and signatures, assessment and transcript (the home
    side only once released for recognition), validation, recognition and credits."""
    with authenticated(write=False) as (session, actor):
        return views.mobility_with_records(session, actor=actor, mobility_id=mobility_id)


@blp.route("/mobilities/<id:mobility_id>/cancel", methods=["POST"])
@blp.arguments(WithdrawRequest)
@blp.response(200, MobilityDetail)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def cancel(body: dict[str, Any], mobility_id: int) -> Any:
    """Cancel the mobility before it is recognised (the sending organisation, with a reason): its process
    ends and its open tasks are withdrawn. 409 once recognised or cancelled."""
    with authenticated() as (session, actor):
        service.withdraw(session, actor=actor, mobility_id=mobility_id, reason=body["reason"])
        return views.mobility_with_records(session, actor=actor, mobility_id=mobility_id)


@blp.route("/mobilities/<id:mobility_id>/transcript", methods=["GET"])
@blp.response(200, TranscriptOut)
def get_transcript(mobility_id: int) -> Any:
    """The Learner's Personal Transcript: 404 until issued, and for the home side until it is ready for
    recognition."""
    with authenticated(write=False) as (session, actor):
        return views.personal_transcript(transcript.get(session, actor=actor, mobility_id=mobility_id))


@blp.route("/mobilities/<id:mobility_id>/assessments", methods=["GET"])
@blp.response(200, AssessmentOut(many=True))
def get_assessments(mobility_id: int) -> Any:
    """The current assessment sheets with the learner's acknowledgement (same visibility as the transcript)."""
    with authenticated(write=False) as (session, actor):
        return views.assessment_sheets(session, actor=actor, mobility_id=mobility_id)


@blp.route("/learners/<id:learner_id>", methods=["GET"])
@blp.response(200, LearnerOut)
def get_learner(learner_id: int) -> Any:
    """A learner's personal data: the parties of their mobilities and admins only."""
    with authenticated(write=False) as (session, actor):
        return views.learner(service.get_learner(session, actor=actor, learner_id=learner_id))


@blp.route("/learners/<id:learner_id>/achievements", methods=["GET"])
@blp.response(200, AchievementsOut)
def achievements(learner_id: int) -> Any:
    """Units and ECVET points awarded to the learner, and practical implications, from the mobilities you
    take part in (all of them for the learner and admins)."""
    with authenticated(write=False) as (session, actor):
        return views.achievements(session, actor=actor, learner_id=learner_id)


class CredentialsOut(Schema):
    credentials = fields.List(fields.Dict(), metadata={
        "description": "one European Learning Model (ELM 3) credential per recognised unit, as JSON-LD"})


@blp.route("/learners/<id:learner_id>/credentials", methods=["GET"])
@blp.response(200, CredentialsOut)
@blp.alt_response(404, response="NOT_FOUND")
def learner_credentials(learner_id: int) -> Any:
    """The learner's recognised units as Europass / European Learning Model credentials (JSON-LD), from the
    mobilities you take part in (all of them for the learner and admins)."""
    with authenticated(write=False) as (session, actor):
        return {"credentials": credentials.for_learner(session, actor=actor, learner_id=learner_id)}
