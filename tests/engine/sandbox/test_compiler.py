"""engine/sandbox/compiler.py: the policy refuses what no script may write, and compiles each source once."""
from __future__ import annotations

import os
from typing import Any

import pytest

from engine.sandbox.compiler import clean_expression, clean_script, compile_source
from engine.scripting import (
    SandboxedEnvironment,
    ScriptSandboxError,
)
from tests.support.attacks import MRO_ESCAPE
from tests.support.scripts import ESCAPE


def test_compiled_code_is_cached_by_source() -> None:
    env = SandboxedEnvironment()
    source = "cache_probe_value > 41"
    env.evaluate(source, {"cache_probe_value": 1})
    hits = compile_source.cache_info().hits
    assert env.evaluate(source, {"cache_probe_value": 42}) is True
    assert compile_source.cache_info().hits == hits + 1


def test_subclasses_escape_fails_and_does_not_leak_environ() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {}
    message = "Access to '__subclasses__' is not allowed in scripts"
    with pytest.raises(ScriptSandboxError, match=message) as info:
        env.execute(ESCAPE, data)
    assert "environ" not in data
    assert "x" not in data
    assert not any(value in str(info.value) for value in os.environ.values() if len(value) > 8)


@pytest.mark.parametrize(
    "source",
    ["().__class__", "'abc'.__len__()", "(lambda: 1).__globals__", "datetime.__subclasses__()"],
)
def test_dunder_attributes_are_refused(source: str) -> None:
    with pytest.raises(ScriptSandboxError, match="Access to '__[a-z]+__' is not allowed in scripts"):
        SandboxedEnvironment().evaluate(source, {})


@pytest.mark.parametrize("script", ["import os", "from os import path", "import os.path as p"])
def test_import_is_refused(script: str) -> None:
    with pytest.raises(ScriptSandboxError, match="import is not allowed in scripts"):
        SandboxedEnvironment().execute(script, {})


def test_mro_is_refused_so_no_base_exception_or_object_reaches_a_script() -> None:
    with pytest.raises(ScriptSandboxError, match="Access to 'mro' is not allowed in scripts"):
        SandboxedEnvironment().execute(MRO_ESCAPE, {})


def test_compiling_says_whether_code_can_loop_is_proven_bounded_or_empty() -> None:
    loop = compile_source("total = 0\nfor i in items:\n    total += i", "exec")
    assert loop.can_loop
    assert loop.bounded is None
    assert not loop.empty
    condition = compile_source("score >= 50", "eval")
    assert not condition.can_loop
    assert condition.bounded is not None
    assert compile_source("", "exec").empty
    assert compile_source("any(i > 3 for i in items)", "eval").bounded is None  # a generator: an evaluator's


def test_scripts_are_dedented_and_expressions_stripped_before_compiling() -> None:
    assert clean_script("\n    x = 1\n    y = 2\n") == "x = 1\ny = 2"
    assert clean_script(None) == ""
    assert clean_expression("  score >= 50 \n") == "score >= 50"


def test_a_refusal_names_the_line_of_the_first_problem() -> None:
    with pytest.raises(ScriptSandboxError) as refused:
        compile_source("x = 1\ny = 2\nimport os", "exec")
    assert refused.value.lineno == 3
    assert "import is not allowed" in refused.value.message
