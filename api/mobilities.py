"""/api/mobilities: nominate a learner (starts the Mobility process) and read the records.

Every route opens one unit of work and calls one records service; who may see what is decided there
(404 for anyone who is not a party of the mobility; the transcript and assessment sheets only once
released to the home side).
"""
from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from ecvet.mobility import beneficiary_report, nomination, service, transcript, views
from ecvet.mobility.models import MobilityStatus
from engine.pagination import Page

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema, schema_for

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
    with authenticated(write=False) as (session, actor):
        return views.mobility_with_records(session, actor=actor, mobility_id=mobility_id)


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
