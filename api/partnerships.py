"""/api/partnerships: partnerships, their profile history and role map, for their parties.

Partnerships, their partner profiles and role maps are written by the Partnership process (task
actions); these routes read them. Each party confirms the role map here (``role-map/confirmations``).
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.partnership import profiles, roles, service, views
from engine.errors import NotFound

from .deps import authenticated
from .parsing import Blueprint, Id
from .partner_profiles import ProfileSchema
from .schemas import PageArgs, SignerIn, page_schema, schema_for

blp = Blueprint("partnerships", __name__, url_prefix="/api/partnerships",
                description="Partnerships: partner profiles and role maps")


PartnershipSummary = schema_for(views.PartnershipView, "PartnershipSummary")
RoleMapEntrySchema = schema_for(views.RoleMapEntryView, "RoleMapEntrySchema")
RoleMapSchema = schema_for(views.RoleMapView, "RoleMapSchema")
MouSummary = schema_for(views.MouSummaryView, "MouSummary")
PartnershipDetail = schema_for(views.PartnershipWithRecords, "PartnershipDetail")


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(PartnershipSummary, "PartnershipPage"))
def list_partnerships(args: dict[str, Any]) -> Any:
    """Partnerships your organisation is a party of (administrators: all)."""
    with authenticated(write=False) as (session, actor):
        return service.list_for(session, actor=actor, cursor=args["cursor"], limit=args["limit"])


@blp.route("/<id:partnership_id>", methods=["GET"])
@blp.response(200, PartnershipDetail)
def get_partnership(partnership_id: int) -> Any:
    """The partnership with each partner's current profile, the current role map and its MoU."""
    with authenticated(write=False) as (session, actor):
        return views.partnership(session, actor=actor, partnership_id=partnership_id)


@blp.route("/<id:partnership_id>/profiles", methods=["GET"])
@blp.response(200, ProfileSchema(many=True))
def list_profiles(partnership_id: int) -> Any:
    """Every profile saved in the partnership, oldest first (a save never overwrites an earlier one)."""
    with authenticated(write=False) as (session, actor):
        return [views.profile(session, p)
                for p in profiles.history(session, actor=actor, partnership_id=partnership_id)]


class RoleMapConfirmationRequest(Schema):
    role_map_id = Id(required=True, metadata={"description": "the role map you read and confirm (the current one)"})
    jurisdiction = fields.String(required=True, validate=validate.Length(min=1, max=10_000), metadata={
        "description": "what of the role map lies within your organisation's jurisdiction"})
    beyond = fields.String(load_default=None, validate=validate.Length(max=10_000), metadata={
        "description": "what lies beyond it (functions or places another body holds)"})
    organisation_id = Id(load_default=None, metadata={
        "description": "only when you belong to several parties of the partnership"})
    signer = fields.Nested(SignerIn, load_default=None, metadata={
        "description": "position and place; the signer is you, the signed-in member"})


@blp.route("/<id:partnership_id>/role-map/confirmations", methods=["POST"])
@blp.arguments(RoleMapConfirmationRequest)
@blp.response(201, RoleMapSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def confirm_role_map(body: dict[str, Any], partnership_id: int) -> Any:
    """Confirm the current role map for your organisation (a partner or competent institution of the
    partnership), signed by you: what lies within its jurisdiction and what beyond. 409 when the map
    changed since you read it or your organisation confirmed it already. Returns the map with every
    confirmation and who has yet to confirm."""
    with authenticated() as (session, actor):
        roles.confirm(session, actor=actor, partnership_id=partnership_id, **body)
        role_map = roles.get_current(session, actor=actor, partnership_id=partnership_id)
        assert role_map is not None
        return views.role_map(session, role_map)


@blp.route("/<id:partnership_id>/role-map", methods=["GET"])
@blp.response(200, RoleMapSchema)
def get_role_map(partnership_id: int) -> Any:
    """Who holds which ECVET function in each country, as the partners mapped it (404 before they did)."""
    with authenticated(write=False) as (session, actor):
        role_map = roles.get_current(session, actor=actor, partnership_id=partnership_id)
        if role_map is None:
            raise NotFound(f"Partnership {partnership_id} has no role map yet")
        return views.role_map(session, role_map)

