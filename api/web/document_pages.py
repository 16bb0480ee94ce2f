"""Documents of the instances a participant is party of: readable HTML, PDF and JSON downloads."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from .auth import require_viewer

bp = Blueprint("web_documents", __name__)


@bp.route("/documents", endpoint="index")
def documents_index() -> Any:
    require_viewer()
    return render_template("documents/index.html", active="documents", documents=[])
