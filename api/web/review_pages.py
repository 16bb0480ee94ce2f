"""The partnership review as a page: every mobility's evaluations and action plans under one MoU, and the
partners' conclusions, which may start the MoU revision.

``/mous/<id>/review`` is for the MoU's partners (:func:`ecvet.review.partnership.summary` decides: 404
otherwise); its form posts the conclusions to the same service as ``POST /api/mous/{id}/review-conclusions``.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.review import partnership, visibility
from ecvet.review.models import EvaluationVisibility
from engine.errors import Conflict, Forbidden, Invalid

from .auth import page_session, require_viewer
from .messages import t

bp = Blueprint("web_review", __name__)


@bp.route("/mous/<id:mou_id>/review", endpoint="partnership")
def partnership_review(mou_id: int) -> Any:
    require_viewer()
    with page_session(write=False) as (session, actor):
        summary = partnership.summary(session, actor=actor, mou_id=mou_id)
        policy = visibility.view(session, actor=actor, mou_id=mou_id)
    return render_template("review/partnership.html", active=None, summary=summary, mou_id=mou_id,
                           visibility=policy, visibilities=EvaluationVisibility.ALL)


@bp.route("/mous/<id:mou_id>/review/evaluation-visibility", methods=["POST"], endpoint="visibility")
def set_visibility(mou_id: int) -> Any:
    """A signing partner chooses who reads the evaluation sheets (the same service as the API's PUT)."""
    require_viewer()
    try:
        with page_session() as (session, actor):
            visibility.set_policy(session, actor=actor, mou_id=mou_id, visibility=request.form.get("visibility", ""))
    except (Forbidden, Invalid) as exc:
        flash(exc.message, "error")
        return redirect(url_for("web_review.partnership", mou_id=mou_id) + "#visibility")
    flash(t("review.visibility.saved"), "success")
    return redirect(url_for("web_review.partnership", mou_id=mou_id) + "#visibility")


@bp.route("/mous/<id:mou_id>/review", methods=["POST"])
def conclude(mou_id: int) -> Any:
    require_viewer()
    try:
        with page_session() as (session, actor):
            row = partnership.conclude(session, actor=actor, mou_id=mou_id,
                                       conclusions=request.form.get("conclusions", ""),
                                       request_revision=request.form.get("request_revision") == "yes")
            revised = row.revision_requested
    except (Conflict, Forbidden, Invalid) as exc:
        flash(exc.message, "error")
        return redirect(url_for("web_review.partnership", mou_id=mou_id) + "#conclude")
    flash(t("review.revision_started" if revised else "review.concluded"), "success")
    return redirect(url_for("web_review.partnership", mou_id=mou_id))
