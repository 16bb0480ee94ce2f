"""/api/reviews: the reviews of mobilities, with their evaluation sheets and action plan, for their parties.

Written by the Review process (task actions); these routes read them. The parties of a review are its
sending and hosting organisations and the learner; anyone else gets 404.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ecvet.review import service, views

from .action_plans import ActionPlanSchema
from .deps import authenticated
from .evaluations import EvaluationSchema
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema

blp = Blueprint("reviews", __name__, url_prefix="/api/reviews",
                description="Reviews of mobilities: evaluations and action plans")

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


class ReviewDetail(ReviewSummary):
    evaluations = fields.List(fields.Nested(EvaluationSchema))
    action_plan = fields.Nested(ActionPlanSchema, allow_none=True)


class ReviewListArgs(PageArgs):
    mobility_id = Id(load_default=None)


@blp.route("", methods=["GET"])
@blp.arguments(ReviewListArgs, location="query")
@blp.response(200, page_schema(ReviewSummary, "ReviewPage"))
def list_reviews(args: dict[str, Any]) -> Any:
    """Reviews you are a party of (administrators: all), optionally of one mobility."""
    with authenticated(write=False) as (session, actor):
        return service.list_for(session, actor=actor, mobility_id=args["mobility_id"], cursor=args["cursor"],
                                limit=args["limit"])


@blp.route("/<id:review_id>", methods=["GET"])
@blp.response(200, ReviewDetail)
def get_review(review_id: int) -> Any:
    """The review with its evaluation sheets and action plan."""
    with authenticated(write=False) as (session, actor):
        return views.review(session, actor=actor, review_id=review_id)
