"""The import graph of the product's packages, read with ``ast`` (nothing is imported to build it).

An edge A -> B means module A imports module B anywhere in its code, inside functions included (an
import inside a function is a loop hidden, not a loop broken); imports under ``if TYPE_CHECKING:`` are
left out, as they only serve annotations. ``from . import x`` is an edge to the submodule ``x`` when
there is one, not to the package it sits in.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@dataclass
class Graph:
    modules: dict[str, Module]
    edges: dict[str, set[str]] = field(default_factory=dict)
    #: (importer, imported, line) of every import made inside a function or method
    nested: list[tuple[str, str, int]] = field(default_factory=list)


def find_modules(root: Path, packages: Iterable[str]) -> dict[str, Module]:
    """Every module of the given top-level packages under ``root``, by dotted name."""
    found: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(nodes: Iterable[ast.AST], in_function: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Import statements with whether they sit inside a function; TYPE_CHECKING blocks skipped."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _imports(node.orelse, in_function)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
            continue
        nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _imports(ast.iter_child_nodes(node), nested)


def _targets(node: ast.Import | ast.ImportFrom, module: Module, modules: dict[str, Module]) -> set[str]:
    """The product modules an import statement loads (the nearest enclosing module of each name)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.name if module.is_package else module.name.rpartition(".")[0]
            parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    found = set()
    for imported in names:
        name = imported
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module.name:
            found.add(name)
    return found


def build(root: Path, packages: Iterable[str]) -> Graph:
    """The import graph among the modules of ``packages``."""
    modules = find_modules(root, packages)
    graph = Graph(modules, {name: set() for name in modules})
    for name, module in modules.items():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        assert isinstance(tree, ast.Module)
        for node, in_function in _imports(tree.body, False):
            targets = _targets(node, module, modules)
            graph.edges[name] |= targets
            graph.nested += [(name, target, node.lineno) for target in sorted(targets) if in_function]
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted, in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)
