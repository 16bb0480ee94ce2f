"""The privacy notice (`/privacy`, public) and its acknowledgement; a learner, or the parent or guardian of
a minor, who has not acknowledged the current version is sent to it from every page first.

The notice's words are the catalogue's ``privacy.notice.*``; its version is a hash of their English text
(:mod:`ecvet.consent.notice`), so a changed notice is shown again. The JSON API does not redirect or
refuse (see the module docstring of :mod:`ecvet.consent.notice` for why).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.consent import notice

from ..deps import unit_of_work
from . import messages, nav_item, security
from .auth import current_viewer, page_session, safe_next

bp = Blueprint("web_privacy", __name__)

#: Pages reachable before the notice is acknowledged: signing in and out, the notice, files the pages load.
OPEN_BLUEPRINTS = frozenset({"web_auth", "web_privacy", "web_vendor", "web_site", "web_verify"})

nav_item("privacy", "nav.privacy", "web_privacy.notice", lambda v: bool(v.learner_ids), 90)


def _current() -> str:
    return notice.version_of(messages.english())


@bp.before_app_request
def _notice_first() -> Any:
    """Every page of a learner or a minor's guardian who has not acknowledged the current notice goes to it."""
    if security.is_api_request() or request.endpoint in (None, "static") or request.blueprint in OPEN_BLUEPRINTS:
        return None
    viewer = current_viewer()
    if viewer is None or not viewer.learner_ids:
        return None
    with unit_of_work(write=False) as session:
        read = notice.acknowledgement(session, user_id=viewer.user_id, version=_current()) is not None
    if read:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else request.referrer or "/"
    return redirect(url_for("web_privacy.notice", next=safe_next(target, "/")))


@bp.route("/privacy", methods=["GET"], endpoint="notice")
def show() -> Any:
    """The notice for anyone; for a learner or guardian, the button that acknowledges it (or when they did)."""
    language = messages.current_language()
    shown = notice.view(messages.english(), messages.catalogue(language), language)
    viewer = current_viewer()
    acknowledged = None
    if viewer is not None and viewer.learner_ids:
        with unit_of_work(write=False) as session:
            acknowledged = notice.acknowledgement(session, user_id=viewer.user_id, version=shown["version"])
    return render_template("privacy/notice.html", notice=shown, concerned=bool(viewer and viewer.learner_ids),
                           acknowledged=acknowledged, next_url=safe_next(request.args.get("next"), "/"))


@bp.route("/privacy/acknowledgements", methods=["POST"], endpoint="acknowledge")
def acknowledge() -> Any:
    with page_session() as (session, actor):
        notice.acknowledge(session, actor=actor, version=request.form.get("version", ""), current=_current(),
                           language=messages.current_language())
    flash(messages.t("privacy.saved"), "success")
    return redirect(safe_next(request.form.get("next"), "/"))
