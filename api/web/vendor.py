"""Front-end libraries served from node_modules/ (installed by `npm ci` from the committed lock file).

Only the files listed here are reachable, each under ``/vendor/<package>/<path>``, with the path
relative to the package's ``dist/`` folder (or the folder :data:`BASE` names) so the stylesheets'
relative font URLs keep working. Nothing third-party is committed and nothing comes from a CDN; the
URL carries the installed version (``?v=``), so browsers may cache each file for a long time.

Libraries that ship no browser bundle with the parts our own code needs (the properties panel's entry
components are not in its UMD file) are loaded as the ES modules their packages ship, under
``/vendor-modules/<path in node_modules>``: the graph of files reachable from :data:`MODULE_ENTRIES`,
resolved here as Node would (package ``exports``/``module`` fields, extension-less relative paths),
and mapped for the browser by an import map (:func:`import_map`) that the page inlines. Only files of
that graph are served. A package that ships CommonJS only gets a small ES module of ours (:data:`SHIMS`).
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import Any

from flask import Blueprint, abort, current_app, request, send_from_directory, url_for

from engine.config import ROOT

from . import security

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
    "@bpmn-io/properties-panel": frozenset({"assets/properties-panel.css"}),
    "diagram-js-minimap": frozenset({"assets/diagram-js-minimap.css"}),
}

#: The folder of a package its ALLOWED paths are relative to, where it is not dist/.
BASE: dict[str, str] = {"diagram-js-minimap": ""}

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
@bp.route("/vendor/@<scope>/<package>/<path:filename>")
def asset(package: str, filename: str, scope: str | None = None) -> Any:
    """One allow-listed file from node_modules/<package>/dist/; anything else is 404."""
    if scope is not None:
        package = f"@{scope}/{package}"
    if filename not in ALLOWED.get(package, ()):
        abort(404)
    folder = NODE_MODULES / package / BASE.get(package, "dist")
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
    if package.startswith("@"):
        scope, name = package[1:].split("/", 1)
        return url_for("web_vendor.asset", scope=scope, package=name, filename=filename,
                       v=installed_version(package))
    return url_for("web_vendor.asset", package=package, filename=filename, v=installed_version(package))


# --- ES modules -------------------------------------------------------------------------------------

#: The bare specifiers our own modules import (api/static/js/modeler*.js, js/dmn/modeler.js); everything
#: they import is found from here.
MODULE_ENTRIES = (
    "bpmn-js-properties-panel",
    "@bpmn-io/properties-panel",
    "@bpmn-io/properties-panel/preact",
    "@bpmn-io/properties-panel/preact/hooks",
    "diagram-js-minimap",
    "dmn-js/lib/Modeler",  # the decision-table editor (api/static/js/dmn/modeler.js)
)
#: Packages that ship CommonJS only -> our ES module with the same interface (in api/static/).
SHIMS = {"classnames": "js/modeler/classnames.js", "css.escape": "js/dmn/css-escape.js",
         "escape-html": "js/dmn/escape-html.js"}

_IMPORT_RE = re.compile(r"""(?:^|[;\n}])\s*(?:import|export)\s*(?:[\w*${},\s]+?\s*from\s*)?['"]([^'"]+)['"]""")
_CONDITIONS = ("browser", "import", "module", "default")


@dataclass(frozen=True)
class ModuleGraph:
    """The ES module files the pages may load, as paths relative to node_modules/."""

    files: frozenset[str]
    #: bare specifier -> file, for the import map
    bare: dict[str, str]
    #: a path some module imports without its extension -> the file it means
    aliases: dict[str, str]


def _exported(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, list):
        return _exported(entry[0]) if entry else None
    if isinstance(entry, dict):
        for condition in _CONDITIONS:
            if condition in entry and (found := _exported(entry[condition])):
                return found
    return None


def _as_file(path: PurePosixPath) -> PurePosixPath:
    """The file a path without extension means (Node's rules: .js, .mjs, a folder's index or package.json)."""
    for candidate in (path, PurePosixPath(f"{path}.js"), PurePosixPath(f"{path}.mjs"), path / "index.js"):
        if (NODE_MODULES / candidate).is_file():
            return candidate
    manifest = NODE_MODULES / path / "package.json"
    if manifest.is_file():
        meta = json.loads(manifest.read_text())
        if main := meta.get("module") or meta.get("main"):
            return _as_file(_normal(path / main))
    raise LookupError(f"cannot resolve {path} in node_modules (run `make setup`: npm ci)")


def _normal(path: PurePosixPath) -> PurePosixPath:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)


def _resolve_bare(specifier: str) -> PurePosixPath:
    parts = specifier.split("/")
    name = "/".join(parts[:2] if specifier.startswith("@") else parts[:1])
    sub = specifier[len(name):]
    manifest = NODE_MODULES / name / "package.json"
    if not manifest.is_file():
        raise LookupError(f"package {name} is not installed (run `make setup`: npm ci)")
    meta = json.loads(manifest.read_text())
    exports = meta.get("exports")
    if exports is not None:
        if isinstance(exports, dict) and any(key.startswith(".") for key in exports):
            exports = exports.get("." + sub)
        elif sub:
            exports = None
        if target := _exported(exports):
            return _normal(PurePosixPath(name) / target)
    if sub:
        return _as_file(PurePosixPath(name + sub))
    return _as_file(_normal(PurePosixPath(name) / (meta.get("module") or meta.get("main") or "index.js")))


@cache
def module_graph() -> ModuleGraph:
    """Every file reachable from :data:`MODULE_ENTRIES` (computed once per process)."""
    files: set[str] = set()
    bare: dict[str, str] = {}
    aliases: dict[str, str] = {}
    todo = list(MODULE_ENTRIES)
    pending: list[PurePosixPath] = []
    while todo or pending:
        if todo:
            specifier = todo.pop()
            if specifier in bare or specifier in SHIMS:
                continue
            path = _resolve_bare(specifier)
            bare[specifier] = str(path)
        else:
            path = pending.pop()
        if str(path) in files:
            continue
        files.add(str(path))
        for imported in _IMPORT_RE.findall((NODE_MODULES / path).read_text(encoding="utf-8")):
            if not imported.startswith("."):
                todo.append(imported)
                continue
            wanted = _normal(path.parent / imported)
            target = _as_file(wanted)
            if target != wanted:
                # "../.." reaches the browser as a URL ending in "/": both spellings name the file.
                directory = imported.endswith(("/", "/.", "/..")) or imported in (".", "..")
                aliases[str(wanted) + ("/" if directory else "")] = str(target)
            pending.append(target)
    return ModuleGraph(frozenset(files), bare, aliases)


def _installed_graph() -> ModuleGraph:
    """The graph, or none before `npm ci` (logged; the modeler page then offers the upload form only)."""
    try:
        return module_graph()
    except (LookupError, OSError, ValueError) as exc:
        current_app.logger.error("front-end modules missing: %s", exc)
        return ModuleGraph(frozenset(), {}, {})


@cache
def modules_stamp() -> str:
    """Part of every module URL that changes with the lock file, so browsers may cache modules long.
    (One stamp for the whole graph: relative imports keep it, and every file has exactly one URL,
    which keeps one instance of each module, e.g. of preact, whose hooks need a single copy.)"""
    try:
        return hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


@bp.route("/vendor-modules/<stamp>/<path:filename>")
def module(stamp: str, filename: str) -> Any:
    """One file of the module graph from node_modules/; anything else is 404."""
    graph = _installed_graph()
    if request.path.endswith("/") and not filename.endswith("/"):
        filename += "/"  # the converter drops it; a folder alias keeps it
    filename = graph.aliases.get(filename, filename)
    if stamp != modules_stamp() or filename not in graph.files:
        abort(404)
    return send_from_directory(NODE_MODULES, filename, mimetype="text/javascript", max_age=30 * 24 * 3600)


def import_map() -> str:
    """The page's import map (JSON) for the module graph and our shims; its hash is allowed by the CSP.
    Paths imported without their extension map to the file's one URL."""
    graph = _installed_graph()

    def url(path: str) -> str:
        return url_for("web_vendor.module", stamp=modules_stamp(), filename=path)

    # An import map cannot send a URL ending in "/" to a file, so a file some module reaches as a folder
    # ("../..") keeps that folder URL (served through the alias) as its one URL.
    canonical = {path: url(alias) for alias, path in graph.aliases.items() if alias.endswith("/")}
    imports = {specifier: canonical.get(path) or url(path) for specifier, path in graph.bare.items()}
    imports.update({url(alias): canonical.get(path) or url(path) for alias, path in graph.aliases.items()
                    if not alias.endswith("/")})
    imports.update({specifier: url_for("static", filename=static) for specifier, static in SHIMS.items()})
    # Inlined in a <script>: no "<" may close it early.
    text = json.dumps({"imports": imports}, indent=1, sort_keys=True).replace("<", "\\u003c")
    security.allow_inline_script(text)
    return text


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"vendor_url": vendor_url, "import_map": import_map}
