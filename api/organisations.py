"""/api/organisations and members: the parties that lanes are bound to (admin-managed)."""
from __future__ import annotations

import io
from typing import Any

from flask import Response, request, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from ecvet.documents import i18n
from ecvet.mobility import seal
from ecvet.partnership import letterhead
from ecvet.retention import policy, register
from engine import parties
from engine.errors import Invalid

from .deps import authenticated, unit_of_work
from .parsing import Blueprint, Id, public
from .schemas import PageArgs, page_schema, schema_for

blp = Blueprint("organisations", __name__, url_prefix="/api/organisations", description="Organisations")


class OrganisationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    region = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=8), metadata={
        "description": "ISO 3166-2 subdivision (ES-VC) or NUTS code (ES52) within the country"})
    erasmus_oid = fields.String(load_default=None, allow_none=True, metadata={"description": "E + 8 digits"})
    pic = fields.String(load_default=None, allow_none=True, metadata={"description": "9 digits"})
    created_at = fields.DateTime(dump_only=True)


class MemberRequest(Schema):
    user_id = Id(required=True)


class MemberSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()


@blp.route("", methods=["POST"])
@blp.arguments(OrganisationSchema)
@blp.response(201, OrganisationSchema)
def create(body: dict[str, Any]) -> Any:
    with authenticated() as (session, actor):
        return parties.create_organisation(session, actor=actor, **body)


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(OrganisationSchema, "OrganisationPage"))
def list_(args: dict[str, Any]) -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.list_organisations(session, actor=actor, cursor=args["cursor"], limit=args["limit"])


@blp.route("/<id:organisation_id>", methods=["GET"])
@blp.response(200, OrganisationSchema)
def get(organisation_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.get_organisation(session, actor=actor, organisation_id=organisation_id)


@blp.route("/<id:organisation_id>/members", methods=["GET"])
@blp.response(200, MemberSchema(many=True))
def members(organisation_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return parties.list_members(session, actor=actor, organisation_id=organisation_id)


@blp.route("/<id:organisation_id>/members", methods=["POST"])
@blp.arguments(MemberRequest)
@blp.response(201, MemberSchema)
def add_member(body: dict[str, Any], organisation_id: int) -> Any:
    with authenticated() as (session, actor):
        membership = parties.add_member(session, actor=actor, organisation_id=organisation_id,
                                        user_id=body["user_id"])
        return membership.user


@blp.route("/<id:organisation_id>/members/<id:user_id>", methods=["DELETE"])
@blp.response(204)
def remove_member(organisation_id: int, user_id: int) -> None:
    with authenticated() as (session, actor):
        parties.remove_member(session, actor=actor, organisation_id=organisation_id, user_id=user_id)


class PublicKeySchema(Schema):
    kty = fields.String(metadata={"description": "OKP"})
    crv = fields.String(metadata={"description": "Ed25519"})
    x = fields.String(metadata={"description": "the public key, base64url (RFC 8037)"})
    kid = fields.String(metadata={"description": "the key id a credential's proof names"})
    created = fields.String()


class PublicKeysOut(Schema):
    keys = fields.List(fields.Nested(PublicKeySchema))


@blp.route("/<id:organisation_id>/keys", methods=["GET"])
@blp.response(200, PublicKeysOut)
@blp.alt_response(404, response="NOT_FOUND")
@public
def keys(organisation_id: int) -> Any:
    """The public keys (JWK) the organisation signs its learners' credentials with: anyone may check a
    credential's key against them, no sign-in."""
    with unit_of_work(write=False) as session:
        return {"keys": seal.keys_of(session, organisation_id)}


LetterheadOut = schema_for(letterhead.LetterheadView, "LetterheadOut")


class LogoUpload(Schema):
    """The multipart body's file; the address and ``remove_logo`` are form fields beside it."""

    logo = Upload(load_default=None, metadata={"description": (
        f"PNG or JPEG (by content), at most {letterhead.MAX_BYTES // 1024} KB and {letterhead.MAX_SIDE} pixels a "
        "side; stored re-encoded as a plain PNG. Without it the previous logo is kept")})


class LetterheadForm(Schema):
    address = fields.String(load_default=None, allow_none=True, metadata={
        "description": f"the postal address, at most {letterhead.MAX_ADDRESS} characters on "
                       f"{letterhead.MAX_ADDRESS_LINES} lines"})
    remove_logo = fields.Boolean(load_default=False)


def _letterhead_form() -> dict[str, Any]:
    try:
        return LetterheadForm().load({k: v for k, v in request.form.items() if k in LetterheadForm().fields})
    except ValidationError as exc:
        raise Invalid("The letterhead is not valid", errors=exc.messages) from exc


@blp.route("/<id:organisation_id>/letterhead", methods=["GET"])
@blp.response(200, LetterheadOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_letterhead(organisation_id: int) -> Any:
    """The letterhead the organisation's documents print (members and administrators)."""
    with authenticated(write=False) as (session, actor):
        return letterhead.get(session, actor=actor, organisation_id=organisation_id)


@blp.route("/<id:organisation_id>/letterhead", methods=["PUT"])
@blp.arguments(LogoUpload, location="files")
@blp.response(200, LetterheadOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def put_letterhead(files: dict[str, Any], organisation_id: int) -> Any:
    """Save the letterhead (multipart: ``address``, ``logo``, ``remove_logo``): members and administrators.
    A logo that is not a PNG or JPEG (an SVG, a script, a polyglot), too large in bytes or pixels, or
    unreadable is refused with 422 and nothing is saved."""
    form = _letterhead_form()
    upload = files.get("logo")
    data = upload.read(letterhead.MAX_BYTES + 1) if upload is not None else None
    with authenticated() as (session, actor):
        letterhead.save(session, actor=actor, organisation_id=organisation_id, address=form["address"],
                        logo_data=data, remove_logo=form["remove_logo"])
        return letterhead.get(session, actor=actor, organisation_id=organisation_id)


@blp.route("/<id:organisation_id>/letterhead/logo", methods=["GET"])
@blp.response(200, description="The stored logo (PNG)")
@blp.alt_response(404, response="NOT_FOUND")
def get_logo(organisation_id: int) -> Response:
    """The logo as stored (a PNG the platform re-encoded), for members and administrators."""
    with authenticated(write=False) as (session, actor):
        png = letterhead.logo(session, actor=actor, organisation_id=organisation_id)
    response = send_file(io.BytesIO(png), mimetype="image/png", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- retention and records of processing (ecvet.retention) -----------------------------------------

_PRIVATE = {"Cache-Control": "private, no-store"}


class RetentionChange(Schema):
    keep_months = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True, strict=True),
                              required=True, metadata={
                                  "description": "{record kind: months} (null: back to the default); kinds as "
                                                 "GET lists with configurable=true"})


class RegisterArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]))
    lang = fields.String(load_default=None, metadata={"description": "PDF texts: de, es, fr, it, nl or en; or two"})


@blp.route("/<id:organisation_id>/retention", methods=["GET"])
@blp.response(200)
def get_policy(organisation_id: int) -> Any:
    """The organisation's retention period of every record kind, its source (organisation, national default,
    platform default) and legal basis. Members of the organisation and administrators; 404 for others."""
    with authenticated(write=False) as (session, actor):
        return policy.view(session, actor=actor, organisation_id=organisation_id)


@blp.route("/<id:organisation_id>/retention", methods=["PUT"])
@blp.arguments(RetentionChange)
@blp.response(200)
def put_policy(body: dict[str, Any], organisation_id: int) -> Any:
    """Set the organisation's own periods (months) for some record kinds; 422 for an unknown kind or a value
    out of 0-360; audited as ``retention.policy_changed``."""
    with authenticated() as (session, actor):
        return policy.change(session, actor=actor, organisation_id=organisation_id, keep_months=body["keep_months"])


@blp.route("/<id:organisation_id>/processing-register", methods=["GET"])
@blp.arguments(RegisterArgs, location="query")
@blp.response(200)
def get_register(args: dict[str, Any], organisation_id: int) -> Any:
    """The organisation's records of processing (GDPR Art. 30), as JSON or, with ``format=pdf``, a PDF."""
    if args["format"] == "pdf":
        languages = i18n.languages(args["lang"])
        with authenticated(write=False) as (session, actor):
            body = register.pdf_bytes(session, actor=actor, organisation_id=organisation_id, languages=languages)
        response = Response(body, mimetype="application/pdf", headers=_PRIVATE)
        response.headers["Content-Disposition"] = f'attachment; filename="processing-register-{organisation_id}.pdf"'
        return response
    with authenticated(write=False) as (session, actor):
        return register.build(session, actor=actor, organisation_id=organisation_id), _PRIVATE
