"""/api/europass-mobilities: the Europass Mobility of a completed mobility, issued by the sending organisation
and signed off by the host and the sending organisation (as data here; as PDF at
/api/documents/europass-mobility/{id}?format=pdf)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.europass import service, views
from ecvet.europass.models import EuropassParty

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import schema_for

blp = Blueprint("europass_mobilities", __name__, url_prefix="/api/europass-mobilities",
                description="Europass Mobility: a completed learning period abroad, signed off by both organisations")

EuropassOut = schema_for(views.EuropassView, "EuropassOut")


class IssueRequest(Schema):
    mobility_id = Id(required=True, metadata={"description": "a recognised mobility of your organisation"})
    objective = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=service.MAX_TEXT),
                              metadata={"description": "the objective of the learning abroad, in words"})
    skills = fields.Dict(keys=fields.String(validate=validate.OneOf(service.SKILLS)), values=fields.String(),
                         load_default=None, allow_none=True, metadata={
                             "description": f"skills acquired, in words, by kind: {', '.join(service.SKILLS)}"})


class SignRequest(Schema):
    party = fields.String(required=True, validate=validate.OneOf(EuropassParty.ALL),
                          metadata={"description": "the organisation you sign off for: hosting or sending"})
    content_hash = fields.String(required=True, validate=validate.Length(equal=64),
                                 metadata={"description": "the SHA-256 of the text you read (409 when stale)"})
    signer = fields.Dict(load_default=None, allow_none=True, metadata={
        "description": "your position and place; name and e-mail come from your account"})


class ListArgs(Schema):
    learner_id = Id(required=True)


@blp.route("", methods=["POST"])
@blp.arguments(IssueRequest)
@blp.response(201, EuropassOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def issue(body: dict[str, Any]) -> Any:
    """Issue the Europass Mobility of a recognised mobility (members of its sending organisation; once)."""
    with authenticated() as (session, actor):
        return views.europass(session, service.issue(session, actor=actor, **body))


@blp.route("", methods=["GET"])
@blp.arguments(ListArgs, location="query")
@blp.response(200, EuropassOut(many=True))
def list_(args: dict[str, Any]) -> Any:
    """A learner's Europass Mobility documents that you may read (the learner: those signed off by both)."""
    with authenticated(write=False) as (session, actor):
        return [views.europass(session, row)
                for row in service.of_learner(session, actor=actor, learner_id=args["learner_id"])]


@blp.route("/<id:europass_id>", methods=["GET"])
@blp.response(200, EuropassOut)
@blp.alt_response(404, response="NOT_FOUND")
def get(europass_id: int) -> Any:
    """One Europass Mobility: the mobility's organisations and admins; the learner once both signed off."""
    with authenticated(write=False) as (session, actor):
        return views.europass(session, service.get(session, actor=actor, europass_id=europass_id))


@blp.route("/<id:europass_id>/signatures", methods=["POST"])
@blp.arguments(SignRequest)
@blp.response(201, EuropassOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def sign(body: dict[str, Any], europass_id: int) -> Any:
    """Sign the Europass Mobility off for your organisation (hosting or sending), quoting its hash."""
    with authenticated() as (session, actor):
        service.sign(session, actor=actor, europass_id=europass_id, **body)
        return views.europass(session, service.get(session, actor=actor, europass_id=europass_id))
