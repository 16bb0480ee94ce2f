"""Expressions proven bounded, evaluated in-process: the cheap path past the evaluator processes.

Most gateway conditions, DMN entries and timer expressions are a name compared with a constant. An
expression qualifies when its syntax tree has at most MAX_NODES nodes of the kinds below: names,
constants, comparisons, boolean and conditional operators, subscripts and slices, displays, ``+``
``-`` ``/`` ``//``, and calls of a few pure builtins and methods whose cost is linear in their input.
No loops, comprehensions, lambdas, f-strings, ``*``, ``**``, ``%`` or ``<<``: nothing repeats work
or output. Task data reaching an expression is itself bounded (it came from JSON: a request, a
connector, or an evaluator's answer under the size limit), so every such expression costs at most a
small multiple of the data's size. Everything else goes to an evaluator process.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping
from types import CodeType
from typing import Any

from . import wire
from .guards import SAFE_BUILTINS, SCRIPT_FILENAME, ScriptSandboxError

MAX_NODES = 64

#: Builtins an in-process expression may call (each linear in its arguments, or constant).
CALLABLE = frozenset({
    "len", "str", "int", "float", "bool", "abs", "min", "max", "round", "any", "all", "sorted", "sum",
    "list", "tuple", "dict", "set", "datetime", "date", "timedelta",
})
#: Methods an in-process expression may call on a value (linear in the value, or constant).
METHODS = frozenset({
    "get", "keys", "values", "items", "lower", "upper", "strip", "startswith", "endswith", "isoformat",
    "fromisoformat", "date", "total_seconds",
})
#: Plain attributes an in-process expression may read.
ATTRIBUTES = frozenset({"year", "month", "day", "hour", "minute", "second", "days", "seconds"})

_NODES = (
    ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Compare, ast.BoolOp, ast.And, ast.Or,
    ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Invert, ast.BinOp, ast.Add, ast.Sub, ast.Div,
    ast.FloorDiv, ast.IfExp, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Call,
    ast.Attribute, ast.keyword, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot,
    ast.In, ast.NotIn,
)
_BUILTINS = {name: SAFE_BUILTINS[name] for name in CALLABLE}
_SCALARS = frozenset({bool, int, float, str, type(None)})


_BINOPS = (ast.Add, ast.Sub, ast.Div, ast.FloorDiv)


def _allowed_node(node: ast.AST) -> bool:
    return isinstance(node, _NODES) and not (isinstance(node, ast.BinOp) and not isinstance(node.op, _BINOPS))


def _named_by_call(call: ast.Call) -> set[int] | None:
    """Ids of the nodes a call names (its function; ``datetime`` in ``datetime.fromisoformat(...)``),
    or None when the call is not one an in-process expression may make."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(k.arg is None for k in call.keywords):
        return None
    func = call.func
    if isinstance(func, ast.Name):
        return {id(func)} if func.id in CALLABLE else None
    if not isinstance(func, ast.Attribute) or func.attr not in METHODS:
        return None
    if isinstance(func.value, ast.Name) and func.value.id in SAFE_BUILTINS:
        return {id(func), id(func.value)}
    return {id(func)}


def _allowed_reference(node: ast.AST, callees: set[int]) -> bool:
    if isinstance(node, ast.Name):
        # A sandbox builtin used as a value (not called) would behave differently here.
        builtin_value = node.id in SAFE_BUILTINS and (id(node) not in callees or node.id not in CALLABLE)
        return not node.id.startswith("_") and not builtin_value
    if isinstance(node, ast.Attribute):
        return id(node) in callees or node.attr in ATTRIBUTES
    return True


def prove(tree: ast.Expression) -> bool:
    """True when the expression is of the bounded kind described in the module docstring."""
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES or not all(_allowed_node(node) for node in nodes):
        return False
    callees: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Call):
            named = _named_by_call(node)
            if named is None:
                return False
            callees |= named
    return all(_allowed_reference(node, callees) for node in nodes)


def compile_bounded(source: str) -> CodeType | None:
    """Code for the in-process path, or None when the expression is not proven bounded."""
    try:
        tree = ast.parse(source, filename=SCRIPT_FILENAME, mode="eval")
    except SyntaxError:
        return None
    if not prove(tree):
        return None
    return compile(tree, SCRIPT_FILENAME, "eval")


def evaluate(code: CodeType, context: Mapping[str, Any], external_context: Mapping[str, Any] | None,
             max_bytes: int) -> Any:
    """Evaluate in this process; task data shadows external context, which shadows the builtins."""
    builtins = _BUILTINS if not external_context else {**_BUILTINS, **external_context}
    result = eval(code, {"__builtins__": builtins}, context)  # noqa: S307 - proven bounded above
    return normalise(result, max_bytes)


def normalise(result: Any, max_bytes: int) -> Any:
    """The same value an evaluator would answer with (tuples and sets as lists, refusals alike)."""
    if type(result) in _SCALARS:
        return result
    try:
        text = wire.BoundedEncoder(max_bytes, timedeltas=True).encode(result)
    except wire.UnstorableError as err:
        raise ScriptSandboxError(err.message("result", "The expression").replace("'result' ", "")) from None
    except wire.TooLargeError:
        raise ScriptSandboxError(
            f"The expression's result is larger than the limit of {max_bytes} characters of JSON; "
            "keep less in task data"
        ) from None
    return wire.decode(text)
