"""Your profile (`/profile`): who you sign as, the position and place signing forms are filled from, the
language of the pages, and the letterhead (address and logo) of each organisation you belong to, printed on
the PDFs it issues.

Name and e-mail come with the account and are shown, not edited here: a signature always takes them
from the account (ecvet/signing.py). The same services as `PATCH /api/users/me` and
`PUT /api/organisations/{id}/letterhead`.
"""
from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for

from ecvet.partnership import letterhead
from engine import parties
from engine.errors import Invalid

from . import messages
from .auth import page_session
from .messages import t

bp = Blueprint("web_profile", __name__)


def _render(values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
            status: int = 200, letterhead_errors: dict[int, dict[str, list[str]]] | None = None) -> Any:
    with page_session(write=False) as (session, actor):
        user = parties.get_user(session, actor=actor, user_id=actor.user_id)
        shown = values if values is not None else {"position": user.position or "", "place": user.place or "",
                                                    "language": user.language or ""}
        heads = [(org_id, letterhead.get(session, actor=actor, organisation_id=org_id))
                 for org_id in sorted(actor.organisation_ids)]
        return render_template("auth/profile.html", user=user, values=shown, errors=errors or {},
                               languages=list(messages.LANGUAGE_NAMES.items()),
                               letterheads=heads, letterhead_errors=letterhead_errors or {}), status


@bp.route("/profile", endpoint="profile", methods=["GET"])
def profile() -> Any:
    return _render()


@bp.route("/profile", methods=["POST"])
def save() -> Any:
    changes: dict[str, object] = {name: request.form.get(name, "") for name in parties.PROFILE_FIELDS}
    try:
        with page_session() as (session, actor):
            parties.update_profile(session, actor=actor, user_id=actor.user_id, changes=changes)
    except Invalid as exc:
        errors = exc.errors if isinstance(exc.errors, dict) else {"_": [exc.message]}
        return _render(changes, errors, 422)
    # The page that follows speaks the language just chosen, and so does this message.
    g.language = messages.negotiate(str(changes.get("language") or "") or None,
                                    [tag for tag, quality in request.accept_languages if quality > 0])
    flash(messages.t("profile.saved"), "success")
    return redirect(url_for("web_profile.profile"))


@bp.route("/profile/letterhead/<id:organisation_id>", endpoint="letterhead", methods=["POST"])
def save_letterhead(organisation_id: int) -> Any:
    """Save an organisation's letterhead from the profile page (multipart: address, logo, remove_logo)."""
    upload = request.files.get("logo")
    data = upload.read(letterhead.MAX_BYTES + 1) if upload is not None and upload.filename else None
    try:
        with page_session() as (session, actor):
            letterhead.save(session, actor=actor, organisation_id=organisation_id,
                            address=request.form.get("address", ""), logo_data=data,
                            remove_logo=request.form.get("remove_logo") == "yes")
    except Invalid as exc:
        errors = exc.errors if isinstance(exc.errors, dict) else {"_": [exc.message]}
        return _render(letterhead_errors={organisation_id: errors}, status=422)
    flash(t("letterhead.saved"), "success")
    return redirect(url_for("web_profile.profile") + f"#letterhead-{organisation_id}")


@bp.route("/profile/letterhead/<id:organisation_id>/logo.png", endpoint="logo", methods=["GET"])
def logo(organisation_id: int) -> Any:
    """The stored logo (a PNG the platform re-encoded), for the organisation's members."""
    with page_session(write=False) as (session, actor):
        png = letterhead.logo(session, actor=actor, organisation_id=organisation_id)
    response = send_file(io.BytesIO(png), mimetype="image/png", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
