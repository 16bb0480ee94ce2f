"""/api/tokens: exchange e-mail and password for a bearer token; list and revoke your tokens."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine import parties

from .deps import authenticated, settings, unit_of_work
from .parsing import Blueprint, public

blp = Blueprint("tokens", __name__, url_prefix="/api/tokens", description="Bearer tokens")


class TokenRequest(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenInfo(Schema):
    id = fields.Integer()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class NewToken(TokenInfo):
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})


@blp.route("", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(201, NewToken)
@public
def create_token(body: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as session:
        token, row = parties.issue_token(session, email=body["email"], password=body["password"],
                                         ttl_days=settings().token_ttl_days)
        return {"token": token, **{k: getattr(row, k) for k in TokenInfo().fields}}


@blp.route("", methods=["GET"])
@blp.response(200, TokenInfo(many=True))
def list_tokens() -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.list_tokens(session, actor=actor)


@blp.route("/<id:token_id>", methods=["DELETE"])
@blp.response(200, TokenInfo)
def revoke_token(token_id: int) -> Any:
    with authenticated() as (session, actor):
        return parties.revoke_token(session, actor=actor, token_id=token_id)
