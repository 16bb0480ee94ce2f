"""/api/evaluations: one evaluation sheet of a review (sending, hosting or learner), for the review's parties."""
from __future__ import annotations

from typing import Any

from ecvet.review import service, views

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("evaluations", __name__, url_prefix="/api/evaluations", description="Evaluation sheets of reviews")

UnitRemarkSchema = schema_for(views.UnitRemark, "UnitRemarkSchema")
EvaluationSchema = schema_for(views.EvaluationView, "EvaluationSchema")


@blp.route("/<id:evaluation_id>", methods=["GET"])
@blp.response(200, EvaluationSchema)
def get_evaluation(evaluation_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.evaluation(service.get_evaluation(session, actor=actor, evaluation_id=evaluation_id))
