"""/api/mous and /api/national-models: partnership records for their parties, national models for all."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.national_models import codes, service
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import approvals, mou, views
from ecvet.partnership.models import ApprovalRole

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import SignerIn, SignerOut

blp = Blueprint("records", __name__, url_prefix="/api", description="Partnership records: MoUs and national models")


class ApprovalRequest(Schema):
    content_hash = fields.String(
        required=True, validate=validate.Length(equal=64),
        metadata={"description": "SHA-256 of the text you approve, as GET /api/mous/{id} gave it"},
    )
    signer = fields.Nested(SignerIn, load_default=None, metadata={
        "description": "position and place; the signer is you, the signed-in member"})
    as_role = fields.String(load_default=ApprovalRole.PARTNER, validate=validate.OneOf(ApprovalRole.ALL))
    organisation_id = Id(
        load_default=None, metadata={"description": "only when you belong to several approving organisations"}
    )


class ApprovalSchema(Schema):
    id = fields.Integer()
    version = fields.Integer(metadata={"description": "the MoU version this decision was given for"})
    organisation_id = fields.Integer()
    role = fields.String(metadata={"description": "partner | competent_institution"})
    decision = fields.String(metadata={"description": "approved | rejected"})
    comment = fields.String(allow_none=True)
    mode = fields.String(metadata={"description": "explicit | implicit (no objection within the period)"})
    signer = fields.Nested(SignerOut)
    signed_at = fields.DateTime()
    content_hash = fields.String()
    counts = fields.Boolean(metadata={"description": "given for the current version and hash"})


class RequiredApprovalSchema(Schema):
    organisation_id = fields.Integer()
    role = fields.String()
    mode = fields.String(metadata={"description": "explicit | implicit"})
    days = fields.Integer(metadata={"description": "response or objection period from submission"})
    decision = fields.String(allow_none=True, metadata={"description": "latest decision on the current version"})
    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "a competent institution's deadline: submission + days (None for partners)"})
    if_silent = fields.String(allow_none=True, metadata={
        "description": "approved_by_silence (implicit) | escalated (explicit) when the deadline passes undecided"})


class SupportingActorSchema(Schema):
    organisation_id = fields.Integer()
    country = fields.String()
    function = fields.String(metadata={"description": "national_agency | national_europass_centre"})


class MouPartySchema(Schema):
    organisation_id = fields.Integer()
    roles = fields.List(fields.String())


class NationalModelSchema(Schema):
    model = fields.String()
    mou_approval = fields.String(metadata={"description": "none | explicit | implicit"})
    mou_approval_days = fields.Integer()
    la_approval = fields.String(metadata={"description": "none | explicit | implicit"})
    la_approval_days = fields.Integer()
    recognition_by = fields.String(metadata={"description": "sending | competent_institution"})
    validation_recognition_merged = fields.Boolean()
    country = fields.String()
    region = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    eqf_level = fields.Integer(allow_none=True)
    qualification_system = fields.String(allow_none=True)
    source = fields.String(metadata={"description": "which table answered: deployed (key, version) or shipped"})
    table_sha256 = fields.String()


class MouSchema(Schema):
    id = fields.Integer()
    business_key = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "draft | in_approval | active | expired | superseded"})
    sending_organisation_id = fields.Integer()
    version = fields.Integer(metadata={"description": "number of the current version"})
    content = fields.Dict(metadata={"description": "the current text (MoU template fields)"})
    content_hash = fields.String(metadata={"description": "SHA-256 of the canonical JSON of content"})
    active_version = fields.Integer(allow_none=True, metadata={"description": "the version last approved by all"})
    submitted_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    is_active = fields.Boolean()
    parties = fields.List(fields.Nested(MouPartySchema))
    required_approvals = fields.List(fields.Nested(RequiredApprovalSchema))
    supporting_actors = fields.List(fields.Nested(SupportingActorSchema), metadata={
        "description": "the registry's National Agencies and Europass Centres of the MoU's countries"})
    national_models = fields.Dict(keys=fields.String(), values=fields.Nested(NationalModelSchema))
    national_models_table = fields.String(allow_none=True, metadata={
        "description": "SHA-256 of the national models table this MoU is decided with (the one deployed with the "
                       "process that submitted it); null: the newest deployed table"})
    approvals = fields.List(fields.Nested(ApprovalSchema))
    problems = fields.List(fields.String(), metadata={"description": "what stops the MoU from being approved"})


class MouVersionSchema(Schema):
    mou_id = fields.Integer()
    number = fields.Integer()
    content = fields.Dict()
    content_hash = fields.String()
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class DecideArgs(Schema):
    country = fields.String(required=True, validate=validate.Length(equal=2),
                            metadata={"description": "ISO 3166-1 alpha-2"})
    region = fields.String(load_default=None, validate=validate.Length(max=8),
                           metadata={"description": "ISO 3166-2 (ES-VC) or NUTS (ES52) of that country"})
    sector = fields.String(load_default=None,
                           metadata={"description": "a sector code (GET /api/national-models/codes)"})
    eqf_level = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))
    qualification_system = fields.String(load_default=None, metadata={"description": "a qualification system code"})


@blp.route("/mous/<id:mou_id>", methods=["GET"])
@blp.response(200, MouSchema)
def get_mou(mou_id: int) -> Any:
    """The current text, its hash, who must approve, and every approval given (parties and admins)."""
    with authenticated(write=False) as (session, actor):
        return views.mou(session, actor=actor, mou_id=mou_id)


@blp.route("/mous/<id:mou_id>/versions/<id:number>", methods=["GET"])
@blp.response(200, MouVersionSchema)
def get_version(mou_id: int, number: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return mou.get_version(session, actor=actor, mou_id=mou_id, number=number)


@blp.route("/mous/<id:mou_id>/approvals", methods=["POST"])
@blp.arguments(ApprovalRequest)
@blp.response(201, ApprovalSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def approve(body: dict[str, Any], mou_id: int) -> Any:
    """Approve the current text for your organisation, signed by you.

    The approval records your account (name, e-mail), the organisation you approve for, and your
    position and place (from `signer`, else from your profile). 403 when your organisation does not
    approve in that role, 404 when you are not a party of the MoU, 409 "stale" when the quoted hash is
    not the current text (nothing is stored; read it again), or when the MoU is not in approval or your
    organisation already approved this version, 422 when `signer` names someone other than you or no
    position is known.
    """
    with authenticated() as (session, actor):
        approval = approvals.approve(session, actor=actor, mou_id=mou_id, **body)
        return views.recorded_approval(session, approval)


@blp.route("/national-models/decide", methods=["GET"])
@blp.arguments(DecideArgs, location="query")
@blp.response(200, NationalModelSchema)
def decide(args: dict[str, Any]) -> Any:
    """Evaluate the deployed national models table (illustrative rows, not legal advice)."""
    with authenticated(write=False) as (session, _actor):
        return service.decide(args["country"], args["sector"], args["eqf_level"], region=args["region"],
                              qualification_system=args["qualification_system"], session=session)


class CodeSchema(Schema):
    code = fields.String()
    label = fields.String()
    isced_f = fields.String(allow_none=True, metadata={"description": "the ISCED-F 2013 field it belongs to"})


class CodeListsSchema(Schema):
    sectors = fields.List(fields.Nested(CodeSchema))
    qualification_systems = fields.List(fields.Nested(CodeSchema))
    competence_functions = fields.List(fields.String())
    supporting_functions = fields.List(fields.String(), metadata={
        "description": "functions of supporting actors (recorded, never asked to approve)"})


@blp.route("/national-models/codes", methods=["GET"])
@blp.response(200, CodeListsSchema)
def code_lists() -> Any:
    """The code lists the national models and the registry use (sectors, qualification systems, functions);
    regions are ISO 3166-2 or NUTS codes."""
    with authenticated(write=False):
        return {"sectors": codes.sectors(), "qualification_systems": codes.qualification_systems(),
                "competence_functions": list(CompetenceFunction.ALL),
                "supporting_functions": list(CompetenceFunction.SUPPORTING)}


class CompetenceRequest(Schema):
    organisation_id = Id(required=True)
    country = fields.String(required=True, validate=validate.Length(equal=2),
                            metadata={"description": "ISO 3166-1 alpha-2 of the country it acts for"})
    function = fields.String(required=True, validate=validate.OneOf(CompetenceFunction.REGISTERED))
    region = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8), metadata={
        "description": "only in this region (ISO 3166-2 or NUTS); empty: the whole country"})
    sector = fields.String(load_default=None, allow_none=True, metadata={
        "description": "only for this sector code; empty: every sector"})
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))


class CompetenceSchema(Schema):
    id = fields.Integer()
    organisation_id = fields.Integer()
    country = fields.String()
    function = fields.String(metadata={"description": ", ".join(CompetenceFunction.REGISTERED)})
    region = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CompetenceArgs(Schema):
    country = fields.String(load_default=None, validate=validate.Length(equal=2))
    function = fields.String(load_default=None, validate=validate.OneOf(CompetenceFunction.REGISTERED))
    region = fields.String(load_default=None, validate=validate.Length(max=8),
                           metadata={"description": "rows of this region and the country-wide ones"})
    sector = fields.String(load_default=None, metadata={"description": "rows of this sector and the general ones"})


@blp.route("/competent-institutions", methods=["POST"])
@blp.arguments(CompetenceRequest)
@blp.response(201, CompetenceSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def register_competence(body: dict[str, Any]) -> Any:
    """Register an organisation as the competent institution for a function in a country (admins).

    The national model says whether e.g. MoU approval needs a competent institution; this registry says
    which organisation that is. 409 when already registered, 422 for an unknown organisation."""
    with authenticated() as (session, actor):
        return service.register_competence(session, actor=actor, **body)


@blp.route("/competent-institutions", methods=["GET"])
@blp.arguments(CompetenceArgs, location="query")
@blp.response(200, CompetenceSchema(many=True))
def list_competences(args: dict[str, Any]) -> Any:
    """The registry of competent institutions, optionally for one country or function (signed in)."""
    with authenticated(write=False) as (session, actor):
        return service.list_competences(session, actor=actor, **args)
