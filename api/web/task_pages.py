"""The task page: instructions from the BPMN, the document being decided, the form, and completion."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from engine import tasks

from .auth import page_session

bp = Blueprint("web_tasks", __name__)


@bp.route("/tasks/<task_id>", endpoint="task")
def task_page(task_id: str) -> Any:
    with page_session(write=False) as (session, actor):
        detail = tasks.detail(session, actor=actor, task_id=task_id)
    return render_template("tasks/task.html", active="tasks", task=detail["task"], form=detail["form"])
