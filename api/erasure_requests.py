"""/api/erasure-requests: a learner's request to erase their
personal data (GDPR Art. 17), recorded by the learner, their guardian while a minor or the sending
organisation (``POST /api/learners/{id}/erasure-requests``), and answered by the sending organisation
within one month: carried out or refused."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.privacy import service, views
from ecvet.privacy.models import ErasureStatus

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("erasure_requests", __name__, url_prefix="/api/erasure-requests",
                description="Erasure of a learner's personal data (GDPR Art. 17)")

ErasureRequestOut = schema_for(views.ErasureRequestView, "ErasureRequestOut")


class Answer(Schema):
    status = fields.String(required=True,
                           validate=validate.OneOf((ErasureStatus.CARRIED_OUT, ErasureStatus.REFUSED)))
    reason = fields.String(load_default=None, metadata={"description": "when refused: why, in words the learner "
                                                                       "reads (1-2000 characters)"})


@blp.route("", methods=["GET"])
@blp.response(200, ErasureRequestOut(many=True))
def open_erasure_requests() -> Any:
    """The requests your organisations have to answer, oldest first, each with its deadline (one month)."""
    with authenticated(write=False) as (session, actor):
        return [views.erasure_request(session, r) for r in service.open_for(session, actor=actor)]


@blp.route("/<id:request_id>", methods=["GET"])
@blp.response(200, ErasureRequestOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_erasure_request(request_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.erasure_request(session, service.get(session, actor=actor, request_id=request_id))


@blp.route("/<id:request_id>", methods=["PATCH"])
@blp.arguments(Answer)
@blp.response(200, ErasureRequestOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def answer(body: dict[str, Any], request_id: int) -> Any:
    """Answer the request (a member of the sending organisation): ``{"status": "carried_out"}`` erases the
    learner's data except the signed evidence that must be kept (refused instead, with the reason, while
    one of the learner's mobilities runs); ``{"status": "refused", "reason": "..."}`` refuses it."""
    with authenticated() as (session, actor):
        if body["status"] == ErasureStatus.CARRIED_OUT:
            row = service.carry_out(session, actor=actor, request_id=request_id)
        else:
            row = service.refuse(session, actor=actor, request_id=request_id, note=body.get("reason"))
        return views.erasure_request(session, row)
