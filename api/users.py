"""/api/users: people who sign in; admins create them, everyone can read themself at /api/users/me."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine import parties

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema

blp = Blueprint("users", __name__, url_prefix="/api/users", description="Users")


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, load_only=True)
    is_admin = fields.Boolean(load_default=False)
    is_active = fields.Boolean(dump_only=True)
    organisation_ids = fields.List(Id(), load_default=list)
    position = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "the position this person signs in (e.g. VET coordinator); signing forms are filled from it"})
    place = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "where this person usually signs (e.g. Köln); signing forms are filled from it"})
    language = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "the language of the pages for this person (none: the browser's Accept-Language)"})
    created_at = fields.DateTime(dump_only=True)


class SigningProfileSchema(Schema):
    """What a person may change about themself: what a signature takes beyond the account."""

    position = fields.String(allow_none=True, validate=validate.Length(max=200))
    place = fields.String(allow_none=True, validate=validate.Length(max=200))
    language = fields.String(allow_none=True, validate=validate.OneOf(parties.LANGUAGES), metadata={
        "description": "the language of the pages (en, de, es, nl, fr, it); null: the browser's Accept-Language"})


@blp.route("", methods=["POST"])
@blp.arguments(UserSchema)
@blp.response(201, UserSchema)
def create(body: dict[str, Any]) -> Any:
    with authenticated() as (session, actor):
        return parties.create_user(session, actor=actor, **body)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(UserSchema, "UserPage"))
def list_(args: dict[str, Any]) -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.list_users(session, actor=actor, cursor=args["cursor"], limit=args["limit"])


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
def me() -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.get_user(session, actor=actor, user_id=actor.user_id)


@blp.route("/me", methods=["PATCH"])
@blp.arguments(SigningProfileSchema)
@blp.response(200, UserSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def update_me(body: dict[str, Any]) -> Any:
    """Change your signing profile (position, place). Your name and e-mail come with your account: a
    signature always takes them from it."""
    with authenticated() as (session, actor):
        return parties.update_profile(session, actor=actor, user_id=actor.user_id, changes=body)


@blp.route("/<id:user_id>", methods=["GET"])
@blp.response(200, UserSchema)
def get(user_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.get_user(session, actor=actor, user_id=user_id)
