"""Action plans of reviews as pages: the plan's actions, and each action updated on its own page.

``/action-plans/<id>`` lists the actions with their status; ``/action-plans/<id>/items/<item>`` shows
one and, for those who may move it on (its owner, the sending organisation, administrators:
:func:`ecvet.review.service.may_update_item`), a form for its status and a note, saved through
:func:`ecvet.review.service.update_item` (audited there). Anyone else who may see the review reads it;
anyone who may not gets 404. Reached from the action plan document ("Update the actions").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.review import service, views
from ecvet.review.models import ActionItemStatus
from engine.errors import Invalid

from . import messages
from .auth import page_session

bp = Blueprint("web_action_plans", __name__)

NOTE_MAX = 4000


@dataclass(frozen=True)
class ItemRow:
    """One action as the pages show it: words from the catalogue, never the stored codes."""

    id: int
    position: int
    action: str
    owner: str
    due_date: Any
    status: str
    status_label: str
    note: str | None
    may_update: bool


def _status_label(status: str) -> str:
    return messages.t(f"action_plan.status.{status}") if messages.has(f"action_plan.status.{status}") else status


def _rows(session: Any, actor: Any, plan_id: int) -> tuple[Any, list[ItemRow]]:
    plan = service.get_action_plan(session, actor=actor, action_plan_id=plan_id)
    review = service.get(session, actor=actor, review_id=plan.review_id)
    described = views.action_plan(session, plan)
    by_id = {i.id: i for i in plan.items}
    rows = []
    for item in described["items"]:
        owner = messages.t(f"action_plan.owner.{item['owner']}") if messages.has(
            f"action_plan.owner.{item['owner']}") else item["owner"]
        if item.get("owner_name"):
            owner = f"{owner} ({item['owner_name']})"
        rows.append(ItemRow(item["id"], item["position"], item["action"], owner, item["due_date"], item["status"],
                            _status_label(item["status"]), item["status_note"],
                            service.may_update_item(actor, review, by_id[item["id"]])))
    return described, rows


@bp.route("/action-plans/<id:plan_id>", endpoint="plan")
def plan_page(plan_id: int) -> Any:
    with page_session(write=False) as (session, actor):
        described, rows = _rows(session, actor, plan_id)
    return render_template("action_plans/plan.html", active="documents", plan=described, rows=rows,
                           progress=_status_label(described["status"]))


def _item_page(plan_id: int, item_id: int, *, errors: dict[str, list[str]] | None = None,
               posted: dict[str, str] | None = None, status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        service.action_item(session, actor=actor, action_plan_id=plan_id, item_id=item_id)  # 404 if not visible
        _, rows = _rows(session, actor, plan_id)
    row = next(r for r in rows if r.id == item_id)
    choices = [(s, _status_label(s)) for s in ActionItemStatus.ALL]
    return render_template("action_plans/item.html", active="documents", plan_id=plan_id, row=row,
                           choices=choices, errors=errors or {}, posted=posted or {},
                           note_max=NOTE_MAX), status


@bp.route("/action-plans/<id:plan_id>/items/<id:item_id>", methods=["GET", "POST"], endpoint="item")
def item_page(plan_id: int, item_id: int) -> Any:
    """GET: the action, with the update form for those who may move it on. POST: save its status and note."""
    if request.method == "GET":
        return _item_page(plan_id, item_id)
    status = request.form.get("status", "")
    note = request.form.get("note", "").replace("\r\n", "\n").strip() or None
    posted = {"status": status, "note": note or ""}
    errors: dict[str, list[str]] = {}
    if status not in ActionItemStatus.ALL:
        errors["status"] = [messages.t("action_plan.choose_status")]
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = [messages.t("action_plan.note_too_long", limit=NOTE_MAX)]
    if errors:
        return _item_page(plan_id, item_id, errors=errors, posted=posted, status=422)
    try:
        with page_session() as (session, actor):
            service.update_item(session, actor=actor, action_plan_id=plan_id, item_id=item_id, status=status,
                                note=note)
    except Invalid as exc:
        found = exc.errors if isinstance(exc.errors, dict) else {}
        return _item_page(plan_id, item_id, errors={k: [messages.t("action_plan.not_saved")] for k in found}
                          or {"status": [messages.t("action_plan.not_saved")]}, posted=posted, status=422)
    flash(messages.t("action_plan.saved", status=_status_label(status)), "success")
    return redirect(url_for("web_action_plans.plan", plan_id=plan_id))
