"""Your profile (`/profile`): who you sign as, the position and place signing forms are filled from, and
the language of the pages.

Name and e-mail come with the account and are shown, not edited here: a signature always takes them
from the account (ecvet/signing.py). The same service as `PATCH /api/users/me`.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine import parties
from engine.errors import Invalid

from . import messages
from .auth import page_session

bp = Blueprint("web_profile", __name__)


def _render(values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
            status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        user = parties.get_user(session, actor=actor, user_id=actor.user_id)
        shown = values if values is not None else {"position": user.position or "", "place": user.place or "",
                                                    "language": user.language or ""}
        return render_template("auth/profile.html", user=user, values=shown, errors=errors or {},
                               languages=list(messages.LANGUAGE_NAMES.items())), status


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
