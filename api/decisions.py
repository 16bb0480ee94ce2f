"""/api/decisions: evaluate a deployed DMN decision, as Camunda's decision-definition evaluate does."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine import decisions

from .deps import authenticated
from .parsing import Blueprint

blp = Blueprint("decisions", __name__, url_prefix="/api/decisions", description="DMN decisions, deployed on their own "
                "or with processes")


class EvaluateDecision(Schema):
    inputs = fields.Dict(keys=fields.String(), load_default=dict,
                         metadata={"description": "the variables the decision's input expressions read"})
    version = fields.Integer(load_default=None, metadata={"description": "a version; the latest by default"})


class DecisionResult(Schema):
    key = fields.String()
    version = fields.Integer()
    outputs = fields.Raw(metadata={"description": "the matching rule's outputs ({} when none matches; "
                                                  "a COLLECT table gives a list per output)"})


@blp.route("/<key>/evaluate", methods=["POST"])
@blp.arguments(EvaluateDecision)
@blp.response(200, DecisionResult)
def evaluate(body: dict[str, Any], key: str) -> Any:
    """Evaluate the latest (or a named) version of a deployed decision for the inputs given.

    Any signed-in user; 404 for an unknown decision, 422 when the table fails on these inputs.
    """
    with authenticated() as (session, actor):
        return decisions.evaluate_deployed(session, actor=actor, key=key, inputs=body["inputs"],
                                           version=body["version"])
