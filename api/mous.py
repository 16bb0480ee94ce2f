"""/api/mous: Memoranda of Understanding for their parties, and approving one (a new approval record)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.partnership import approvals, mou, views
from ecvet.partnership.models import ApprovalRole
from ecvet.review import partnership as partnership_review
from ecvet.review import visibility
from ecvet.review.models import EvaluationVisibility

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import SignerIn, schema_for

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


ApprovalSchema = schema_for(views.ApprovalView, "ApprovalSchema")
RequiredApprovalSchema = schema_for(views.RequiredApprovalView, "RequiredApprovalSchema")
MouPartySchema = schema_for(views.MouPartyView, "MouPartySchema")
MouSchema = schema_for(views.MouView, "MouSchema")


PartnershipReviewSchema = schema_for(partnership_review.PartnershipReviewSummary, "PartnershipReviewSchema")
ReviewConclusionSchema = schema_for(partnership_review.ConclusionView, "ReviewConclusionSchema")


class ReviewConclusionRequest(Schema):
    conclusions = fields.String(required=True, validate=validate.Length(min=1, max=10_000), metadata={
        "description": "what the partners conclude from the review of all mobilities under the MoU"})
    request_revision = fields.Boolean(load_default=False, metadata={
        "description": "start a revision of the MoU with these conclusions as the changes asked for"})


class EvaluationVisibilityRequest(Schema):
    visibility = fields.String(required=True, validate=validate.OneOf(EvaluationVisibility.ALL), metadata={
        "description": "own (each party reads its own evaluation sheet and the action plan) or partners (the "
                       "partner organisations read each other's); a learner reads only their own either way"})


EvaluationVisibilitySchema = schema_for(visibility.VisibilityView, "EvaluationVisibility")


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


@blp.route("/<id:mou_id>/review", methods=["GET"])
@blp.response(200, PartnershipReviewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_partnership_review(mou_id: int) -> Any:
    """The review across every mobility under the MoU: the answers of all evaluation sheets, what the
    parties proposed, the progress of every action plan, earlier conclusions. The MoU's partners only."""
    with authenticated(write=False) as (session, actor):
        return partnership_review.summary(session, actor=actor, mou_id=mou_id)


@blp.route("/<id:mou_id>/review-conclusions", methods=["POST"])
@blp.arguments(ReviewConclusionRequest)
@blp.response(201, ReviewConclusionSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def conclude_partnership_review(body: dict[str, Any], mou_id: int) -> Any:
    """A partner records the review's conclusions (with the summary as read now) and, with
    ``request_revision``, starts the MoU revision: the sending organisation gets the "Draft the MoU" task
    with the conclusions as the changes asked for. 409 when the MoU is not in force or no Partnership
    process waits to revise it."""
    with authenticated() as (session, actor):
        return partnership_review.conclusion_view(partnership_review.conclude(
            session, actor=actor, mou_id=mou_id, conclusions=body["conclusions"],
            request_revision=body["request_revision"]))


@blp.route("/<id:mou_id>/evaluation-visibility", methods=["GET"])
@blp.response(200, EvaluationVisibilitySchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_evaluation_visibility(mou_id: int) -> Any:
    """Who reads the evaluation sheets of the reviews under the MoU (default: each party its own)."""
    with authenticated(write=False) as (session, actor):
        return visibility.view(session, actor=actor, mou_id=mou_id)


@blp.route("/<id:mou_id>/evaluation-visibility", methods=["PUT"])
@blp.arguments(EvaluationVisibilityRequest)
@blp.response(200, EvaluationVisibilitySchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def set_evaluation_visibility(body: dict[str, Any], mou_id: int) -> Any:
    """A member of a signing partner sets who reads the evaluation sheets (audited)."""
    with authenticated() as (session, actor):
        return visibility.set_policy(session, actor=actor, mou_id=mou_id, visibility=body["visibility"])
