"""Marshmallow schemas shared by every resource: pagination, problem documents, signers."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class PageArgs(Schema):
    cursor = fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SignerOut(Schema):
    """Who signed or decided a text (MoU approvals, Learning Agreement signatures, transcripts)."""

    name = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


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
