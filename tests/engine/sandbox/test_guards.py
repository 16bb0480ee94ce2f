"""engine/sandbox/guards.py: what restricted code may call, refused before a huge result is built."""
from __future__ import annotations

from typing import Any

import pytest

from engine.sandbox import guards
from engine.scripting import (
    MAX_INT_BITS,
    MAX_RANGE,
    SandboxedEnvironment,
    ScriptSandboxError,
)
from tests.support.attacks import CPU_BOMB_AS_REPORTED, FSTRING_BOMB, PERCENT_BOMB


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("open('/etc/passwd').read()", r"open\(\) is not available"),
        ("eval('1')", "Eval calls are not allowed"),
        ("exec('x = 1')", "Exec calls are not allowed"),
        ("getattr(1, 'real')", r"getattr\(\) is not available"),
        ("type(1)", r"type\(\) is not available"),
        ("globals()", r"globals\(\) is not available"),
        ("vars()", r"vars\(\) is not available"),
        ("compile('1', 'f', 'eval')", r"compile\(\) is not available"),
        ("__import__('os')", "Names starting with '_' are not allowed"),
        ("x = printed", "'printed' is not available in scripts"),
        ("'{0.__class__}'.format(1)", r"str\.format is not allowed"),
        ("'{}'.format(1)", r"str\.format is not allowed"),
        ("class A:\n    pass", "class definitions are not allowed"),
    ],
)
def test_dangerous_builtins_are_refused(script: str, message: str) -> None:
    with pytest.raises(ScriptSandboxError, match=message):
        SandboxedEnvironment().execute(script, {})


def test_changing_non_container_objects_is_refused() -> None:
    with pytest.raises(ScriptSandboxError, match="Changing a date is not allowed"):
        SandboxedEnvironment().execute("d = date(2024, 1, 1)\nd.year = 3", {})


@pytest.mark.parametrize(
    "script",
    [
        "x = 9**9**9",
        "x = (9**9)**(9**9)",
        "x = 10\ny = x ** 100000",
        "x = 7\nx **= 100000",
        "x = 1 << 10**9",
        "x = 2**5000 * 2**6000",
    ],
)
def test_huge_numbers_are_refused_before_they_are_computed(script: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="number too large"):
        SandboxedEnvironment().execute(script, data)
    # Partial writes stay (Spiff semantics), the refused number never exists.
    assert all(isinstance(v, int) and v.bit_length() <= MAX_INT_BITS for v in data.values())


def test_nine_to_the_nine_to_the_nine_in_parentheses_is_small_and_computed() -> None:
    # (9**9)**9 == 9**81, a 257-bit number: computing it is fine; 9**(9**9) is the bomb (above).
    data: dict[str, Any] = {}
    SandboxedEnvironment().execute("x = (9**9)**9", data)
    assert data["x"] == 9**81


@pytest.mark.parametrize(
    "script",
    [
        "s = 'a' * 10**9",
        "s = 10**9 * 'a'",
        "s = [0] * 10**9",
        "s = 'a'\ns *= 10**9",
        "s = [[0] * 1000000] * 1000000",
        "s = 'x'.ljust(10**10)",
        "s = ('a' * 1000).replace('a', 'b' * 100000)",
        "s = f'{1:>10000000000}'",
        "s = '%10000000000d' % 1",
        "s = 'a' * 600000 + 'b' * 600000",
        "s = ('a' * 1000000).join(['', ''] * 1000)",
        "s = (1).to_bytes(10**9, 'big')",
    ],
)
def test_huge_sequences_are_refused_before_they_are_built(script: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="too long"):
        SandboxedEnvironment().execute(script, data)
    assert len(data.get("s", "")) <= 1  # at most the partial write before the refused line


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("r = range(10**12)", f"more than {MAX_RANGE} items"),
        ("r = sum([[1]] * 10, [])", "can only add numbers"),
        ("r = round(5, -10**9)", "digits is not allowed"),
    ],
)
def test_other_c_level_bombs_are_refused(script: str, message: str) -> None:
    with pytest.raises(ScriptSandboxError, match=message):
        SandboxedEnvironment().execute(script, {})


def test_a_decimal_computes_but_is_not_left_in_task_data() -> None:
    data: dict[str, object] = {}
    SandboxedEnvironment().execute("x = float(decimal.Decimal('1.10') * 3)", data)
    assert data == {"x": 3.3}
    with pytest.raises(ScriptSandboxError, match="holds a Decimal, which cannot be stored in task data"):
        SandboxedEnvironment().execute("x = Decimal('1')", {})


def test_print_is_refused_in_expressions_only() -> None:
    with pytest.raises(ScriptSandboxError, match="print is not allowed in expressions"):
        SandboxedEnvironment().evaluate("print(1)", {})
    data: dict[str, object] = {}
    SandboxedEnvironment().execute("print('hi')\nx = 1", data)
    assert data == {"x": 1}  # the collector is no task data


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = KeyError.mro()", "Access to 'mro' is not allowed"),
        ("x = ValueError.__bases__", "Access to '__bases__' is not allowed"),
        ("x = (i for i in [1]).gi_frame", "Access to 'gi_frame' is not allowed"),
        ("try:\n    1/0\nexcept Exception as e:\n    x = e.__traceback__", "Access to '__traceback__'"),
        ("try:\n    1/0\nexcept Exception as e:\n    x = e.__class__", "Access to '__class__'"),
        ("x = type(KeyError)", r"type\(\) is not available"),
        ("x = object()", r"object\(\) is not available"),
        ("x = BaseException", "name 'BaseException' is not defined"),
        ("x = SystemExit", "name 'SystemExit' is not defined"),
        ("x = GeneratorExit", "name 'GeneratorExit' is not defined"),
    ],
)
def test_no_exception_class_frame_or_type_object_reaches_a_script(source: str, message: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(Exception, match=message):
        SandboxedEnvironment().execute(source, data)
    assert "x" not in data


def test_c_level_cpu_bomb_as_reported_is_refused_by_the_guards() -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="too long"):
        SandboxedEnvironment().execute(CPU_BOMB_AS_REPORTED, data)
    assert "r" not in data


@pytest.mark.parametrize("script", [FSTRING_BOMB, PERCENT_BOMB])
def test_string_building_bombs_are_refused_before_the_string_exists(script: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="formatted text too long"):
        SandboxedEnvironment().execute(script, data)
    assert "b" not in data
    assert "c" not in data


def test_range_sum_and_round_are_bounded_versions_of_the_builtins() -> None:
    safe = guards.SAFE_BUILTINS
    assert list(safe["range"](3)) == [0, 1, 2]
    with pytest.raises(ScriptSandboxError, match="range"):
        safe["range"](guards.MAX_RANGE + 1)
    assert safe["sum"]([1, 2.5]) == 3.5
    with pytest.raises(ScriptSandboxError, match="only add numbers"):
        safe["sum"]([[1], [2]], [])
    assert safe["round"](2.567, 2) == 2.57
    with pytest.raises(ScriptSandboxError, match="round"):
        safe["round"](5, -10**9)


def test_only_dicts_and_lists_may_be_changed_and_guard_names_are_reserved() -> None:
    write = guards.GUARDS["_write_"]
    assert write([1]) == [1]
    assert write({"a": 1}) == {"a": 1}
    with pytest.raises(ScriptSandboxError, match="Changing a tuple"):
        write((1,))
    assert guards.RESERVED_NAMES == guards.GUARD_NAMES | {"__builtins__"}
    assert all(name.startswith("_") for name in guards.GUARD_NAMES)  # scripts cannot name them
