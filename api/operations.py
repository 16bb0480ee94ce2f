"""Operator controls (admins): suspend, resume, terminate, migrate, incidents and retry, due dates."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine import operations

from .deps import authenticated
from .instances import IncidentSchema, InstanceSummary
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema
from .tasks import TaskSchema

blp = Blueprint("operations", __name__, url_prefix="/api", description="Operator controls (administrators)")


class ReasonSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True)


class MigrateSchema(Schema):
    version = Id(load_default=None, metadata={"description": "default: the latest version"})


class MigrationResult(InstanceSummary):
    from_version = fields.Integer()
    to_version = fields.Integer()


class IncidentListArgs(PageArgs):
    open = fields.Boolean(load_default=True, metadata={"description": "only unresolved incidents"})
    instance_id = fields.String(load_default=None)


class IncidentDetail(IncidentSchema):
    instance_id = fields.String()


class RetrySchema(Schema):
    data = fields.Dict(keys=fields.String(), load_default=None, allow_none=True,
                       metadata={"description": "corrected values merged into the failed task's data"})


class DueDateSchema(Schema):
    due_at = fields.AwareDateTime(required=True, allow_none=True, format="iso",
                                  metadata={"description": "ISO 8601 with offset; null clears it"})


@blp.route("/process-instances/<instance_id>/suspend", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, InstanceSummary)
def suspend(body: dict[str, Any], instance_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.suspend(session, actor=actor, instance_id=instance_id, reason=body["reason"])


@blp.route("/process-instances/<instance_id>/resume", methods=["POST"])
@blp.response(200, InstanceSummary)
def resume(instance_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.resume(session, actor=actor, instance_id=instance_id)


@blp.route("/process-instances/<instance_id>/terminate", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, InstanceSummary)
def terminate(body: dict[str, Any], instance_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.terminate(session, actor=actor, instance_id=instance_id, reason=body["reason"])


@blp.route("/process-instances/<instance_id>/migrate", methods=["POST"])
@blp.arguments(MigrateSchema)
@blp.response(200, MigrationResult)
def migrate(body: dict[str, Any], instance_id: str) -> Any:
    """Move to another version where the engine's diff says it is safe; 409 names the blockers."""
    with authenticated() as (session, actor):
        result = operations.migrate(session, actor=actor, instance_id=instance_id, version=body["version"])
        instance = result.pop("instance")
        out = {name: getattr(instance, name) for name in InstanceSummary().fields}
        out.update(result)
        return out


@blp.route("/incidents", methods=["GET"])
@blp.arguments(IncidentListArgs, location="query")
@blp.response(200, page_schema(IncidentDetail, "IncidentPage"))
def incidents(args: dict[str, Any]) -> Any:
    with authenticated(write=False) as (session, actor):
        return operations.list_incidents(session, actor=actor, open_only=args["open"],
                                         instance_id=args["instance_id"], cursor=args["cursor"], limit=args["limit"])


@blp.route("/incidents/<id:incident_id>/retry", methods=["POST"])
@blp.arguments(RetrySchema)
@blp.response(200, IncidentDetail)
def retry(body: dict[str, Any], incident_id: int) -> Any:
    with authenticated() as (session, actor):
        return operations.retry_incident(session, actor=actor, incident_id=incident_id, data=body["data"])


@blp.route("/tasks/<task_id>/due-date", methods=["PUT"])
@blp.arguments(DueDateSchema)
@blp.response(200, TaskSchema)
def due_date(body: dict[str, Any], task_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.set_due_date(session, actor=actor, task_id=task_id, due_at=body["due_at"])
