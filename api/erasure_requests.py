"""/api/erasure-requests and /api/learners/{id}/erasure-requests: a learner's request to erase their
personal data (GDPR Art. 17), recorded by the learner, their guardian while a minor or the sending
organisation, and carried out or refused by the sending organisation within one month."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ecvet.privacy import service, views

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("erasure_requests", __name__, url_prefix="/api",
                description="Erasure of a learner's personal data (GDPR Art. 17)")

ErasureRequestOut = schema_for(views.ErasureRequestView, "ErasureRequestOut")


class Refusal(Schema):
    reason = fields.String(required=True, metadata={"description": "why, in words the learner reads (1-2000 "
                                                                   "characters)"})


@blp.route("/learners/<id:learner_id>/erasure-requests", methods=["POST"])
@blp.response(201, ErasureRequestOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def request_erasure(learner_id: int) -> Any:
    """Ask for the learner's data to be erased: the learner, their guardian while a minor, or a member of
    the sending organisation on the learner's behalf (409 while another request waits)."""
    with authenticated() as (session, actor):
        return views.erasure_request(session, service.request(session, actor=actor, learner_id=learner_id))


@blp.route("/learners/<id:learner_id>/erasure-requests", methods=["GET"])
@blp.response(200, ErasureRequestOut(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def learner_erasure_requests(learner_id: int) -> Any:
    """The learner's erasure requests and their answers."""
    with authenticated(write=False) as (session, actor):
        return [views.erasure_request(session, r) for r in service.of_learner(session, actor=actor,
                                                                              learner_id=learner_id)]


@blp.route("/erasure-requests", methods=["GET"])
@blp.response(200, ErasureRequestOut(many=True))
def open_erasure_requests() -> Any:
    """The requests your organisations have to answer, oldest first, each with its deadline (one month)."""
    with authenticated(write=False) as (session, actor):
        return [views.erasure_request(session, r) for r in service.open_for(session, actor=actor)]


@blp.route("/erasure-requests/<id:request_id>", methods=["GET"])
@blp.response(200, ErasureRequestOut)
@blp.alt_response(404, response="NOT_FOUND")
def get_erasure_request(request_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.erasure_request(session, service.get(session, actor=actor, request_id=request_id))


@blp.route("/erasure-requests/<id:request_id>/carry-out", methods=["POST"])
@blp.response(200, ErasureRequestOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def carry_out(request_id: int) -> Any:
    """Erase the learner's data except the signed evidence that must be kept (a member of the sending
    organisation); refused instead, with the reason, while one of the learner's mobilities runs."""
    with authenticated() as (session, actor):
        return views.erasure_request(session, service.carry_out(session, actor=actor, request_id=request_id))


@blp.route("/erasure-requests/<id:request_id>/refuse", methods=["POST"])
@blp.arguments(Refusal)
@blp.response(200, ErasureRequestOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def refuse(body: dict[str, Any], request_id: int) -> Any:
    """Refuse the request, saying why (a member of the sending organisation)."""
    with authenticated() as (session, actor):
        return views.erasure_request(session, service.refuse(session, actor=actor, request_id=request_id,
                                                             note=body["reason"]))
