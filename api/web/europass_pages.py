"""The Europass Mobility of a mobility as a page (`/mobilities/<id>/europass-mobility`): the sending
organisation issues it once the mobility is recognised, then a member of the host and of the sending
organisation each sign it off, quoting the hash of the text shown. The same services as
/api/europass-mobilities; the learner finds it on the achievements page once both signed off."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.documents import service as documents
from ecvet.europass import service
from engine.errors import EngineError

from .auth import page_session
from .messages import t

bp = Blueprint("web_europass", __name__)


def _render(mobility_id: int, errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    with page_session() as (session, actor):  # writes the read of the document down
        row = service.of_mobility(session, actor=actor, mobility_id=mobility_id)
        document = documents.build(session, actor=actor, kind="europass-mobility", record_id=row.id) if row else None
        may_issue = row is None and service.may_issue(session, actor=actor, mobility_id=mobility_id)
        to_sign = service.parties_to_sign(session, actor, row) if row is not None else []
    return render_template("europass/europass.html", mobility_id=mobility_id, document=document, row=row,
                           may_issue=may_issue, to_sign=to_sign, skills=service.SKILLS, errors=errors or {}), status


@bp.route("/mobilities/<id:mobility_id>/europass-mobility", endpoint="europass", methods=["GET"])
def europass_page(mobility_id: int) -> Any:
    return _render(mobility_id)


@bp.route("/mobilities/<id:mobility_id>/europass-mobility", methods=["POST"])
def issue(mobility_id: int) -> Any:
    skills = {k: request.form[f"skills.{k}"] for k in service.SKILLS if request.form.get(f"skills.{k}", "").strip()}
    try:
        with page_session() as (session, actor):
            service.issue(session, actor=actor, mobility_id=mobility_id, objective=request.form.get("objective"),
                          skills=skills)
    except EngineError as exc:
        if exc.status not in (409, 422):
            raise
        errors = exc.errors if isinstance(exc.errors, dict) and exc.errors else {"_": [exc.message]}
        return _render(mobility_id, errors, exc.status)
    flash(t("europass.issued"), "success")
    return redirect(url_for("web_europass.europass", mobility_id=mobility_id))


@bp.route("/mobilities/<id:mobility_id>/europass-mobility/signatures", endpoint="sign", methods=["POST"])
def sign(mobility_id: int) -> Any:
    place = request.form.get("place", "").strip()
    try:
        with page_session() as (session, actor):
            row = service.of_mobility(session, actor=actor, mobility_id=mobility_id)
            if row is None:
                return _render(mobility_id, {"_": [t("europass.none")]}, 409)
            service.sign(session, actor=actor, europass_id=row.id, party=request.form.get("party"),
                         content_hash=request.form.get("content_hash"), signer={"place": place} if place else None)
    except EngineError as exc:
        if exc.status not in (409, 422):
            raise
        errors = exc.errors if isinstance(exc.errors, dict) and exc.errors else {"_": [exc.message]}
        return _render(mobility_id, errors, exc.status)
    flash(t("europass.signed"), "success")
    return redirect(url_for("web_europass.europass", mobility_id=mobility_id))
