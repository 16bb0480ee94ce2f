"""/api/evaluations: one evaluation sheet of a review (sending, hosting or learner), for the review's parties."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ecvet.review import service, views

from .deps import authenticated
from .parsing import Blueprint

blp = Blueprint("evaluations", __name__, url_prefix="/api/evaluations", description="Evaluation sheets of reviews")

ANSWER = "yes | partly | no"


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


@blp.route("/<id:evaluation_id>", methods=["GET"])
@blp.response(200, EvaluationSchema)
def get_evaluation(evaluation_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.evaluation(service.get_evaluation(session, actor=actor, evaluation_id=evaluation_id))
