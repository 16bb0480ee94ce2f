"""What a browser asks every site for, served from our own files: the favicon (an ICO and an SVG of ours)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("web_site", __name__)

#: A day: browsers ask for the icon on every page otherwise.
ICON_MAX_AGE = 86400


@bp.route("/favicon.ico", endpoint="favicon")
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page links; the same icon as static/favicon.svg."""
    assert current_app.static_folder is not None
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=ICON_MAX_AGE)
