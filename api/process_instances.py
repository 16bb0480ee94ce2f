"""/api/process-instances: start an instance with its party binding; read status, tasks, audit and the
documents it refers to; the operator actions (admins): suspend, resume, terminate, migrate."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.documents import service
from engine import instance_data, instances, operations

from .deps import authenticated
from .parsing import Blueprint, Id, PartyRef
from .schemas import PageArgs, page_schema, schema_for

blp = Blueprint(
    "process_instances", __name__, url_prefix="/api/process-instances", description="Running processes"
)


class StartInstance(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=255))
    version = Id(load_default=None, metadata={"description": "default: the latest version"})
    business_key = fields.String(load_default=None, validate=validate.Length(max=255))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    parties = fields.Dict(
        keys=fields.String(), values=PartyRef(), required=True,
        metadata={"description": "role -> organisation id, or {'organisation_id': n} / {'user_id': n}"},
    )


PartySchema = schema_for(instances.PartyView, "PartySchema")


class InstanceSummary(Schema):
    id = fields.String()
    process_key = fields.String()
    version = fields.Integer()
    business_key = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


ReadyTask = schema_for(instances.ReadyTaskView, "ReadyTask")


class IncidentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String()
    task_id = fields.String(allow_none=True)
    bpmn_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    task_id = fields.String(allow_none=True)
    detail = fields.Dict()


class InstanceDetail(InstanceSummary):
    parties = fields.Dict(keys=fields.String(), values=fields.Nested(PartySchema))
    ready_tasks = fields.List(fields.Nested(ReadyTask))
    incidents = fields.List(fields.Nested(IncidentSchema))
    audit = fields.List(fields.Nested(AuditEventSchema))


class InstanceListArgs(PageArgs):
    process_key = fields.String(load_default=None)
    status = fields.String(load_default=None)
    business_key = fields.String(load_default=None)


class ReasonSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True)


class MigrateSchema(Schema):
    version = Id(load_default=None, metadata={"description": "default: the latest version"})


class MigrationResult(InstanceSummary):
    from_version = fields.Integer()
    to_version = fields.Integer()


class DocumentRefSchema(Schema):
    kind = fields.String()
    record_id = fields.Integer()
    title = fields.String()
    href = fields.String(metadata={"description": "where to get it (add ?format=pdf for the PDF)"})


class DocumentRefList(Schema):
    items = fields.List(fields.Nested(DocumentRefSchema))


def _detail(described: dict[str, Any]) -> dict[str, Any]:
    instance = described.pop("instance")
    out = {name: getattr(instance, name) for name in InstanceSummary().fields}
    out.update(described)
    return out


@blp.route("", methods=["POST"])
@blp.arguments(StartInstance)
@blp.response(201, InstanceDetail)
@blp.alt_response(403, response="FORBIDDEN",
                  description="The process's start rule (startableBy) does not let the caller start it")
@blp.alt_response(409, response="CONFLICT", description="The process's start check refuses the state of its records")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY",
                  description="A binding is missing or invalid, or the process's start check refuses it")
def start(body: dict[str, Any]) -> Any:
    """Start an instance of a deployed process, every role bound to an organisation or one user.

    Who may start it is declared by the process (``startableBy``: members of the organisation bound to
    the roles it names, ``platform`` for nobody but messages; otherwise any party that binds itself)
    and its domain check (``startCheck``); administrators start anything.
    """
    with authenticated() as (session, actor):
        instance = instances.start(session, actor=actor, **body)
        return _detail(instances.describe(session, actor=actor, instance_id=instance.id))


@blp.route("", methods=["GET"])
@blp.arguments(InstanceListArgs, location="query")
@blp.response(200, page_schema(InstanceSummary, "InstancePage"))
def list_(args: dict[str, Any]) -> Any:
    """Instances the caller takes part in (all of them for admins)."""
    with authenticated(write=False) as (session, actor):
        return instances.list_for(session, actor=actor, **args)


@blp.route("/<instance_id>", methods=["GET"])
@blp.response(200, InstanceDetail)
def get(instance_id: str) -> Any:
    with authenticated(write=False) as (session, actor):
        return _detail(instances.describe(session, actor=actor, instance_id=instance_id))


@blp.route("/<instance_id>/documents", methods=["GET"])
@blp.response(200, DocumentRefList)
@blp.alt_response(404, response="NOT_FOUND")
def list_documents(instance_id: str) -> Any:
    """The documents a process instance refers to (MoU, Learning Agreement, ...) that you may read."""
    with authenticated(write=False) as (session, actor):
        refs = service.for_instance(session, actor=actor, instance_id=instance_id)
    return {"items": [{"kind": r.kind, "record_id": r.record_id, "title": r.title,
                       "href": f"/api/documents/{r.kind}/{r.record_id}"} for r in refs]}


# -- operator actions (admins): verbs, because each runs the engine, not a field write --------------------


@blp.route("/<instance_id>/suspend", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, InstanceSummary)
def suspend(body: dict[str, Any], instance_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.suspend(session, actor=actor, instance_id=instance_id, reason=body["reason"])


@blp.route("/<instance_id>/resume", methods=["POST"])
@blp.response(200, InstanceSummary)
def resume(instance_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.resume(session, actor=actor, instance_id=instance_id)


@blp.route("/<instance_id>/terminate", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, InstanceSummary)
def terminate(body: dict[str, Any], instance_id: str) -> Any:
    with authenticated() as (session, actor):
        return operations.terminate(session, actor=actor, instance_id=instance_id, reason=body["reason"])


@blp.route("/<instance_id>/migrate", methods=["POST"])
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


class TaskDataSchema(Schema):
    id = fields.String()
    bpmn_id = fields.String()
    name = fields.String(allow_none=True)
    type = fields.String(metadata={"description": "the kind of element (UserTask, ScriptTask, ...)"})
    state = fields.String(metadata={"description": "completed, ready, started, waiting or error"})
    role = fields.String(allow_none=True)
    form = fields.String(allow_none=True)
    data = fields.Dict(metadata={"description": "the task's data, less what other parties submitted"})
    withheld = fields.List(fields.String(), metadata={"description": "keys other parties submitted, left out"})
    index = fields.Raw(metadata={"description": "multi-instance children: their index (or key)"})
    item = fields.Raw(metadata={"description": "multi-instance children: their input item"})
    instances = fields.List(fields.Dict(), metadata={
        "description": "a multi-instance activity's children in index order, each as a task with its index and item"})


class ProcessDataSchema(Schema):
    data = fields.Dict()
    withheld = fields.List(fields.String())


class InstanceDataSchema(Schema):
    instance_id = fields.String()
    status = fields.String()
    tasks = fields.List(fields.Nested(TaskDataSchema))
    process = fields.Nested(ProcessDataSchema)


@blp.route("/<instance_id>/data", methods=["GET"])
@blp.response(200, InstanceDataSchema)
def data(instance_id: str) -> Any:
    """The data the instance holds, task by task in the engine's order, then the process's own.

    For its parties and administrators; what another party submitted in its tasks is withheld from a
    party (as in the audit trail), every key of it listed under ``withheld``.
    """
    with authenticated(write=False) as (session, actor):
        return instance_data.read(session, actor=actor, instance_id=instance_id)
