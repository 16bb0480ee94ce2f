"""/api/tasks: the caller's work, each task's form, and completion validated on the server."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine import tasks
from engine.models import TaskState

from .deps import authenticated
from .parsing import Blueprint
from .schemas import PageArgs, page_schema

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="Human tasks routed to parties")


class TaskSchema(Schema):
    id = fields.String()
    instance_id = fields.String()
    process_key = fields.String()
    bpmn_id = fields.String()
    name = fields.String()
    lane = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    form = fields.String(allow_none=True, metadata={"description": "JSON Schema file name"})
    instructions = fields.String(allow_none=True)
    state = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(metadata={"description": "ready and past its due date"})
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.Integer(allow_none=True)
    completed_on_behalf = fields.Boolean()


class FormSchema(Schema):
    schema = fields.Dict(allow_none=True, metadata={"description": "JSON Schema of the form"})
    values = fields.Dict(metadata={"description": "current values of the form's own fields"})


class TaskDetail(TaskSchema):
    form = fields.Nested(FormSchema)  # type: ignore[assignment]  # the detail nests what the list names
    form_file = fields.String(allow_none=True)


class TaskListArgs(PageArgs):
    state = fields.String(load_default=TaskState.READY, validate=validate.OneOf(TaskState.ALL))
    process_key = fields.String(load_default=None)
    instance_id = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None, metadata={"description": "only overdue (true) or not (false)"})


class CompleteTask(Schema):
    data = fields.Dict(keys=fields.String(), load_default=dict)
    on_behalf = fields.Boolean(
        load_default=False,
        metadata={"description": "admins only: complete another party's task; recorded in the audit trail. "
                                 "Not for tasks that sign (403): a signature is personal"},
    )


@blp.route("", methods=["GET"])
@blp.arguments(TaskListArgs, location="query")
@blp.response(200, page_schema(TaskSchema, "TaskPage"))
def list_(args: dict[str, Any]) -> Any:
    with authenticated(write=False) as (session, actor):
        return tasks.list_for(session, actor=actor, **args)


@blp.route("/<task_id>", methods=["GET"])
@blp.response(200, TaskDetail)
def get(task_id: str) -> Any:
    with authenticated(write=False) as (session, actor):
        detail = tasks.detail(session, actor=actor, task_id=task_id)
    task = detail["task"]
    out = {name: getattr(task, name) for name in TaskSchema().fields}
    out["form_file"] = task.form
    out["form"] = detail["form"]
    return out


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(CompleteTask)
@blp.response(200, TaskSchema)
def complete(body: dict[str, Any], task_id: str) -> Any:
    with authenticated() as (session, actor):
        return tasks.complete(session, actor=actor, task_id=task_id, data=body["data"],
                              on_behalf=body["on_behalf"])
