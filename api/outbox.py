"""/api/outbox: e-mails the platform sent (or, without SMTP, would send): the development mailbox."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine import notifications

from .deps import authenticated
from .parsing import Blueprint
from .schemas import PageArgs, page_schema

blp = Blueprint("outbox", __name__, url_prefix="/api/outbox",
                description="Notification e-mails: administrators see all, others their own")


class OutboxMessageSchema(Schema):
    id = fields.Integer()
    to = fields.String(attribute="to_email", metadata={"description": "recipient e-mail"})
    subject = fields.String()
    body = fields.String()
    kind = fields.String(metadata={"description": "assigned, due_soon or overdue"})
    task_id = fields.String(allow_none=True)
    instance_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True, metadata={"description": "null when delivery failed"})
    transport = fields.String(metadata={"description": "outbox (recorded only) or smtp"})
    error = fields.String(allow_none=True, metadata={"description": "why delivery failed"})


class OutboxArgs(PageArgs):
    to = fields.String(load_default=None, metadata={"description": "only messages to this e-mail"})
    task_id = fields.String(load_default=None)
    instance_id = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(notifications.EVENTS))


@blp.route("", methods=["GET"])
@blp.arguments(OutboxArgs, location="query")
@blp.response(200, page_schema(OutboxMessageSchema, "OutboxPage"))
def list_(args: dict[str, Any]) -> Any:
    """Oldest first. Administrators see every message; anyone else only messages to their own e-mail."""
    with authenticated(write=False) as (session, actor):
        return notifications.list_outbox(session, actor=actor, **args)
