"""A group mobility (`/mobility-groups/<id>`): its programme, accompanying persons and learners (a learner:
their own copy only), and the signed-in person's waiting tasks in it batched by step, with "sign all" for
signature steps: one request signs every copy waiting for you, each signature your own and quoting the
group's one text (ecvet/mobility/groups.py, the same service as `POST /api/mobility-groups/{id}/complete`)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.mobility import groups
from engine import parties, tasks
from engine.errors import Invalid

from .auth import page_session
from .messages import t

bp = Blueprint("web_groups", __name__)


def _render(group_id: int, errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    with page_session() as (session, actor):
        shown = groups.view(session, actor=actor, group_id=group_id)
        user = parties.get_user(session, actor=actor, user_id=actor.user_id)
        batches = []
        for batch in shown["my_tasks"]:
            values = tasks.detail(session, actor=actor, task_id=batch["task_ids"][0])["form"]["values"]
            batches.append({**batch, "count": len(batch["task_ids"]), "signing": groups.is_signing(batch["bpmn_id"]),
                            "la_hash": values.get("la_hash"), "la_id": values.get("la_id")})
        return render_template("groups/group.html", active="tasks", group=shown, batches=batches,
                               position=request.form.get("position", user.position or ""),
                               place=request.form.get("place", user.place or ""), errors=errors or {}), status


@bp.route("/mobility-groups/<id:group_id>", endpoint="group", methods=["GET"])
def group_page(group_id: int) -> Any:
    return _render(group_id)


@bp.route("/mobility-groups/<id:group_id>/sign-all", endpoint="sign_all", methods=["POST"])
def sign_all(group_id: int) -> Any:
    """Sign every copy of the step waiting for you: refused as a whole (nothing signed) if one copy is not
    the text you read."""
    bpmn_id = request.form.get("bpmn_id", "")
    if not groups.is_signing(bpmn_id):
        signing = ", ".join(b for b in groups.BATCHED_TASKS if groups.is_signing(b))
        raise Invalid("Only signature steps are signed for a whole group here",
                      errors={"bpmn_id": [f"One of {signing}"]})
    data = {"la_hash": request.form.get("la_hash", ""), "decision": "sign",
            "signer": {"position": request.form.get("position", "").strip() or None,
                       "place": request.form.get("place", "").strip() or None}}
    try:
        with page_session() as (session, actor):
            done = groups.complete_all(session, actor=actor, group_id=group_id, bpmn_id=bpmn_id, data=data)
    except Invalid as exc:
        errors = exc.errors if isinstance(exc.errors, dict) else {"_": [exc.message]}
        return _render(group_id, {"_": [exc.message], **errors}, 422)
    flash(t("group.signed_all", count=len(done)), "success")
    return redirect(url_for("web_inbox.inbox"))
