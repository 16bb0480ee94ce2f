"""An organisation's retention periods (`/organisations/{id}/retention`) and its records of processing
(`/organisations/{id}/processing-register`, with a PDF), for the organisation's members: the same services
as `GET/PUT /api/organisations/{id}/retention` and `GET /api/organisations/{id}/processing-register`."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ecvet.documents import i18n
from ecvet.retention import policy, register
from engine.errors import Invalid

from . import messages
from .auth import page_session
from .messages import t

bp = Blueprint("web_retention", __name__)


def _languages() -> tuple[str, ...]:
    try:
        return i18n.languages(request.args.get("lang") or None)
    except Invalid:
        return (i18n.SOURCE,)


def _render(organisation_id: int, values: dict[str, str] | None = None,
            errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        shown = policy.view(session, actor=actor, organisation_id=organisation_id)
        name = register.controller(session, organisation_id)
    own = {row["kind"]: str(row["keep_months"]) for row in shown["kinds"] if row["source"] == "organisation"}
    return render_template("retention/policy.html", policy=shown, organisation=name, organisation_id=organisation_id,
                           values=values if values is not None else own, errors=errors or {}), status


@bp.route("/organisations/<id:organisation_id>/retention", endpoint="policy", methods=["GET"])
def policy_page(organisation_id: int) -> Any:
    return _render(organisation_id)


@bp.route("/organisations/<id:organisation_id>/retention", methods=["POST"])
def save(organisation_id: int) -> Any:
    """Each configurable kind's field: a whole number of months, or empty for the default."""
    values = {kind: request.form.get(f"keep_months.{kind}", "").strip() for kind in policy.CONFIGURABLE}
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for kind, text in values.items():
        if not text:
            changes[kind] = None
        elif text.isdigit():
            changes[kind] = int(text)
        else:
            errors[kind] = [messages.t("field_error.integer")]
    if not errors:
        try:
            with page_session() as (session, actor):
                policy.change(session, actor=actor, organisation_id=organisation_id, keep_months=changes)
        except Invalid as exc:
            errors = exc.errors if isinstance(exc.errors, dict) else {"_": [exc.message]}
    if errors:
        return _render(organisation_id, values, errors, 422)
    flash(t("retention.saved"), "success")
    return redirect(url_for("web_retention.policy", organisation_id=organisation_id))


@bp.route("/organisations/<id:organisation_id>/processing-register", endpoint="register", methods=["GET"])
def register_page(organisation_id: int) -> Any:
    with page_session(write=False) as (session, actor):
        document = register.localised(session, actor=actor, organisation_id=organisation_id, languages=_languages())
    choices = [(code, name) for code, name in messages.LANGUAGE_NAMES.items() if code in i18n.LANGUAGES]
    return render_template("retention/register.html", document=document, organisation_id=organisation_id,
                           choices=choices)


@bp.route("/organisations/<id:organisation_id>/processing-register.pdf", endpoint="register_pdf", methods=["GET"])
def register_pdf(organisation_id: int) -> Any:
    with page_session(write=False) as (session, actor):
        body = register.pdf_bytes(session, actor=actor, organisation_id=organisation_id, languages=_languages())
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="processing-register-{organisation_id}.pdf"',
        "Cache-Control": "private, no-store"})
