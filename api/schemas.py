"""Marshmallow schemas shared by every resource: pagination, problem documents, signers."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class PageArgs(Schema):
    cursor = fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SignerOut(Schema):
    """Who signed or decided a text (MoU approvals, Learning Agreement signatures, transcripts,
    validation and recognition decisions, assessment sheets): the signed-in account, never a typed name."""

    user_id = fields.Integer(allow_none=True, metadata={
        "description": "the account that signed; null for an approval by silence, a parent's signature on paper "
                       "recorded by the school, and signatures recorded before signers were accounts"})
    name = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    place = fields.String(allow_none=True, metadata={"description": "where the signer signed"})


class SignerIn(Schema):
    """What a signature asks of the signer: only what the account does not know. Name and e-mail are
    taken from the signed-in account; older clients may still send them, and they must be yours (422)."""

    position = fields.String(validate=validate.Length(max=200), metadata={
        "description": "the position you sign in; from your profile (PATCH /api/users/me) when left out"})
    place = fields.String(validate=validate.Length(max=200), metadata={
        "description": "where you sign; from your profile when left out"})
    name = fields.String(validate=validate.Length(max=200), metadata={
        "description": "deprecated: must be the signed-in person's name"})
    email = fields.String(validate=validate.Length(max=254), metadata={
        "description": "deprecated: must be the signed-in person's e-mail"})


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Raw(metadata={"description": "per-field messages, or a list of {file, element_id, message}"})


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A paged list of `item`, one helper for every list endpoint."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "next_cursor": fields.String(allow_none=True)},
        name=name,
    )
