"""engine/sandbox/bounded.py: expressions proven bounded run in-process, and agree with the evaluators."""
from __future__ import annotations

import json
from typing import Any

import pytest

from engine.sandbox import bounded
from engine.sandbox.compiler import compile_source
from engine.scripting import SandboxedEnvironment


@pytest.mark.parametrize(
    "expression",
    [
        "score >= 50", "not la_refused and la_next_party == 'learner'",
        "(revision_request or {}).get('review_id') is not None",
        "'P' + str(days) + 'D'", "(datetime.fromisoformat(expires) - timedelta(days=n)).isoformat()",
        "dmninputexpr == 'DE'", "x in ['a', 'b']", "len(items) > 2 and items[0]['k'] < 5",
    ],
)
def test_simple_expressions_are_proven_bounded(expression: str) -> None:
    assert compile_source(expression, "eval").bounded is not None


@pytest.mark.parametrize(
    "expression",
    [
        "[i for i in items]", "x * 3", "s % args", "2 ** n", "f'{x}'", "(y := 1)", "lambda: 1", "range(3)",
        "sorted(items, key=len)", "len", "x.replace('a', 'bb')", "' '.join(items)", "str(*items)",
        "dict(**extra)", "KeyError", "x" + " + x" * 40,
    ],
)
def test_everything_else_goes_to_an_evaluator(expression: str) -> None:
    assert compile_source(expression, "eval").bounded is None


def test_bounded_and_evaluated_expressions_agree() -> None:
    context = {"score": 70, "items": [{"k": 1}, {"k": 9}], "tags": ("a", "b"), "when": "2024-01-31T00:00:00+00:00"}
    expressions = ["score >= 50", "items[1]", "tags", "{'n': score, 'first': items[0]}",
                   "datetime.fromisoformat(when) + timedelta(days=1)", "sorted(['b', 'a'])", "missing_name"]
    env = SandboxedEnvironment()
    for expression in expressions:
        compiled = compile_source(expression, "eval")
        assert compiled.bounded is not None
        in_process = _outcome(lambda c=compiled: bounded.evaluate(c.bounded, context, None, 100_000))
        answer = env._dispatch("eval", compiled, context, None)
        out_of_process = answer["value"] if answer["ok"] else env._error(answer)
        if isinstance(in_process, Exception):
            assert type(in_process).__name__ == type(out_of_process).__name__
            assert str(in_process) == str(out_of_process)
        else:
            assert in_process == out_of_process, expression


def _outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as err:  # noqa: BLE001
        return err


def test_bounded_expressions_never_change_task_data() -> None:
    context = {"d": {"a": [1]}, "s": " x "}
    before = json.dumps(context)
    env = SandboxedEnvironment()
    assert env.evaluate("d.get('a') + [2]", context) == [1, 2]
    assert env.evaluate("s.strip().upper()", context) == "X"
    assert json.dumps(context) == before
