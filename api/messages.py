"""/api/messages: send a BPMN message into the waiting instance, start a process with it, or keep it."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine import messages

from .deps import authenticated
from .parsing import Blueprint, PartyRef
from .schemas import PageArgs, page_schema

blp = Blueprint("messages", __name__, url_prefix="/api/messages", description="BPMN messages between parties")

_KEYS_HELP = ("correlation key name -> {property id: value}, e.g. {\"mobility\": {\"mobility_id\": \"M-1\"}}; "
              "keys present on both sides must agree and, when both have keys, one must be shared")


class SendMessage(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255),
                         metadata={"description": "the bpmn:message name"})
    correlation_keys = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String()),
                                   load_default=dict, metadata={"description": _KEYS_HELP})
    payload = fields.Dict(keys=fields.String(), load_default=dict,
                          metadata={"description": "the message body; it lands in the receiver's messageVariable, "
                                                   "and becomes the variables of a process the message starts"})
    parties = fields.Dict(
        keys=fields.String(), values=PartyRef(), load_default=None,
        metadata={"description": "only used when the message starts a process: role -> organisation id, "
                                 "or {'organisation_id': n} / {'user_id': n}"},
    )
    keep = fields.Boolean(load_default=True,
                          metadata={"description": "keep the message until a matching catch appears (202); "
                                                   "false: 404 when nobody waits for it"})


class MessageResult(Schema):
    delivered_to = fields.String(metadata={"description": "the instance that received the message"})
    started = fields.Boolean(metadata={"description": "whether the message started that instance"})
    pending_message_id = fields.Integer(metadata={"description": "the kept message (202)"})
    expires_at = fields.DateTime(metadata={"description": "when the kept message is dropped"})


class PendingMessageSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    correlation_keys = fields.Dict()
    payload = fields.Dict()
    sender_id = fields.Integer(allow_none=True)
    source_instance_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()


class PendingListArgs(PageArgs):
    include_expired = fields.Boolean(load_default=False, metadata={"description": "also list expired messages"})


@blp.route("", methods=["POST"])
@blp.arguments(SendMessage)
@blp.response(200, MessageResult, description="Delivered to a waiting instance")
@blp.alt_response(201, schema=MessageResult, description="Started an instance with a message start event")
@blp.alt_response(202, schema=MessageResult, description="Nobody waits yet: kept until it expires")
@blp.alt_response(404, response="NOT_FOUND", description="Nobody (the caller may reach) waits, and keep is false")
@blp.alt_response(409, response="CONFLICT", description="Ambiguous: several instances match")
def send(body: dict[str, Any]) -> Any:
    """Deliver a message: 409 when several instances match, 404 when nothing matches and keep is false.

    Admins reach every instance; anyone else only instances in which their organisation (or they)
    take part, and may start a process only by binding themselves in one of its roles.
    """
    with authenticated() as (session, actor):
        result = messages.deliver(session, actor=actor, name=body["name"],
                                  correlation_keys=body["correlation_keys"], payload=body["payload"],
                                  parties=body["parties"], keep=body["keep"])
    if result.kept:
        return {"pending_message_id": result.pending_message_id, "expires_at": result.expires_at}, 202
    return {"delivered_to": result.instance_id, "started": result.started}, 201 if result.started else 200


@blp.route("/pending", methods=["GET"])
@blp.arguments(PendingListArgs, location="query")
@blp.response(200, page_schema(PendingMessageSchema, "PendingMessagePage"))
def pending(args: dict[str, Any]) -> Any:
    """Kept messages that no instance has caught yet (administrators)."""
    with authenticated(write=False) as (session, actor):
        return messages.list_kept(session, actor=actor, include_expired=args["include_expired"],
                                  cursor=args["cursor"], limit=args["limit"])
