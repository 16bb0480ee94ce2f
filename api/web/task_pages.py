"""The task page: instructions from the BPMN, the document being decided, the form, and completion.

GET shows the task; POST completes it through ``engine.tasks.complete`` (the same validation, record
actions and audit as the API) or, for "Add another"/"Remove" buttons, shows the form again with one
item more or less and saves nothing. Every refusal shows the page again with the errors next to the
fields and changes nothing: uploads made for the submission are in the same unit of work and roll
back with it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ecvet.documents import model, service
from ecvet.documents import transcript as transcript_document
from ecvet.partnership import attachments
from engine import claims, inbox, instances, tasks
from engine import forms as engine_forms
from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound
from engine.models import HumanTask, InstanceStatus, TaskState
from engine.parties import Actor

from . import forms
from .auth import page_session
from .messages import document_languages, field_errors, t

bp = Blueprint("web_tasks", __name__)


@dataclass
class Context:
    """What the person reads before deciding: the documents the task is about, and links to the others."""

    primary: list[model.Document]
    others: list[model.DocumentRef]


#: The form of the task that issues the Learner's Personal Transcript: its page previews the transcript.
TRANSCRIPT_ISSUE_FORM = "mobility_transcript_issue.json"

#: Instance statuses under which a ready task cannot be completed: the page says so instead of a form.
STOPPED = (InstanceStatus.SUSPENDED, InstanceStatus.TERMINATED)


@dataclass
class Work:
    """Who in the organisation works on the task, whom it may be handed to, what colleagues said."""

    claimer: str | None
    mine: bool
    colleagues: list[tuple[int, str]]
    comments: list[claims.Comment]
    #: "suspended" or "terminated" when the instance stopped: the form is shown disabled with a sentence.
    stopped: str | None


def task_context(session: Session, actor: Actor, task: HumanTask, values: dict[str, Any]) -> Context:
    """The documents the form refers to (its `la_id`, `mou_id`...), else the latest one of the instance."""
    try:
        refs = service.for_instance(session, actor=actor, instance_id=task.instance_id)
    except NotFound:
        return Context([], [])
    wanted = {(r.kind, r.record_id) for r in service.references_in(values)}
    primary_refs = [r for r in refs if (r.kind, r.record_id) in wanted] or refs[-1:]
    primary = [service.build(session, actor=actor, kind=r.kind, record_id=r.record_id, languages=document_languages())
               for r in primary_refs]
    if task.form == TRANSCRIPT_ISSUE_FORM and task.state == TaskState.READY:
        # The host reads the transcript as it will be issued before submitting (issue 14 item 8).
        mobility_id = next((d["mobility_id"] for d in instances.process_data(
            session, actor=actor, instance_id=task.instance_id) if isinstance(d.get("mobility_id"), int)), None)
        issued = None if mobility_id is None else transcript_document.preview(session, actor, mobility_id)
        if issued is not None:
            primary.insert(0, issued)
    shown = {(r.kind, r.record_id) for r in primary_refs}
    return Context(primary, [r for r in refs if (r.kind, r.record_id) not in shown])


def _render(task_id: str, *, status: int = 200, values: dict[str, Any] | None = None,
            errors: dict[str, list[str]] | None = None, raw: dict[str, str] | None = None,
            alert: str | None = None, on_behalf: bool = False, focus: str | None = None) -> Any:
    with page_session() as (session, actor):  # the documents shown are reads written down (issue 16)
        detail = tasks.detail(session, actor=actor, task_id=task_id)
        task: HumanTask = detail["task"]
        current = detail["form"]["values"]
        shown_values = current if values is None else values
        shaped = engine_forms.with_ui(detail["form"]["schema"], detail["form"]["ui_schema"])
        errors = field_errors(errors)
        form = forms.build(shaped, shown_values, errors, raw) if task.state == TaskState.READY else None
        (row,) = inbox.describe(session, [task])
        context = task_context(session, actor, task, {**current, **(values or {})})
        assignee = tasks.is_assignee(actor, task)
        work = Work(
            claimer=claims.claimer_name(session, task),
            mine=task.claimed_by is not None and task.claimed_by == actor.user_id,
            colleagues=[(u.id, u.name) for u in claims.colleagues(session, actor=actor, task=task)
                        if u.id != task.claimed_by],
            comments=claims.comments(session, actor=actor, task_id=task.id),
            stopped=row.instance_status if row.instance_status in STOPPED else None,
        )
    # A task without a form has nowhere to show field errors: say them in one line.
    without_form = [m for ms in (errors or {}).values() for m in ms] if form is None or not form.fields else []
    return render_template(
        "tasks/task.html", active="tasks", task=task, row=row, form=form, context=context, alert=alert,
        assignee=assignee, on_behalf=on_behalf, errors_without_form=without_form, focus=focus, work=work,
    ), status


@bp.route("/tasks/<task_id>", endpoint="task", methods=["GET"])
def task_page(task_id: str) -> Any:
    """The task with its instructions, context documents and form (404 to anyone it is not routed to)."""
    return _render(task_id)


class _ShowAgainError(Exception):
    """Leave the unit of work without saving (rolling back uploads) and show the form again."""

    def __init__(self, submission: forms.Submission) -> None:
        super().__init__("show the form again")
        self.submission = submission


def _store_uploads(session: Session, actor: Actor, schema: dict[str, Any] | None, posted: MultiDict[str, Any]
                   ) -> dict[str, list[str]]:
    """Each file chosen in an attachment field becomes an attachment; its id goes where the form expects it."""
    errors: dict[str, list[str]] = {}
    if not schema:
        return errors
    for path, upload in request.files.items(multi=False):
        if not upload or not upload.filename:
            continue
        if not forms.is_attachment_field(schema, path):
            continue  # only inputs the schema declares
        try:
            stored = attachments.upload(session, actor=actor, filename=upload.filename, content=upload.read())
        except EngineError as exc:
            errors[path] = [exc.message]
            continue
        posted.setlist(path + forms.CURRENT_SUFFIX, [str(stored.id)])
    return errors


@bp.route("/tasks/<task_id>", methods=["POST"])
def complete(task_id: str) -> Any:
    """Complete the task with the posted form (or add/remove a repeatable item and show the form again)."""
    posted: MultiDict[str, Any] = MultiDict(request.form)
    on_behalf = posted.get("_on_behalf") == "true"
    submission: forms.Submission | None = None
    try:
        with page_session() as (session, actor):
            task = tasks.get(session, actor=actor, task_id=task_id)
            schema_text = tasks.shown_schema(session, task)
            schema = json.loads(schema_text) if schema_text else None
            upload_errors = _store_uploads(session, actor, schema, posted)
            submission = forms.parse(schema, posted)
            if submission.action is not None:
                raise _ShowAgainError(submission)
            problems = {**engine_forms.field_errors(schema_text, submission.data), **submission.errors,
                        **upload_errors} if schema_text else {**submission.errors, **upload_errors}
            if submission.errors or upload_errors:
                # What could not be read (text in a number field...) and, with it, everything else wrong.
                raise Invalid(t("task.form_errors"), errors=problems)
            done = tasks.complete(session, actor=actor, task_id=task_id, data=submission.data, on_behalf=on_behalf)
            name = done.name
    except _ShowAgainError as again:
        action = again.submission.action or ("", "")
        data = forms.apply_action(schema, again.submission.data, action)
        return _render(task_id, values=data, raw=again.submission.raw, on_behalf=on_behalf,
                       focus=forms.focus_after(data, action))
    except Invalid as exc:
        if submission is None:
            raise
        errors = exc.errors if isinstance(exc.errors, dict) and exc.errors else {"_": [exc.message]}
        return _render(task_id, status=422, values=submission.data, raw=submission.raw,
                       errors={k: v if isinstance(v, list) else [str(v)] for k, v in errors.items()},
                       on_behalf=on_behalf)
    except (Conflict, Forbidden) as exc:
        if submission is None:
            raise
        return _render(task_id, status=exc.status, values=submission.data, raw=submission.raw, alert=exc.message,
                       on_behalf=on_behalf)
    flash(t("task.done", name=name), "success")
    return redirect(url_for("web_inbox.inbox"))
