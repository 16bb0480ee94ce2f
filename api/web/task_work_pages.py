"""Working on a task in an organisation, from its page: claim, unclaim, hand to a colleague, comment.

Each form posts here and comes back to the task page with a sentence saying what happened; the same
services as ``/api/tasks/{id}/claim|unclaim|assign|comments`` decide who may, and audit it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from engine import claims
from engine.errors import Conflict, Forbidden, Invalid

from .auth import page_session
from .messages import t

bp = Blueprint("web_task_work", __name__)


def _back(task_id: str) -> Any:
    return redirect(url_for("web_tasks.task", task_id=task_id) + "#task-work")


def _refused(task_id: str, error: Conflict | Forbidden | Invalid) -> Any:
    """A refusal the person can act on (taken by a colleague, nothing written...): said on the task page."""
    flash(error.message, "error")
    return _back(task_id)


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
def claim(task_id: str) -> Any:
    try:
        with page_session() as (session, actor):
            claims.claim(session, actor=actor, task_id=task_id)
    except (Conflict, Forbidden) as exc:
        return _refused(task_id, exc)
    flash(t("work.claimed"), "success")
    return _back(task_id)


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
def unclaim(task_id: str) -> Any:
    try:
        with page_session() as (session, actor):
            claims.unclaim(session, actor=actor, task_id=task_id)
    except (Conflict, Forbidden) as exc:
        return _refused(task_id, exc)
    flash(t("work.unclaimed"), "success")
    return _back(task_id)


@bp.route("/tasks/<task_id>/assign", methods=["POST"])
def assign(task_id: str) -> Any:
    chosen = request.form.get("user_id", "")
    if not chosen.isdigit() or not 0 < int(chosen) < 2**31:
        flash(t("work.choose_colleague"), "error")
        return _back(task_id)
    try:
        with page_session() as (session, actor):
            task = claims.assign(session, actor=actor, task_id=task_id, user_id=int(chosen))
            name = claims.claimer_name(session, task)
    except (Conflict, Forbidden, Invalid) as exc:
        return _refused(task_id, exc)
    flash(t("work.assigned", name=name), "success")
    return _back(task_id)


@bp.route("/tasks/<task_id>/comments", methods=["POST"])
def comment(task_id: str) -> Any:
    try:
        with page_session() as (session, actor):
            claims.comment(session, actor=actor, task_id=task_id, body=request.form.get("body", ""))
    except (Conflict, Forbidden, Invalid) as exc:
        return _refused(task_id, exc)
    flash(t("work.commented"), "success")
    return redirect(url_for("web_tasks.task", task_id=task_id) + "#comments")
