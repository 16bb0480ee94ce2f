"""/api/mobilities: nominate a learner (starts the Mobility process) and read the records.

Every route opens one unit of work and calls one records service; who may see what is decided there
(404 for anyone who is not a party of the mobility; the transcript and assessment sheets only once
released to the home side).
"""
from __future__ import annotations

import io
from typing import Any

from flask import Response, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from ecvet.mobility import assessment, beneficiary_report, evidence_files, nomination, service, transcript, views
from ecvet.mobility.models import MobilityStatus
from ecvet.partnership import attachments
from ecvet.subject_access import audited
from engine.pagination import Page

from .deps import authenticated
from .parsing import Blueprint, Id, multipart_fields
from .schemas import PageArgs, SignerIn, page_schema, schema_for

blp = Blueprint("mobilities", __name__, url_prefix="/api/mobilities",
                description="Learner mobilities and their records")


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


class PeriodIn(Schema):
    hosting_organisation_id = Id(required=True, metadata={"description": "a hosting partner of the MoU"})
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    units = fields.List(fields.String(validate=validate.Length(min=1, max=50)), required=True,
                        metadata={"description": "the codes of the units this host assesses"})


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
    periods = fields.List(fields.Nested(PeriodIn), load_default=None, metadata={
        "description": "several hosts one after the other (2 or 3 periods, the first with hosting_organisation_id): "
                       "each host assesses the units of its period"})


class WithdrawRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                           metadata={"description": "why the mobility is cancelled"})


class BeneficiaryReportArgs(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv"]),
                           metadata={"description": "csv (the Beneficiary Module imports CSV)"})


class MobilityListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(MobilityStatus.ALL))
    mou_id = Id(load_default=None)
    learner_id = Id(load_default=None)


class EvidenceUpload(Schema):
    """The multipart body of an evidence file: the file, and the learning outcome it is evidence of."""

    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG, ODT or DOCX; at most "
                                                          "ECVET_ATTACHMENT_MAX_BYTES (10 MiB by default)"})
    unit = fields.String(metadata={"description": "a unit code of the Learning Agreement in force"})
    learning_outcome = fields.String(metadata={"description": "one of the unit's learning outcomes, as written"})
    description = fields.String(metadata={"description": "what the file shows (optional)"})


class EvidenceForm(Schema):
    unit = fields.String(required=True, validate=validate.Length(min=1, max=50))
    learning_outcome = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    description = fields.String(load_default=None, validate=validate.Length(max=2_000))


class AssessorSignRequest(Schema):
    signer = fields.Nested(SignerIn, load_default=None, metadata={
        "description": "your position and place (from your profile when left out); you sign as yourself"})


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


MobilityNationalModelOut = schema_for(views.MobilityNationalModel, "MobilityNationalModelOut")
MobilitySummary = schema_for(views.MobilityView, "MobilitySummary")
StatusChangeOut = schema_for(views.StatusChange, "StatusChangeOut")
LaSignatureOut = schema_for(views.LaSignatureView, "LaSignatureOut")
LaVersionOut = schema_for(views.LaVersionView, "LaVersionOut")
LearningAgreementOut = schema_for(views.AgreementWithVersions, "LearningAgreementOut",
                                  exclude=("mobility_id", "start_date"))
AssessorOut = schema_for(views.Assessor, "AssessorOut")
AcknowledgementOut = schema_for(views.Acknowledgement, "AcknowledgementOut")
AssessmentOut = schema_for(views.AssessmentSheet, "AssessmentOut")
TranscriptIssuerOut = schema_for(views.TranscriptIssuer, "TranscriptIssuerOut")
TranscriptOut = schema_for(views.TranscriptView, "TranscriptOut")
ValidationOut = schema_for(views.ValidationView, "ValidationOut")
RecognitionOut = schema_for(views.RecognitionView, "RecognitionOut")
MobilityDetail = schema_for(views.MobilityRecords, "MobilityDetail")
EvidenceFileOut = schema_for(evidence_files.EvidenceFileView, "EvidenceFileOut")
AssessorSignatureOut = schema_for(assessment.AssessorSignatureView, "AssessorSignatureOut")


# --------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------


@blp.route("", methods=["POST"])
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


@blp.route("", methods=["GET"])
@blp.arguments(MobilityListArgs, location="query")
@blp.response(200, page_schema(MobilitySummary, "MobilityPage"))
def list_(args: dict[str, Any]) -> Any:
    """The mobilities you take part in (all of them for admins), oldest first."""
    with authenticated(write=False) as (session, actor):
        page = service.list_for(session, actor=actor, **args)
        return Page([views.mobility(m) for m in page.items], page.next_cursor)


@blp.route("/beneficiary-report", methods=["GET"])
@blp.arguments(BeneficiaryReportArgs, location="query")
@blp.doc(responses={"200": {"description": "One row per mobility your organisation sends", "content": {
    "text/csv": {"schema": {"type": "string"}}}}})
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def beneficiary_report_(_args: dict[str, Any]) -> Any:
    """The mobilities your organisation sends (not the cancelled ones) as CSV in the Erasmus+ Beneficiary
    Module's import columns: Mobility ID and project code from the Learning Agreement, participant,
    organisations with OID and country, dates, qualification, EQF level, ECVET points awarded. Audited as
    a read of personal data; cells a spreadsheet would run as a formula start with '."""
    with authenticated() as (session, actor):
        table = beneficiary_report.rows(session, actor=actor)
    response = Response(beneficiary_report.to_csv(table), mimetype="text/csv",
                        headers={"Cache-Control": "private, no-store", "Vary": "Authorization"})
    response.headers["Content-Disposition"] = 'attachment; filename="beneficiary-report.csv"'
    return response


@blp.route("/<id:mobility_id>", methods=["GET"])
@blp.response(200, MobilityDetail)
def get(mobility_id: int) -> Any:
    """Status, learner, Learning Agreement versions and signatures, assessment and transcript (the home
    side only once released for recognition), validation, recognition and credits."""
    with authenticated() as (session, actor):  # writes the read of the learner's data down
        return audited.mobility(session, actor=actor, mobility_id=mobility_id)


@blp.route("/<id:mobility_id>/cancel", methods=["POST"])
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


@blp.route("/<id:mobility_id>/transcript", methods=["GET"])
@blp.response(200, TranscriptOut)
def get_transcript(mobility_id: int) -> Any:
    """The Learner's Personal Transcript: 404 until issued, and for the home side until it is ready for
    recognition."""
    with authenticated(write=False) as (session, actor):
        return views.personal_transcript(transcript.get(session, actor=actor, mobility_id=mobility_id))


@blp.route("/<id:mobility_id>/assessments", methods=["GET"])
@blp.response(200, AssessmentOut(many=True))
def get_assessments(mobility_id: int) -> Any:
    """The current assessment sheets with the learner's acknowledgement (same visibility as the transcript)."""
    with authenticated(write=False) as (session, actor):
        return views.assessment_sheets(session, actor=actor, mobility_id=mobility_id)


@blp.route("/<id:mobility_id>/assessments/<id:assessment_id>/signatures", methods=["POST"])
@blp.arguments(AssessorSignRequest)
@blp.response(201, AssessorSignatureOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def sign_assessment(body: dict[str, Any], mobility_id: int, assessment_id: int) -> Any:
    """An assessor signs a current assessment sheet with their own account: members of the hosting
    organisation only (403 otherwise), once each (409)."""
    signer = {k: v for k, v in (body.get("signer") or {}).items() if v is not None} or None
    with authenticated() as (session, actor):
        return assessment.signature_view(assessment.sign(session, actor=actor, mobility_id=mobility_id,
                                                         assessment_id=assessment_id, signer=signer))


@blp.route("/<id:mobility_id>/evidence-files", methods=["POST"])
@blp.arguments(EvidenceUpload, location="files")
@blp.response(201, EvidenceFileOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def add_evidence_file(files: dict[str, Any], mobility_id: int) -> Any:
    """Attach a file of evidence to a learning outcome of a unit (the host's assessors or the learner,
    while the mobility is live and before the transcript): 413 above the size limit, 415 for a type other
    than PDF, PNG, JPEG, ODT or DOCX (recognised from the content)."""
    form = multipart_fields(EvidenceForm(), "The evidence file is not attached to a learning outcome")
    upload_ = files["file"]
    content = upload_.read(attachments.max_bytes() + 1)
    with authenticated() as (session, actor):
        row, stored = evidence_files.upload(session, actor=actor, mobility_id=mobility_id, unit=form["unit"],
                                            learning_outcome=form["learning_outcome"], filename=upload_.filename,
                                            content=content, description=form["description"])
        return evidence_files.view(row, stored)


@blp.route("/<id:mobility_id>/evidence-files", methods=["GET"])
@blp.response(200, EvidenceFileOut(many=True))
def list_evidence_files(mobility_id: int) -> Any:
    """The evidence files of the mobility (who may read its assessment sheets; 404 for anyone else)."""
    with authenticated(write=False) as (session, actor):
        return evidence_files.list_for(session, actor=actor, mobility_id=mobility_id)


@blp.route("/<id:mobility_id>/evidence-files/<id:file_id>/content", methods=["GET"])
@blp.response(200, description="The file as uploaded, always as a download")
def download_evidence_file(mobility_id: int, file_id: int) -> Response:
    """The bytes of one evidence file, as a download the browser does not render (audited)."""
    with authenticated() as (session, actor):
        attachment, content = evidence_files.content(session, actor=actor, mobility_id=mobility_id, file_id=file_id)
        media_type, filename, digest = attachment.media_type, attachment.filename, attachment.sha256
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True, download_name=filename,
                         etag=digest, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
