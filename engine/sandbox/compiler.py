"""Compiling untrusted scripts and expressions: RestrictedPython with our policy, once per source.

The policy refuses imports, classes, ``with``, names starting with ``_`` and forbidden attributes at
compile time, routes ``+ * ** << %`` and f-strings through the runtime guards (engine.sandbox.guards),
and puts a deadline check where tracing cannot see a loop. Parent side only: an evaluator receives
marshalled code and never compiles source itself.
"""
from __future__ import annotations

import ast
import copy
import functools
import marshal
import re
import textwrap
from types import CodeType
from typing import Any, NamedTuple, cast

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import IOPERATOR_TO_STR, RestrictingNodeTransformer, copy_locations

from . import bounded
from .guards import SCRIPT_FILENAME, ScriptSandboxError, forbidden_attribute

_COMPILE_CACHE_SIZE = 4096


# --------------------------------------------------------------------------------------------------
# Compile-time policy
# --------------------------------------------------------------------------------------------------

# Guard functions live in the script's builtins under these names; user code cannot name anything
# starting with "_", so it can neither call nor shadow them.
_BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}
_SIMPLE_NODES = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.UnaryOp, ast.Slice)


def _is_simple(node: ast.AST | None) -> bool:
    """Side-effect-free expressions that may safely be evaluated twice (``a['k'] += 1``)."""
    if node is None:
        return True
    if not isinstance(node, _SIMPLE_NODES):
        return False
    return all(_is_simple(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython policy with clearer messages and guards against single-opcode blow-ups."""

    def _call(self, name: str, args: list[ast.expr], like: ast.stmt | ast.expr | ast.excepthandler) -> ast.Call:
        call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
        copy_locations(call, like)
        return call

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is not None and name.startswith("_") and name != "_":
            self.error(node, f"Names starting with '_' are not allowed in scripts ('{name}')")
            return
        super().check_name(node, name, allow_magic_methods)

    in_expression = False

    def visit_Expression(self, node: ast.Expression) -> Any:
        self.in_expression = True
        return super().visit_Expression(node)

    def visit_Name(self, node: ast.Name) -> Any:
        # A script's print() goes to the instance log (engine.sandbox.library); an expression has no log.
        if node.id == "printed" or (node.id == "print" and self.in_expression):
            self.error(node, "print is not allowed in expressions; store results in variables instead"
                       if node.id == "print" else "'printed' is not available in scripts")
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if forbidden_attribute(attr):
            self.error(node, f"Access to '{attr}' is not allowed in scripts")
            self.node_contents_visit(node)  # keep collecting errors in the rest of the expression
            return node
        return super().visit_Attribute(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import is not allowed in scripts")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import is not allowed in scripts")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in scripts")
        return node

    def visit_With(self, node: ast.With) -> Any:
        self.error(node, "with statements are not allowed in scripts")
        return node

    def visit_Try(self, node: ast.Try) -> Any:
        # The time limit is raised from a trace function, which switches tracing off. Every
        # handler and finally block therefore re-checks the deadline first, so a script cannot
        # swallow the time-limit error and keep running untraced.
        node = self.node_contents_visit(node)
        for handler in node.handlers:
            handler.body.insert(0, self._check_stmt(handler))
        if node.finalbody:
            node.finalbody.insert(0, self._check_stmt(node.finalbody[0]))
        return node

    def visit_While(self, node: ast.While) -> Any:
        # ``while True: pass`` jumps back to the same instruction and so emits no "line" trace event;
        # a deadline check at the top of every while body keeps line tracing sufficient (opcode
        # tracing would make every loop several times slower).
        node = self.node_contents_visit(node)
        node.body.insert(0, self._check_stmt(node))
        return node

    def _check_stmt(self, like: ast.stmt | ast.expr | ast.excepthandler) -> ast.Expr:
        stmt = ast.Expr(self._call("_check_", [], like))
        copy_locations(stmt, like)
        return stmt

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return self._call(guard, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if isinstance(target, ast.Subscript) and _is_simple(target.value) and _is_simple(target.slice):
            # a[k] op= v  ->  _write_(a)[k] = _inplacevar_(op, _getitem_(a, k), v)
            load = copy.deepcopy(target)
            load.ctx = ast.Load()
            new_target = self.visit(target)
            new_load = self.visit(load)
            value = self.visit(node.value)
            call = self._call(
                "_inplacevar_", [ast.Constant(IOPERATOR_TO_STR[type(node.op)]), new_load, value], node
            )
            assign = ast.Assign(targets=[new_target], value=call)
            copy_locations(assign, node)
            return assign
        return super().visit_AugAssign(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        # f"{a}{a}{a}" is one C-level join: every piece goes through _format_ (width and size checks)
        # and the whole through _fstring_, so the result is refused before it is built.
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = self.visit(value.format_spec) if value.format_spec is not None else ast.Constant("")
                copy_locations(spec, value)
                parts.append(self._call("_format_", [self.visit(value.value), spec,
                                                     ast.Constant(value.conversion)], value))
            else:
                parts.append(value)
        return self._call("_fstring_", parts, node)


_LINE_RE = re.compile(r"^Line (\d+): ")


# Code without these nodes runs a bounded number of opcodes, each bounded by the guards, so it
# needs no tracing; anything that can loop or recurse in bytecode is traced.
_LOOPING_NODES = (
    ast.While, ast.For, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
    ast.FunctionDef,
)


class Compiled(NamedTuple):
    """One script or expression, compiled once: restricted code for an evaluator, or bounded code."""

    code: CodeType
    can_loop: bool  # runs under the time-limit tracer in the evaluator
    marshalled: bytes  # what an evaluator receives (it never compiles untrusted source itself)
    bounded: CodeType | None  # proven-bounded expression: evaluated in-process
    empty: bool  # nothing to run


@functools.lru_cache(maxsize=_COMPILE_CACHE_SIZE)
def compile_source(source: str, mode: str) -> Compiled:
    """Compile once per distinct source: conditions and scripts run far more often than they change."""
    # A real SyntaxError, as Spiff expects; "exec" gives a Module, "eval" an Expression.
    tree = cast("ast.Module | ast.Expression", ast.parse(source, filename=SCRIPT_FILENAME, mode=mode))
    can_loop = any(isinstance(node, _LOOPING_NODES) for node in ast.walk(tree))
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(tree, filename=SCRIPT_FILENAME, policy=SandboxPolicy)
    if result.errors:
        messages = list(dict.fromkeys(result.errors))
        match = _LINE_RE.match(messages[0])
        raise ScriptSandboxError("; ".join(messages), lineno=int(match.group(1)) if match else None)
    assert result.code is not None
    bounded_code = bounded.compile_bounded(source) if mode == "eval" else None
    empty = mode == "exec" and not ast.parse(source, mode="exec").body
    return Compiled(result.code, can_loop, marshal.dumps(result.code), bounded_code, empty)


def clean_expression(expression: str) -> str:
    """An expression as it is compiled (and cached): without surrounding whitespace."""
    return expression.strip()


def clean_script(script: str | None) -> str:
    """A script as it is compiled (and cached): dedented, without surrounding blank lines."""
    return textwrap.dedent(script or "").strip("\n")
