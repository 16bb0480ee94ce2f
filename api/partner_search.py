"""/api/partner-search: registered organisations by what their profiles offer (country, sector, qualification,
unit), and a comparison of a home qualification's units with one organisation's offer."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.partnership import search

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import schema_for

blp = Blueprint("partner_search", __name__, url_prefix="/api/partner-search",
                description="Partner search: who offers what, and how it compares with your qualification")

PartnerMatchOut = schema_for(search.PartnerMatch, "PartnerMatchOut")
ComparisonOut = schema_for(search.Comparison, "ComparisonOut")


class SearchArgs(Schema):
    country = fields.String(load_default=None, metadata={"description": "ISO 3166-1 alpha-2, e.g. ES"})
    sector = fields.String(load_default=None, metadata={"description": "a sector code (/api/national-models/codes)"})
    qualification = fields.String(load_default=None, validate=validate.Length(max=200),
                                  metadata={"description": "words of an offered qualification's title"})
    unit = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "words of an offered unit's code, title or learning outcomes"})


class SearchOut(Schema):
    results = fields.List(fields.Nested(PartnerMatchOut))


class ComparisonArgs(Schema):
    qualification_id = Id(required=True, metadata={"description": "the home qualification (a registered one)"})


@blp.route("", methods=["GET"])
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchOut)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def find(args: dict[str, Any]) -> Any:
    """Organisations other than yours whose newest partner profile matches every filter given (by name, at
    most 100). Shows what profiles offer, never their contact persons."""
    with authenticated(write=False) as (session, actor):
        return {"results": search.search(session, actor=actor, **args)}


@blp.route("/<id:organisation_id>/comparison", methods=["GET"])
@blp.arguments(ComparisonArgs, location="query")
@blp.response(200, ComparisonOut)
@blp.alt_response(404, response="NOT_FOUND")
def comparison(args: dict[str, Any], organisation_id: int) -> Any:
    """The home qualification's units side by side with the organisation's offer: the same code, a similar
    unit (words in common) or not offered, and what the organisation offers besides."""
    with authenticated(write=False) as (session, actor):
        return search.compare(session, actor=actor, organisation_id=organisation_id,
                              qualification_id=args["qualification_id"])
