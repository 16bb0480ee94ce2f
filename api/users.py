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
    created_at = fields.DateTime(dump_only=True)


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


@blp.route("/<id:user_id>", methods=["GET"])
@blp.response(200, UserSchema)
def get(user_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.get_user(session, actor=actor, user_id=user_id)
