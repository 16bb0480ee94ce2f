"""api/web/vendor.py's ES modules: the graph the modeler loads from node_modules is complete and closed,
only its files are served, and the page's import map is allowed by the CSP by its hash and nothing else."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import PurePosixPath
from typing import Any

from api.web import vendor
from tests.api.conftest import World
from tests.api.web.conftest import Browser, start_two_lane

IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def test_every_import_of_the_graph_resolves_inside_it() -> None:
    graph = vendor.module_graph()
    assert "bpmn-js-properties-panel/dist/index.esm.js" in graph.files
    assert "@bpmn-io/properties-panel/dist/index.esm.js" in graph.files
    for path in graph.files:
        for imported in vendor._IMPORT_RE.findall((vendor.NODE_MODULES / path).read_text(encoding="utf-8")):
            if imported.startswith("."):
                wanted = str(vendor._normal(PurePosixPath(path).parent / imported))
                target = graph.aliases.get(wanted) or graph.aliases.get(wanted + "/") or wanted
                assert target in graph.files, f"{path} imports {imported}"
            else:
                assert imported in graph.bare or imported in vendor.SHIMS, f"{path} imports {imported}"
    # CommonJS cannot be imported by a browser: such a package is replaced by our shim, not served.
    assert not any(path.startswith("classnames/") for path in graph.files)


def test_only_files_of_the_graph_are_served(app: Any) -> None:
    client = app.test_client()
    stamp = vendor.modules_stamp()
    panel = client.get(f"/vendor-modules/{stamp}/bpmn-js-properties-panel/dist/index.esm.js")
    assert panel.status_code == 200
    assert panel.mimetype == "text/javascript"
    # preact reached as a folder ("../.." from its hooks) is the same file under its one URL
    folder = client.get(f"/vendor-modules/{stamp}/@bpmn-io/properties-panel/preact/")
    assert folder.status_code == 200
    assert folder.data == (vendor.NODE_MODULES / "@bpmn-io/properties-panel/preact/dist/preact.module.js").read_bytes()
    for path in (f"{stamp}/bpmn-js/package.json", f"{stamp}/bpmn-js/lib/Modeler.js", f"{stamp}/../package-lock.json",
                 f"{stamp}/%2e%2e/%2e%2e/package-lock.json", "0000/bpmn-js-properties-panel/dist/index.esm.js",
                 f"{stamp}/classnames/index.js"):
        assert client.get(f"/vendor-modules/{path}").status_code == 404, path


def test_the_modeler_page_allows_its_import_map_by_hash_only(world: World, pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    response = pages["admin"].get("/definitions/two_lane_review/modeler")
    assert response.status_code == 200
    (text,) = IMPORT_MAP.findall(response.get_data(as_text=True))
    imports = json.loads(text)["imports"]
    preact = imports["@bpmn-io/properties-panel/preact"]
    assert preact.endswith("/@bpmn-io/properties-panel/preact/")  # one URL for every way preact is reached
    assert imports[preact.rstrip("/")] == preact
    assert imports["classnames"] == "/static/js/modeler/classnames.js"
    assert all(url.startswith(("/vendor-modules/", "/static/")) for url in imports.values())
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    # Other pages keep the strict policy: no inline script at all.
    other = pages["admin"].get("/definitions/two_lane_review")
    assert "script-src 'self';" in other.headers["Content-Security-Policy"]


def test_the_panel_and_minimap_stylesheets_are_served_from_the_allow_list(app: Any) -> None:
    client = app.test_client()
    panel = client.get("/vendor/@bpmn-io/properties-panel/assets/properties-panel.css")
    assert panel.status_code == 200
    assert panel.mimetype == "text/css"
    assert client.get("/vendor/diagram-js-minimap/assets/diagram-js-minimap.css").status_code == 200
    for url in ("/vendor/@bpmn-io/properties-panel/index.esm.js", "/vendor/@bpmn-io/properties-panel/../package.json",
                "/vendor/diagram-js-minimap/package.json", "/vendor/@left/pad/index.js"):
        assert client.get(url).status_code == 404, url
