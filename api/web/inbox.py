"""My tasks: the signed-in person's inbox across all processes, with filters, ordering and pages."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, render_template, request, url_for

from ecvet.europass import sign_off
from ecvet.mobility import groups
from ecvet.partnership import roles
from engine import inbox
from engine.errors import Invalid
from engine.models import TaskState

from .auth import page_session, require_viewer
from .messages import t

bp = Blueprint("web_inbox", __name__)

#: The filters' choices: value -> catalogue key of its label.
STATES = {TaskState.READY: "inbox.state.ready", TaskState.COMPLETED: "inbox.state.completed",
          TaskState.CANCELLED: "inbox.state.cancelled", "all": "inbox.state.all"}
OVERDUE = {"": "inbox.overdue.any", "yes": "inbox.overdue.yes", "no": "inbox.overdue.no"}
ORDERS = {"created": "inbox.order.created", "due": "inbox.order.due"}
ASSIGNMENTS = ("", "me", "organisation", "unassigned")
PAGE_SIZE = 25


def _one_of(allowed: Iterable[str]) -> str:
    """"One of me, organisation, unassigned, empty" in the reader's language."""
    return t("error.one_of", choices=", ".join(k or t("error.empty_choice") for k in allowed))


def _filters() -> dict[str, str]:
    """The query string, checked: a hand-edited URL gets a clear 422 page, not a guess."""
    values = {
        "process": request.args.get("process", "").strip(),
        "state": request.args.get("state", TaskState.READY),
        "overdue": request.args.get("overdue", ""),
        "order": request.args.get("order", "created"),
        "assignment": request.args.get("assignment", ""),
    }
    errors: dict[str, list[str]] = {}
    if values["assignment"] not in ASSIGNMENTS:
        errors["assignment"] = [_one_of(ASSIGNMENTS)]
    for name, allowed in (("state", STATES), ("overdue", OVERDUE), ("order", ORDERS)):
        if values[name] not in allowed:
            errors[name] = [_one_of(allowed)]
    if errors:
        raise Invalid(t("inbox.filter_invalid"), errors=errors)
    return values


def _labelled(choices: dict[str, str]) -> dict[str, str]:
    return {value: t(key) for value, key in choices.items()}


@bp.route("/tasks", endpoint="inbox")
def inbox_view() -> Any:
    """The tasks routed to the signed-in person or their organisations; the filters live in the URL."""
    require_viewer()  # sign in first, then any complaint about the filters
    filters = _filters()
    cursor = request.args.get("cursor") or None
    with page_session(write=False) as (session, actor):
        page = inbox.list_for(
            session, actor=actor,
            state=None if filters["state"] == "all" else filters["state"],
            process_key=filters["process"] or None,
            overdue={"yes": True, "no": False}.get(filters["overdue"]),
            assignment=filters["assignment"] or None, order=filters["order"], cursor=cursor, limit=PAGE_SIZE,
        )
        processes = inbox.processes_of(session, actor=actor)
        group_batches = groups.batches_for(session, actor=actor)
        europass_sign_offs = sign_off.waiting_for(session, actor=actor)
        role_maps = roles.to_confirm(session, actor=actor)
    defaults = {("state", TaskState.READY), ("order", "created")}
    filtered = any(v and (k, v) not in defaults for k, v in filters.items())
    query: dict[str, Any] = dict(filters)
    next_url = url_for("web_inbox.inbox", **query, cursor=page.next_cursor) if page.next_cursor else None
    first_url = url_for("web_inbox.inbox", **query) if cursor else None
    return render_template(
        "tasks/inbox.html", active="tasks", rows=page.items, filters=filters, processes=processes,
        states=_labelled(STATES), overdue_choices=_labelled(OVERDUE), orders=_labelled(ORDERS), next_url=next_url,
        first_url=first_url,
        filtered=filtered, group_batches=group_batches, europass_sign_offs=europass_sign_offs, role_maps=role_maps,
        assignments={k: t("inbox.assignment." + (k or "any")) for k in ASSIGNMENTS},
    )

