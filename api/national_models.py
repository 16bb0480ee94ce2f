"""/api/national-models: what a country's national model requires (the deployed decision table)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.national_models import codes, service
from ecvet.national_models.models import CompetenceFunction

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("national_models", __name__, url_prefix="/api/national-models",
                description="National models: MoU and Learning Agreement approval, recognition, per country")


NationalModelSchema = schema_for(service.NationalModel, "NationalModelSchema")


class DecideArgs(Schema):
    country = fields.String(required=True, validate=validate.Length(equal=2),
                            metadata={"description": "ISO 3166-1 alpha-2"})
    region = fields.String(load_default=None, validate=validate.Length(max=8),
                           metadata={"description": "ISO 3166-2 (ES-VC) or NUTS (ES52) of that country"})
    sector = fields.String(load_default=None,
                           metadata={"description": "a sector code (GET /api/national-models/codes)"})
    eqf_level = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))
    qualification_system = fields.String(load_default=None, metadata={"description": "a qualification system code"})


@blp.route("/decision", methods=["GET"])
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


@blp.route("/codes", methods=["GET"])
@blp.response(200, CodeListsSchema)
def code_lists() -> Any:
    """The code lists the national models and the registry use (sectors, qualification systems, functions);
    regions are ISO 3166-2 or NUTS codes."""
    with authenticated(write=False):
        return {"sectors": codes.sectors(), "qualification_systems": codes.qualification_systems(),
                "competence_functions": list(CompetenceFunction.ALL),
                "supporting_functions": list(CompetenceFunction.SUPPORTING)}
