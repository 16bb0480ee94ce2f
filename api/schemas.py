"""Marshmallow schemas shared by every resource: pagination, problem documents, signers, and the schema of
a domain view.

What a reader sees is described once, as a view: a TypedDict in ecvet/*/views.py (or a dataclass the
domain answers with) names its keys, their types and their descriptions (``Annotated[str, "a | b"]``).
:func:`schema_for` turns a view into the marshmallow schema a route answers with, so the OpenAPI document
is still generated from marshmallow, and mypy checks each view's builder against the same description.
"""
from __future__ import annotations

import dataclasses
import types
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from marshmallow import Schema, fields, validate

from ecvet import signing

#: The field of each plain type a view may use.
SCALARS: dict[Any, type[fields.Field]] = {
    int: fields.Integer, str: fields.String, bool: fields.Boolean, float: fields.Float,
    date: fields.Date, datetime: fields.DateTime, Any: fields.Raw,
}
#: The schema made for each view, so a view nested in several outputs is one component of the document.
_MADE: dict[Any, type[Schema]] = {}


def schema_for(view: Any, name: str, *, exclude: tuple[str, ...] = ()) -> type[Schema]:
    """The schema of `view` (a TypedDict, or a dataclass the domain answers with), named `name` in the
    OpenAPI document; `exclude` leaves out keys the domain keeps for itself. A view nested in it is shown
    as the schema made for that view (looked up when the OpenAPI document or an answer is made, so module
    order does not matter)."""
    hints = get_type_hints(view, include_extras=True)
    unknown = set(exclude) - set(hints)
    if unknown:
        raise TypeError(f"{view.__name__} has no key {sorted(unknown)}")
    made = Schema.from_dict({key: field_for(hint) for key, hint in hints.items() if key not in exclude}, name=name)
    _MADE.setdefault(view, made)  # the API shows a view one way wherever it nests
    return made


def _made_for(view: Any) -> type[Schema]:
    """The schema the API shows `view` as: the one a resource module made, else one named after the view."""
    return _MADE.get(view) or schema_for(view, view.__name__)


def field_for(hint: Any, **options: Any) -> fields.Field:
    """The marshmallow field of one key of a view: ``X | None`` allows null, ``Annotated[X, "text"]``
    describes it, ``list``/``dict`` of views nest."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        described = [extra for extra in hint.__metadata__ if isinstance(extra, str)]
        return field_for(args[0], **options, metadata={"description": described[0]} if described else {})
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return field_for(inner, **options, allow_none=True)
    return _plain_field(hint, **options)


def _plain_field(hint: Any, **options: Any) -> fields.Field:
    """The field of a type that is neither described nor nullable: a nested view, a list, a dict, a scalar."""
    origin, args = get_origin(hint), get_args(hint)
    if is_typeddict(hint) or dataclasses.is_dataclass(hint):
        return fields.Nested(lambda: _made_for(hint), **options)  # late: the module naming it may load later
    if origin is list:
        return fields.List(field_for(args[0]), **options)
    if origin is dict or hint is dict:
        values = field_for(args[1]) if args and args[1] is not Any else None
        return fields.Dict(**options) if values is None else fields.Dict(keys=fields.String(), values=values, **options)
    if hint not in SCALARS:
        raise TypeError(f"a view cannot hold {hint!r}: use int, str, bool, float, date, datetime, lists, dicts, views")
    return SCALARS[hint](**options)


class PageArgs(Schema):
    cursor = fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


SignerOut = schema_for(signing.SignerView, "SignerOut")


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
