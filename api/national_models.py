"""/api/national-models: what a country's national model requires (the deployed decision table)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.national_models import service

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("national_models", __name__, url_prefix="/api/national-models",
                description="National models: MoU and Learning Agreement approval, recognition, per country")


NationalModelSchema = schema_for(service.NationalModel, "NationalModelSchema")


class DecideArgs(Schema):
    country = fields.String(required=True, validate=validate.Length(equal=2),
                            metadata={"description": "ISO 3166-1 alpha-2"})
    sector = fields.String(load_default=None)
    eqf_level = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))


@blp.route("/decision", methods=["GET"])
@blp.arguments(DecideArgs, location="query")
@blp.response(200, NationalModelSchema)
def decide(args: dict[str, Any]) -> Any:
    """Evaluate the deployed national models table (illustrative rows, not legal advice)."""
    with authenticated(write=False) as (session, _actor):
        return service.decide(args["country"], args["sector"], args["eqf_level"], session=session)
