"""/api/signals: broadcast a BPMN signal to every waiting instance the caller may reach."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine import signals

from .deps import authenticated
from .parsing import Blueprint

blp = Blueprint("signals", __name__, url_prefix="/api/signals", description="BPMN signals, broadcast to parties")


class SendSignal(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=signals.MAX_NAME),
                         metadata={"description": "the bpmn:signal name"})
    payload = fields.Dict(keys=fields.String(), load_default=None,
                          metadata={"description": "lands in each catch's spiffworkflow:variableName"})


class SignalResult(Schema):
    delivered_to = fields.List(fields.String(), metadata={"description": "the instances that caught it (maybe none)"})


@blp.route("", methods=["POST"])
@blp.arguments(SendSignal)
@blp.response(200, SignalResult, description="Delivered to every waiting instance the caller may reach")
def send(body: dict[str, Any]) -> Any:
    """Broadcast a signal: every waiting catch of that name in the instances the caller may reach.

    Administrators reach every instance; anyone else only instances in which their organisation (or
    they) take part. A signal nobody waits for is not kept: ``delivered_to`` is then empty.
    """
    with authenticated() as (session, actor):
        delivered = signals.broadcast(session, actor=actor, name=body["name"], payload=body["payload"])
    return {"delivered_to": delivered}
