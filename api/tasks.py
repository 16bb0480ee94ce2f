"""/api/tasks: the caller's work, each task's form, completion validated on the server, due dates, and who
in the organisation works on it (claim, unclaim, assign to a colleague, comments)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine import claims, operations, tasks
from engine.models import TaskState

from .deps import authenticated
from .parsing import Blueprint, Id
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
    claimed_by = fields.Integer(allow_none=True, metadata={
        "description": "the member of the organisation who claimed the task or was assigned it; only they "
                       "complete it until it is unclaimed"})
    claimed_at = fields.DateTime(allow_none=True)


class FormSchema(Schema):
    schema = fields.Dict(allow_none=True, metadata={"description": "JSON Schema of the form"})
    values = fields.Dict(metadata={"description": "current values of the form's own fields"})
    ui_schema = fields.Dict(allow_none=True, metadata={
        "description": "the task's UI schema (spiff formUiSchemaFilename: field order, widgets, help), if any"})


class TaskDetail(TaskSchema):
    form = fields.Nested(FormSchema)  # type: ignore[assignment]  # the detail nests what the list names
    form_file = fields.String(allow_none=True)


class TaskListArgs(PageArgs):
    state = fields.String(load_default=TaskState.READY, validate=validate.OneOf(TaskState.ALL))
    process_key = fields.String(load_default=None)
    instance_id = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None, metadata={"description": "only overdue (true) or not (false)"})
    assignment = fields.String(load_default=None, validate=validate.OneOf(tasks.ASSIGNMENTS), metadata={
        "description": "me: claimed by or bound to me; organisation: my organisations'; unassigned: my "
                       "organisations' that nobody claimed"})


class DueDateSchema(Schema):
    due_at = fields.AwareDateTime(required=True, allow_none=True, format="iso",
                                  metadata={"description": "ISO 8601 with offset; null clears it"})


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


@blp.route("/<task_id>/due-date", methods=["PUT"])
@blp.arguments(DueDateSchema)
@blp.response(200, TaskSchema)
def set_due_date(body: dict[str, Any], task_id: str) -> Any:
    """Change a ready task's due date (administrators): a field of the task, so a noun, not a verb."""
    with authenticated() as (session, actor):
        return operations.set_due_date(session, actor=actor, task_id=task_id, due_at=body["due_at"])


class AssignSchema(Schema):
    user_id = Id(required=True, metadata={"description": "a member of the task's organisation"})


class CommentInput(Schema):
    body = fields.String(required=True, metadata={"description": f"at most {claims.COMMENT_MAX_CHARS} characters"})


class CommentSchema(Schema):
    id = fields.Integer()
    author_id = fields.Integer()
    author = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


@blp.route("/<task_id>/claim", methods=["POST"])
@blp.response(200, TaskSchema)
def claim(task_id: str) -> Any:
    """Take the task: your colleagues see that you work on it; 409 when one of them has it already."""
    with authenticated() as (session, actor):
        return claims.claim(session, actor=actor, task_id=task_id)


@blp.route("/<task_id>/unclaim", methods=["POST"])
@blp.response(200, TaskSchema)
def unclaim(task_id: str) -> Any:
    """Give the task back to the whole organisation (its claimer, or an administrator)."""
    with authenticated() as (session, actor):
        return claims.unclaim(session, actor=actor, task_id=task_id)


@blp.route("/<task_id>/assign", methods=["POST"])
@blp.arguments(AssignSchema)
@blp.response(200, TaskSchema)
def assign(body: dict[str, Any], task_id: str) -> Any:
    """Hand the task to a colleague of the same organisation."""
    with authenticated() as (session, actor):
        return claims.assign(session, actor=actor, task_id=task_id, user_id=body["user_id"])


@blp.route("/<task_id>/comments", methods=["GET"])
@blp.response(200, CommentSchema(many=True))
def comments(task_id: str) -> Any:
    with authenticated(write=False) as (session, actor):
        return claims.comments(session, actor=actor, task_id=task_id)


@blp.route("/<task_id>/comments", methods=["POST"])
@blp.arguments(CommentInput)
@blp.response(201, CommentSchema)
def add_comment(body: dict[str, Any], task_id: str) -> Any:
    """A note for the colleagues who share the task; in the audit trail."""
    with authenticated() as (session, actor):
        return claims.comment(session, actor=actor, task_id=task_id, body=body["body"])
