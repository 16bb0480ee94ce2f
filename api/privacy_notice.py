"""/api/privacy-notice: the privacy notice learners read (public), and acknowledging that you read it."""
from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields, validate

from ecvet.consent import notice
from engine.parties import LANGUAGES

from .deps import authenticated
from .parsing import Blueprint, public
from .schemas import schema_for
from .web import messages

blp = Blueprint("privacy_notice", __name__, url_prefix="/api/privacy-notice",
                description="The privacy notice and its acknowledgements")

NoticeSchema = schema_for(notice.NoticeView, "PrivacyNotice")


class NoticeArgs(Schema):
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES), metadata={
        "description": "en, de, es, nl, fr or it; without it, the request's Accept-Language (else English)"})


class AcknowledgementRequest(Schema):
    version = fields.String(required=True, validate=validate.Length(equal=64), metadata={
        "description": "the version read, as GET /api/privacy-notice gives it: 409 unless it is the current one"})
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class AcknowledgementSchema(Schema):
    id = fields.Integer()
    notice_version = fields.String()
    language = fields.String()
    acknowledged_at = fields.DateTime()


def _language(wanted: str | None) -> str:
    return messages.negotiate(wanted, [tag for tag, quality in request.accept_languages if quality > 0])


@blp.route("", methods=["GET"])
@blp.arguments(NoticeArgs, location="query")
@blp.response(200, NoticeSchema)
@public
def get_notice(args: dict[str, Any]) -> Any:
    language = _language(args["language"])
    return notice.view(messages.english(), messages.catalogue(language), language)


@blp.route("/acknowledgements", methods=["POST"])
@blp.arguments(AcknowledgementRequest)
@blp.response(201, AcknowledgementSchema)
def acknowledge(body: dict[str, Any]) -> Any:
    with authenticated() as (session, actor):
        return notice.acknowledge(session, actor=actor, version=body["version"], language=body["language"],
                                  current=notice.version_of(messages.english()))


@blp.route("/acknowledgements", methods=["GET"])
@blp.response(200, AcknowledgementSchema(many=True))
def list_acknowledgements() -> Any:
    with authenticated(write=False) as (session, actor):
        return notice.acknowledgements_of(session, actor=actor)
