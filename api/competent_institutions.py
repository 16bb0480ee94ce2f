"""/api/competent-institutions: the registry of who acts as competent institution per country and function."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.national_models import service
from ecvet.national_models.models import CompetenceFunction

from .deps import authenticated
from .parsing import Blueprint, Id

blp = Blueprint("competent_institutions", __name__, url_prefix="/api/competent-institutions",
                description="Competent institutions per country and function")


class CompetenceRequest(Schema):
    organisation_id = Id(required=True)
    country = fields.String(required=True, validate=validate.Length(equal=2),
                            metadata={"description": "ISO 3166-1 alpha-2 of the country it acts for"})
    function = fields.String(required=True, validate=validate.OneOf(CompetenceFunction.REGISTERED))
    region = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8), metadata={
        "description": "only in this region (ISO 3166-2 or NUTS); empty: the whole country"})
    sector = fields.String(load_default=None, allow_none=True, metadata={
        "description": "only for this sector code; empty: every sector"})
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))


class CompetenceSchema(Schema):
    id = fields.Integer()
    organisation_id = fields.Integer()
    country = fields.String()
    function = fields.String(metadata={"description": ", ".join(CompetenceFunction.REGISTERED)})
    region = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CompetenceArgs(Schema):
    country = fields.String(load_default=None, validate=validate.Length(equal=2))
    function = fields.String(load_default=None, validate=validate.OneOf(CompetenceFunction.REGISTERED))
    region = fields.String(load_default=None, validate=validate.Length(max=8),
                           metadata={"description": "rows of this region and the country-wide ones"})
    sector = fields.String(load_default=None, metadata={"description": "rows of this sector and the general ones"})


@blp.route("", methods=["POST"])
@blp.arguments(CompetenceRequest)
@blp.response(201, CompetenceSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def register_competence(body: dict[str, Any]) -> Any:
    """Register an organisation as the competent institution for a function in a country (admins).

    The national model says whether e.g. MoU approval needs a competent institution; this registry says
    which organisation that is. 409 when already registered, 422 for an unknown organisation."""
    with authenticated() as (session, actor):
        return service.register_competence(session, actor=actor, **body)


@blp.route("", methods=["GET"])
@blp.arguments(CompetenceArgs, location="query")
@blp.response(200, CompetenceSchema(many=True))
def list_competences(args: dict[str, Any]) -> Any:
    """The registry of competent institutions, optionally for one country or function (signed in)."""
    with authenticated(write=False) as (session, actor):
        return service.list_competences(session, actor=actor, **args)
