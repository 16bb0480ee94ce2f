"""The role map of a partnership as a page: who holds which ECVET function in each country, and each
party's confirmation of it (what lies within its jurisdiction and what beyond), signed by the member.

``/partnerships/<id>/role-map`` is for the partnership's parties (:func:`ecvet.partnership.roles.get_current`
decides: 404 otherwise); its form posts to the same service as
``POST /api/partnerships/{id}/role-map/confirmations``. ``/mous/<id>/role-map`` leads from the MoU's
document page to the map of the partnership it formalises.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.partnership import roles, service, views
from engine.errors import Conflict, Forbidden, Invalid, NotFound

from .auth import page_session, require_viewer
from .messages import t

bp = Blueprint("web_role_map", __name__)


@bp.route("/partnerships/<id:partnership_id>/role-map", endpoint="role_map")
def role_map_view(partnership_id: int) -> Any:
    require_viewer()
    with page_session(write=False) as (session, actor):
        row = roles.get_current(session, actor=actor, partnership_id=partnership_id)
        if row is None:
            raise NotFound(t("role_map.none"))
        partnership = service.get(session, actor=actor, partnership_id=partnership_id)
        shown = views.role_map(session, row)
        mine = roles.mine_to_confirm(session, actor=actor, partnership=partnership, role_map=row)
        names = roles.organisation_names(session, {
            *(e["organisation_id"] for e in shown["entries"] if e["organisation_id"] is not None),
            *(c["organisation_id"] for c in shown["confirmations"]), *shown["awaiting_confirmation"], *mine})
    return render_template("partnerships/role_map.html", active=None, role_map=shown, mine=mine, names=names,
                           partnership_id=partnership_id)


@bp.route("/partnerships/<id:partnership_id>/role-map", methods=["POST"])
def confirm(partnership_id: int) -> Any:
    require_viewer()
    form = request.form
    signer = {k: form[k].strip() for k in ("position", "place") if form.get(k, "").strip()}
    try:
        with page_session() as (session, actor):
            roles.confirm(session, actor=actor, partnership_id=partnership_id,
                          role_map_id=_number(form.get("role_map_id")),
                          organisation_id=_number(form.get("organisation_id")) or None,
                          jurisdiction=form.get("jurisdiction", ""), beyond=form.get("beyond") or None,
                          signer=signer or None)
    except (Conflict, Forbidden, Invalid) as exc:
        flash(exc.message, "error")
        return redirect(url_for("web_role_map.role_map", partnership_id=partnership_id) + "#confirm")
    flash(t("role_map.confirmed"), "success")
    return redirect(url_for("web_role_map.role_map", partnership_id=partnership_id))


@bp.route("/mous/<id:mou_id>/role-map", endpoint="of_mou")
def of_mou(mou_id: int) -> Any:
    require_viewer()
    with page_session(write=False) as (session, actor):
        partnership = roles.for_mou(session, actor=actor, mou_id=mou_id)
    return redirect(url_for("web_role_map.role_map", partnership_id=partnership.id))


def _number(value: str | None) -> int:
    """A form's id field; 0 (no such record) for anything else, so the service says what is wrong."""
    return int(value) if value and value.isdigit() else 0
