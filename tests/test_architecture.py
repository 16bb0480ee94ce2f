"""The house as the README draws it: data flows one way, api -> ecvet -> engine, with no loop anywhere.

Read from the source with ``ast`` (tests/support/imports.py), so a loop hidden in a function, a
SpiffWorkflow import outside the engine or a module grown past 500 lines fails here, not in review.
The engine's own layers are checked in tests/engine/test_init.py.
"""
from __future__ import annotations

import re

import pytest

from engine.config import ROOT
from tests.support import imports

PRODUCT = ["engine", "ecvet", "demo", "api", "bench", "migrations"]
GRAPH = imports.build(ROOT, PRODUCT)
MAX_LINES = 500
#: What each top-level package may import of the product; anything else is an arrow drawn backwards.
ALLOWED = {
    "engine": {"engine"},
    "ecvet": {"ecvet", "engine"},
    "demo": {"demo", "ecvet", "engine"},
    "api": {"api", "ecvet", "engine", "demo"},  # `ecvet bootstrap-demo` is a CLI command
    "bench": {"bench", "engine", "api", "ecvet"},
    "migrations": {"migrations", "engine", "ecvet"},
}
#: Third-party packages only one layer may use.
OWNED_BY = {"SpiffWorkflow": "engine", "flask": "api", "flask_smorest": "api", "werkzeug": "api"}


def top(module: str) -> str:
    return module.split(".", 1)[0]


def test_no_import_loop_among_product_modules() -> None:
    assert imports.cycles(GRAPH.edges) == []


def test_no_product_module_imports_inside_a_function() -> None:
    assert GRAPH.nested == []


def test_every_arrow_points_down_the_layers() -> None:
    backwards = sorted(
        (source, target)
        for source, targets in GRAPH.edges.items()
        for target in targets
        if top(target) not in ALLOWED[top(source)]
    )
    assert backwards == []


def test_libraries_stay_in_their_layer() -> None:
    leaks = sorted(
        (name, line.strip())
        for name, module in GRAPH.modules.items()
        for line in module.path.read_text(encoding="utf-8").splitlines()
        if (found := re.match(r"\s*(?:from|import)\s+(\w+)", line))
        and found.group(1) in OWNED_BY
        and top(name) not in (OWNED_BY[found.group(1)], "bench")  # bench measures bare SpiffWorkflow
    )
    assert leaks == []


@pytest.mark.parametrize("name", sorted(n for n in GRAPH.modules if not n.startswith("migrations.versions")))
def test_every_module_is_at_most_500_lines(name: str) -> None:
    path = GRAPH.modules[name].path
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES, path
