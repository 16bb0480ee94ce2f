"""/api/mous: Memoranda of Understanding for their parties, and approving one (a new approval record)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.partnership import approvals, mou, views
from ecvet.partnership.models import ApprovalRole

from .deps import authenticated
from .national_models import NationalModelSchema
from .parsing import Blueprint, Id
from .schemas import SignerIn, SignerOut

blp = Blueprint("mous", __name__, url_prefix="/api/mous", description="Memoranda of Understanding and their approvals")


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


class MouPartySchema(Schema):
    organisation_id = fields.Integer()
    roles = fields.List(fields.String())


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


@blp.route("/<id:mou_id>", methods=["GET"])
@blp.response(200, MouSchema)
def get_mou(mou_id: int) -> Any:
    """The current text, its hash, who must approve, and every approval given (parties and admins)."""
    with authenticated(write=False) as (session, actor):
        return views.mou(session, actor=actor, mou_id=mou_id)


@blp.route("/<id:mou_id>/versions/<id:number>", methods=["GET"])
@blp.response(200, MouVersionSchema)
def get_version(mou_id: int, number: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return mou.get_version(session, actor=actor, mou_id=mou_id, number=number)


@blp.route("/<id:mou_id>/approvals", methods=["POST"])
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
