"""engine/__init__.py: the layers its docstring draws are the engine's real import graph, without a loop."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine
from engine.config import ROOT
from tests.support import imports

GRAPH = imports.build(ROOT, ["engine"])
MAX_LINES = 500


def layers(doc: str) -> list[list[str]]:
    """The module names of each layer line of the docstring (indented lines after 'Layers')."""
    block = doc.split("Layers, lowest first.", 1)[1]
    return [re.split(r"\s{2,}", line.strip())[0].split() for line in block.splitlines() if line.startswith("    ")]


LAYERS = layers(engine.__doc__ or "")
LAYER_OF = {name: depth for depth, names in enumerate(LAYERS) for name in names}


def unit(module: str) -> str:
    """What a module counts as in the layers: its top-level module or subpackage under engine."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_docstring_names_every_engine_module_once() -> None:
    listed = [name for names in LAYERS for name in names]
    assert len(listed) == len(set(listed))
    units = {unit(name) for name in GRAPH.modules} - {""}
    assert set(listed) == units


def test_no_module_imports_a_later_layer() -> None:
    upward = sorted(
        (source, target)
        for source, targets in GRAPH.edges.items() for target in targets
        if unit(source) and unit(target) and unit(source) != unit(target)
        and LAYER_OF[unit(target)] > LAYER_OF[unit(source)]
    )
    assert upward == []


def test_the_engine_has_no_import_loop() -> None:
    assert imports.cycles(GRAPH.edges) == []


def test_no_engine_module_imports_inside_a_function() -> None:
    assert GRAPH.nested == []


def test_the_engine_knows_no_flask_and_no_domain() -> None:
    foreign = sorted(
        (name, line.strip())
        for name, module in GRAPH.modules.items()
        for line in module.path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(from|import)\s+(flask|api|records|ecvet|demo)\b", line)
    )
    assert foreign == []


@pytest.mark.parametrize("name", sorted(GRAPH.modules))
def test_every_module_is_at_most_500_lines(name: str) -> None:
    path = GRAPH.modules[name].path
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES, path


# -- the graph these tests read can fail them ----------------------------------------------------------

def _package(tmp_path: Path, files: dict[str, str]) -> imports.Graph:
    for relative, text in files.items():
        path = tmp_path / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return imports.build(tmp_path, ["pkg"])


def test_a_loop_hidden_in_a_function_is_still_a_loop(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "def late():\n    from . import a\n    return a\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
    })
    assert imports.cycles(graph.edges) == [["pkg.a", "pkg.b"]]
    assert graph.nested == [("pkg.b", "pkg.a", 2)]
    assert graph.edges["pkg.c"] == set()  # an annotation-only import is no edge


def test_importing_a_sibling_submodule_is_no_edge_to_the_package(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "__init__.py": "from .a import thing\n",
        "a.py": "from . import b\nthing = b.value\n",
        "b.py": "from .c import value\n",
        "c.py": "value = 1\n",
    })
    assert graph.edges == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": set()}
    assert imports.cycles(graph.edges) == []


# -- tests/engine mirrors engine/ -----------------------------------------------------------------------

TESTS = ROOT / "tests" / "engine"
#: Test modules named after what they exercise across modules rather than after one module.
SUITES = {
    "test_hostile_scripts.py": "every script attack of issue 9, through instances and a real worker",
    "test_spiff_hazards.py": "SpiffWorkflow's hazards pinned, each beside the engine's answer to it",
    "test_instance_lists.py": "a party's instance list from its party rows' copies (1708): every writer keeps them",
}


def test_every_engine_module_has_a_test_module_of_its_name() -> None:
    expected = {
        (TESTS / path.relative_to(ROOT / "engine").parent / f"test_{path.stem}.py")
        for path in (ROOT / "engine").rglob("*.py")
        if path.name != "__init__.py"
    } | {TESTS / "test_init.py"}
    assert sorted(str(p.relative_to(ROOT)) for p in expected if not p.exists()) == []


def test_every_test_module_is_named_after_an_engine_module_or_is_a_named_suite() -> None:
    strays = [
        str(path.relative_to(ROOT)) for path in TESTS.rglob("test_*.py")
        if path.name not in SUITES and path.name != "test_init.py"
        and not (ROOT / "engine" / path.relative_to(TESTS).parent / f"{path.stem[5:]}.py").exists()
    ]
    assert strays == []
