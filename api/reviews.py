"""/api/reviews, /api/evaluations and /api/action-plans: the reviews of mobilities for their parties.

Evaluation sheets and action plans are written by the Review process (task actions); these routes
read them, and let the owner of an action (or the sending organisation) move it on. The parties of a
review are its sending and hosting organisations and the learner; anyone else gets 404.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.review import service, views
from ecvet.review.models import ActionItemStatus

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema

blp = Blueprint("reviews", __name__, url_prefix="/api", description="Reviews of mobilities: evaluations and "
                                                                      "action plans")

ANSWER = "yes | partly | no"


class ReviewSummary(Schema):
    id = fields.Integer()
    instance_id = fields.String(allow_none=True, metadata={"description": "the Review process instance"})
    mobility_id = fields.Integer()
    mou_id = fields.Integer(allow_none=True)
    sending_organisation_id = fields.Integer()
    hosting_organisation_id = fields.Integer()
    learner_user_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "evaluating | planned | revision_requested | completed"})
    mou_version_reviewed = fields.Integer(allow_none=True, metadata={
        "description": "the MoU version in force when the review asked for a revision"})
    mou_version_revised = fields.Integer(allow_none=True, metadata={"description": "the version that came of it"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class UnitRemarkSchema(Schema):
    unit = fields.String()
    remark = fields.String()


class EvaluationSchema(Schema):
    id = fields.Integer()
    review_id = fields.Integer()
    party = fields.String(metadata={"description": "sending | hosting | learner"})
    organisation_id = fields.Integer(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    outcomes_appropriate = fields.String(metadata={
        "description": f"were the learning outcomes agreed for the mobility appropriate? {ANSWER}"})
    outcomes_comment = fields.String(allow_none=True)
    evidence_sufficient = fields.String(metadata={
        "description": f"did the assessment documentation give sufficient evidence for recognition? {ANSWER}"})
    evidence_comment = fields.String(allow_none=True)
    strengths = fields.String(allow_none=True)
    changes_proposed = fields.String(allow_none=True)
    unit_remarks = fields.List(fields.Nested(UnitRemarkSchema))
    created_at = fields.DateTime()


class ActionItemSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    action = fields.String()
    owner = fields.String(metadata={"description": "sending | hosting | learner"})
    owner_organisation_id = fields.Integer(allow_none=True)
    owner_user_id = fields.Integer(allow_none=True, metadata={"description": "set when the learner owns it"})
    owner_name = fields.String(allow_none=True, metadata={"description": "the person responsible, if named"})
    due_date = fields.Date()
    status = fields.String(metadata={"description": "open | in_progress | done | dropped"})
    status_note = fields.String(allow_none=True)
    updated_at = fields.DateTime()
    updated_by = fields.Integer(allow_none=True)


class ActionPlanSchema(Schema):
    id = fields.Integer()
    review_id = fields.Integer()
    summary = fields.String(allow_none=True)
    revise_mou = fields.Boolean()
    mou_changes = fields.String(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    items = fields.List(fields.Nested(ActionItemSchema))


class ReviewDetail(ReviewSummary):
    evaluations = fields.List(fields.Nested(EvaluationSchema))
    action_plan = fields.Nested(ActionPlanSchema, allow_none=True)


class ReviewListArgs(PageArgs):
    mobility_id = Id(load_default=None)


class ItemUpdate(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ActionItemStatus.ALL))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


@blp.route("/reviews", methods=["GET"])
@blp.arguments(ReviewListArgs, location="query")
@blp.response(200, page_schema(ReviewSummary, "ReviewPage"))
def list_reviews(args: dict[str, Any]) -> Any:
    """Reviews you are a party of (administrators: all), optionally of one mobility."""
    with authenticated(write=False) as (session, actor):
        return service.list_for(session, actor=actor, mobility_id=args["mobility_id"], cursor=args["cursor"],
                                limit=args["limit"])


@blp.route("/reviews/<id:review_id>", methods=["GET"])
@blp.response(200, ReviewDetail)
def get_review(review_id: int) -> Any:
    """The review with its evaluation sheets and action plan."""
    with authenticated(write=False) as (session, actor):
        return views.review(session, actor=actor, review_id=review_id)


@blp.route("/evaluations/<id:evaluation_id>", methods=["GET"])
@blp.response(200, EvaluationSchema)
def get_evaluation(evaluation_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.evaluation(service.get_evaluation(session, actor=actor, evaluation_id=evaluation_id))


@blp.route("/action-plans/<id:action_plan_id>", methods=["GET"])
@blp.response(200, ActionPlanSchema)
def get_action_plan(action_plan_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        plan = service.get_action_plan(session, actor=actor, action_plan_id=action_plan_id)
        return views.action_plan(session, plan)


@blp.route("/action-plans/<id:action_plan_id>/items/<id:item_id>", methods=["PATCH"])
@blp.arguments(ItemUpdate)
@blp.response(200, ActionPlanSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def update_item(body: dict[str, Any], action_plan_id: int, item_id: int) -> Any:
    """Move an action on (open, in_progress, done, dropped): its owner or the sending organisation."""
    with authenticated() as (session, actor):
        service.update_item(session, actor=actor, action_plan_id=action_plan_id, item_id=item_id, **body)
        plan = service.get_action_plan(session, actor=actor, action_plan_id=action_plan_id)
        return views.action_plan(session, plan)
