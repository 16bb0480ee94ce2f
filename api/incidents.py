"""/api/incidents: what went wrong in running processes, and retrying it (administrators)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine import operations

from .deps import authenticated
from .parsing import Blueprint
from .process_instances import IncidentSchema
from .schemas import PageArgs, page_schema

blp = Blueprint("incidents", __name__, url_prefix="/api/incidents", description="Incidents (administrators)")


class IncidentListArgs(PageArgs):
    open = fields.Boolean(load_default=True, metadata={"description": "only unresolved incidents"})
    instance_id = fields.String(load_default=None)


class IncidentDetail(IncidentSchema):
    instance_id = fields.String()


class RetrySchema(Schema):
    data = fields.Dict(keys=fields.String(), load_default=None, allow_none=True,
                       metadata={"description": "corrected values merged into the failed task's data"})


@blp.route("", methods=["GET"])
@blp.arguments(IncidentListArgs, location="query")
@blp.response(200, page_schema(IncidentDetail, "IncidentPage"))
def list_(args: dict[str, Any]) -> Any:
    with authenticated(write=False) as (session, actor):
        return operations.list_incidents(session, actor=actor, open_only=args["open"],
                                         instance_id=args["instance_id"], cursor=args["cursor"], limit=args["limit"])


@blp.route("/<id:incident_id>/retry", methods=["POST"])
@blp.arguments(RetrySchema)
@blp.response(200, IncidentDetail)
def retry(body: dict[str, Any], incident_id: int) -> Any:
    with authenticated() as (session, actor):
        return operations.retry_incident(session, actor=actor, incident_id=incident_id, data=body["data"])
