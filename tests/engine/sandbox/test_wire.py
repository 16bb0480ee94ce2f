"""engine/sandbox/wire.py: what crosses between the engine and an evaluator, and what task data can hold."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import pytest

from engine.sandbox import wire
from engine.sandbox.pool import EvaluatorPool
from engine.scripting import (
    SandboxedEnvironment,
    ScriptSandboxError,
)
from tests.support.attacks import ALIASED_TASK_DATA, TASK_DATA_BOMB


def test_decimal_left_in_task_data_is_refused_clearly() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {"keep": 1, "amount": Decimal("1.50")}
    with pytest.raises(ScriptSandboxError) as info:
        env.execute("ok = 2", data)
    assert str(info.value) == (
        "Variable 'amount' holds a Decimal, which cannot be stored in task data; use str or float"
    )
    assert data == {"keep": 1, "ok": 2}  # the offending value is dropped so the incident can be saved


def test_nested_unstorable_values_are_named_with_their_path() -> None:
    env = SandboxedEnvironment()
    with pytest.raises(ScriptSandboxError, match=r"Variable 'rows' holds a function at rows\[1\]\['f'\]"):
        env.execute("rows = [1, {'f': lambda: 1}]", {})
    with pytest.raises(ScriptSandboxError, match=r"Variable 'it' holds a map object.*list\(\.\.\.\)"):
        env.execute("it = map(str, [1])", {})
    with pytest.raises(ScriptSandboxError, match="keys must be strings"):
        env.execute("by_id = {1: 'a'}", {})


def test_task_data_bomb_is_refused() -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptSandboxError, match="too long"):
        SandboxedEnvironment().execute(TASK_DATA_BOMB, data)
    assert "b" not in data


def test_aliased_task_data_is_refused_at_the_size_limit_without_being_built() -> None:
    env = SandboxedEnvironment(max_data_bytes=100_000)
    data: dict[str, Any] = {"keep": 1}
    with pytest.raises(ScriptSandboxError, match="larger than the limit of 100000 characters of JSON"):
        env.execute(ALIASED_TASK_DATA, data)
    assert data == {"keep": 1}
    with pytest.raises(ScriptSandboxError, match="result is larger than the limit of 100000"):
        env.evaluate("[list(range(100000))] * 3", {})


def test_data_under_the_limit_comes_back_whole() -> None:
    env = SandboxedEnvironment(max_data_bytes=100_000)
    data: dict[str, Any] = {"start": "2024-01-01"}
    env.execute("rows = [{'n': i, 'label': f'row {i}'} for i in range(1000)]\nwhen = date(2024, 3, 1)", data)
    assert data["rows"][999] == {"n": 999, "label": "row 999"}
    assert len(data["rows"]) == 1000
    assert data["when"].isoformat() == "2024-03-01"
    assert data["start"] == "2024-01-01"


def test_keys_that_look_like_wire_tags_round_trip_unchanged() -> None:
    data: dict[str, Any] = {}
    script = "a = {'\\x00d': '2024-01-01'}\nb = {'\\x00\\x00t': 1, 'k': [date(2024, 1, 2)]}"
    SandboxedEnvironment().execute(script, data)
    assert data["a"] == {"\x00d": "2024-01-01"}
    assert data["b"]["\x00\x00t"] == 1
    assert data["b"]["k"][0].isoformat() == "2024-01-02"


def test_request_values_are_unpickled_from_a_short_list_of_types(small_pool: EvaluatorPool) -> None:
    # A picklable value of a type outside the list: the evaluator refuses to import its class.
    with pytest.raises(ScriptSandboxError, match="a pathlib.PurePosixPath cannot be handed to a script"):
        SandboxedEnvironment(evaluators=small_pool).execute("x = 1", {"thing": PurePosixPath("/etc")})
    with pytest.raises(ScriptSandboxError, match="Task data cannot be handed to the script"):
        SandboxedEnvironment(evaluators=small_pool).execute("x = 1", {"thing": lambda: 1})


def test_dates_and_times_travel_tagged_and_come_back_as_themselves() -> None:
    value = {"when": datetime(2027, 3, 1, 9, 30, tzinfo=UTC), "day": date(2027, 3, 1), "gap": timedelta(days=2),
             "items": (1, 2), "tags": {"b", "a"}}
    text = wire.BoundedEncoder(10_000, timedeltas=True).encode(value)
    assert wire.decode(text) == {"when": value["when"], "day": value["day"], "gap": value["gap"],
                                 "items": [1, 2], "tags": ["a", "b"]}


def test_the_encoder_stops_at_its_budget_and_names_what_cannot_be_stored() -> None:
    with pytest.raises(wire.TooLargeError):
        wire.BoundedEncoder(10).encode(["x" * 20])
    with pytest.raises(wire.UnstorableError) as unstorable:
        wire.BoundedEncoder(1000).encode({"a": [1, {"b": object()}]})
    assert unstorable.value.message("data") == (
        "Variable 'data' holds an object at data['a'][1]['b'], which cannot be stored in task data; "
        "use str, a number, a list or a dict")
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(wire.UnstorableError, match="circular reference"):
        wire.BoundedEncoder(1000).encode(looped)


def test_a_frame_carries_its_length() -> None:
    framed = wire.frame(b"answer")
    assert wire.frame_length(framed[:wire.HEADER_SIZE]) == 6
    assert framed[wire.HEADER_SIZE:] == b"answer"
