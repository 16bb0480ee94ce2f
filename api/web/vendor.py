"""Front-end libraries served from node_modules/ (installed by `npm ci` from the committed lock file).

Only the files listed here are reachable, each under ``/vendor/<package>/<path>``, with the path
relative to the package's ``dist/`` folder so the stylesheets' relative font URLs keep working.
Nothing third-party is committed and nothing comes from a CDN; the URL carries the installed
version (``?v=``), so browsers may cache each file for a long time.
"""
from __future__ import annotations

import json
import mimetypes
from functools import cache
from typing import Any

from flask import Blueprint, abort, current_app, send_from_directory, url_for

from engine.config import ROOT

NODE_MODULES = ROOT / "node_modules"

_FONTS = ("woff2", "woff", "ttf", "eot", "svg")

#: package -> files (relative to its dist/ folder) the pages may load.
ALLOWED: dict[str, frozenset[str]] = {
    "bpmn-js": frozenset({
        "bpmn-viewer.production.min.js",
        "bpmn-navigated-viewer.production.min.js",
        "bpmn-modeler.production.min.js",
        "assets/diagram-js.css",
        "assets/bpmn-js.css",
        "assets/bpmn-font/css/bpmn.css",
        *(f"assets/bpmn-font/font/bpmn.{ext}" for ext in _FONTS),
    }),
    "dmn-js": frozenset({
        "dmn-modeler.production.min.js",
        "dmn-viewer.production.min.js",
        "assets/diagram-js.css",
        "assets/dmn-js-shared.css",
        "assets/dmn-js-drd.css",
        "assets/dmn-js-decision-table.css",
        "assets/dmn-js-decision-table-controls.css",
        "assets/dmn-js-literal-expression.css",
        "assets/dmn-js-boxed-expression.css",
        "assets/dmn-js-boxed-expression-controls.css",
        "assets/dmn-font/css/dmn.css",
        *(f"assets/dmn-font/font/dmn.{ext}" for ext in _FONTS),
    }),
    "chart.js": frozenset({"chart.umd.min.js"}),
}

_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".eot": "application/vnd.ms-fontobject",
          ".svg": "image/svg+xml", ".js": "text/javascript", ".css": "text/css"}

bp = Blueprint("web_vendor", __name__)


@cache
def installed_version(package: str) -> str:
    """The version npm installed (from the package's own package.json); 'missing' before `npm ci`."""
    try:
        return str(json.loads((NODE_MODULES / package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "missing"


@bp.route("/vendor/<package>/<path:filename>")
def asset(package: str, filename: str) -> Any:
    """One allow-listed file from node_modules/<package>/dist/; anything else is 404."""
    if filename not in ALLOWED.get(package, ()):
        abort(404)
    folder = NODE_MODULES / package / "dist"
    if not (folder / filename).is_file():
        current_app.logger.error("front-end library file missing: %s/%s (run `make setup`: npm ci)", package, filename)
        abort(404)
    suffix = "." + filename.rsplit(".", 1)[-1]
    mimetype = _TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return send_from_directory(folder, filename, mimetype=mimetype, max_age=30 * 24 * 3600)


def vendor_url(package: str, filename: str) -> str:
    """URL of an allow-listed library file, versioned so a new lock file busts browser caches."""
    if filename not in ALLOWED.get(package, ()):
        raise KeyError(f"{package}/{filename} is not in api.web.vendor.ALLOWED")
    return url_for("web_vendor.asset", package=package, filename=filename, v=installed_version(package))


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"vendor_url": vendor_url}
