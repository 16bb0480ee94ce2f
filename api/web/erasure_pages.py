"""Erasure requests as pages (GDPR Art. 17).

``/learners/<id>/erasure`` is the learner's (or guardian's) page: their requests with the answers, and
the button that asks for the erasure (also for the sending organisation, on the learner's behalf).
``/erasure-requests`` lists the requests the reader's organisations have to answer, oldest first, with
the one-month deadline of Art. 12(3); ``/erasure-requests/<id>`` shows one and, to a member of the
sending organisation while it waits, the forms to carry it out or refuse it with a reason. Every
decision is the service's (:mod:`ecvet.privacy.service`), audited there.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.privacy import service, views
from ecvet.privacy.models import ErasureStatus
from engine.clock import now
from engine.errors import Invalid

from . import messages, nav_item
from .auth import page_session, require_viewer

bp = Blueprint("web_erasure", __name__)

nav_item("erasure", "erasure.nav", "web_erasure.open", lambda v: bool(v.organisations), 28)


def _status(view: views.ErasureRequestView) -> str:
    return messages.t(f"erasure.status.{view['status']}")


@bp.route("/learners/<id:learner_id>/erasure", methods=["GET", "POST"], endpoint="learner")
def learner_page(learner_id: int) -> Any:
    """GET: the learner's requests and answers. POST: ask for the erasure."""
    viewer = require_viewer()
    if request.method == "POST":
        with page_session() as (session, actor):
            service.request(session, actor=actor, learner_id=learner_id)
        flash(messages.t("erasure.asked"), "success")
        return redirect(url_for("web_erasure.learner", learner_id=learner_id))
    with page_session(write=False) as (session, actor):
        rows = [views.erasure_request(session, r) for r in service.of_learner(session, actor=actor,
                                                                              learner_id=learner_id)]
    waiting = any(r["status"] == ErasureStatus.RECEIVED for r in rows)
    return render_template("privacy/learner.html", active="achievements" if learner_id in viewer.learner_ids
                           else None, learner_id=learner_id, rows=rows, waiting=waiting,
                           statuses={r["id"]: _status(r) for r in rows})


@bp.route("/erasure-requests", endpoint="open")
def open_page() -> Any:
    with page_session(write=False) as (session, actor):
        rows = [views.erasure_request(session, r) for r in service.open_for(session, actor=actor)]
    return render_template("privacy/open.html", active="erasure", rows=rows, now=now())


def _request_page(request_id: int, *, errors: dict[str, list[str]] | None = None, reason: str = "",
                  status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        row = service.get(session, actor=actor, request_id=request_id)
        view = views.erasure_request(session, row)
        may_answer = row.status == ErasureStatus.RECEIVED and service.may_answer(session, actor, row)
    return render_template("privacy/request.html", active="erasure", view=view, status_label=_status(view),
                           may_answer=may_answer, errors=errors or {}, reason=reason,
                           overdue=view["status"] == ErasureStatus.RECEIVED and view["due_at"] < now()), status


@bp.route("/erasure-requests/<id:request_id>", methods=["GET", "POST"], endpoint="request")
def request_page(request_id: int) -> Any:
    """GET: the request and its answer. POST (``decision``: carried_out or refused, with ``reason``)."""
    if request.method == "GET":
        return _request_page(request_id)
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").replace("\r\n", "\n").strip()
    if decision not in (ErasureStatus.CARRIED_OUT, ErasureStatus.REFUSED):
        return _request_page(request_id, errors={"decision": [messages.t("erasure.choose")]}, status=422)
    try:
        with page_session() as (session, actor):
            if decision == ErasureStatus.CARRIED_OUT:
                row = service.carry_out(session, actor=actor, request_id=request_id)
            else:
                row = service.refuse(session, actor=actor, request_id=request_id, note=reason)
            done = row.status
    except Invalid:
        return _request_page(request_id, errors={"reason": [messages.t("erasure.reason_needed",
                                                                       limit=service.NOTE_MAX)]},
                             reason=reason, status=422)
    flash(messages.t(f"erasure.done.{done}"), "success")
    return redirect(url_for("web_erasure.request", request_id=request_id))
