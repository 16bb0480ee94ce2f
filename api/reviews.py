"""/api/reviews: the reviews of mobilities, with their evaluation sheets and action plan, for their parties.

Written by the Review process (task actions); these routes read them. The parties of a review are its
sending and hosting organisations and the learner; anyone else gets 404.
"""
from __future__ import annotations

from typing import Any

from ecvet.review import service, views

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema, schema_for

blp = Blueprint("reviews", __name__, url_prefix="/api/reviews",
                description="Reviews of mobilities: evaluations and action plans")

ReviewSummary = schema_for(views.ReviewView, "ReviewSummary")
ReviewDetail = schema_for(views.ReviewWithRecords, "ReviewDetail")


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
