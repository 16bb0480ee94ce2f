"""engine/sandbox/library.py: print, the modules and the helper stubs scripts see in an evaluator."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.sandbox import library
from engine.sandbox.guards import MAX_SEQUENCE_LENGTH, ScriptSandboxError


def test_printed_text_is_kept_line_by_line_and_cut_at_its_limit() -> None:
    library.PRINTED.reset()
    out = library.PrintCollector()
    out._call_print("total", 3, sep=": ")  # noqa: SLF001 - RestrictedPython's own entry point
    out._call_print("a\nb")  # noqa: SLF001
    assert library.PRINTED.lines == ["total: 3", "a", "b"]
    for _ in range(20):
        out._call_print("x" * 5000)  # noqa: SLF001
    assert library.PRINTED.size <= library.MAX_PRINTED_CHARS
    assert library.PRINTED.lines[-1] == f"[output cut at {library.MAX_PRINTED_CHARS} characters]"
    with pytest.raises(ScriptSandboxError, match="file="):
        out._call_print("x", file=[])  # noqa: SLF001
    library.PRINTED.reset()


def test_datetime_is_the_class_and_the_module_and_makes_plain_datetimes() -> None:
    dt = library.MODULES["datetime"]
    made = [dt(2027, 3, 1), dt.datetime(2027, 3, 1), dt.now(), dt.datetime.now(), dt.fromisoformat("2027-03-01")]
    assert all(type(value) is datetime for value in made)
    assert dt.timedelta(days=1) == timedelta(days=1)
    assert isinstance(made[0], dt)


def test_module_functions_that_could_build_huge_values_are_bounded() -> None:
    with pytest.raises(ScriptSandboxError):
        library.MODULES["random"].choices([1], k=MAX_SEQUENCE_LENGTH + 1)
    with pytest.raises(ScriptSandboxError):
        library.MODULES["json"].dumps([1], indent=10**6)
    assert library.MODULES["json"].loads(library.MODULES["json"].dumps({"a": 1})) == {"a": 1}
    assert not hasattr(library.MODULES["time"], "sleep")
    assert not hasattr(library.MODULES["json"], "codecs")


def test_a_helper_stub_asks_the_parent() -> None:
    asked: list[tuple[str, list[object]]] = []

    def parent(name: str, args: list[object]) -> str:
        asked.append((name, args))
        return "answer"

    library.ASK_PARENT[:] = [parent]
    try:
        assert library.helper("get_env")() == "answer"
        assert asked == [("get_env", [])]
    finally:
        library.ASK_PARENT.clear()
    with pytest.raises(ScriptSandboxError, match="not available"):
        library.helper("get_env")()
