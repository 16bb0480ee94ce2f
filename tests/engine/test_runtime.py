"""engine/runtime.py: SpiffWorkflow behind one door: specs cached, lean state, one run and its events."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException

from bench.generate import error_end_process, sequential_process
from engine import runtime
from engine.bundle import parse_bundle
from engine.scripting import SandboxedScriptEngine, ScriptError
from tests.support.scripts import make_workflow, script_process, service_process


def parsed(xml: bytes, key: str) -> tuple[Any, dict[str, Any]]:
    process = parse_bundle({f"{key}.bpmn": xml}).processes[0]
    return runtime.spec_from_json(json.dumps(process.spec_dict))


def test_specs_round_trip_through_json() -> None:
    spec, subs = parsed(sequential_process("seq", 2), "seq")
    again = runtime.spec_from_json(runtime.spec_to_json(spec, subs))
    assert again[0].name == "seq"
    assert set(again[0].task_specs) == set(spec.task_specs)


def test_the_spec_cache_loads_once_per_key_and_forgets_the_oldest() -> None:
    cache = runtime.SpecCache(size=2)
    text = runtime.spec_to_json(*parsed(sequential_process("seq", 1), "seq"))
    loads: list[str] = []

    def loader(key: str) -> Callable[[], str]:
        def load() -> str:
            loads.append(key)
            return text

        return load

    first = cache.get("a", loader("a"))
    assert cache.get("a", loader("a")) is first
    assert loads == ["a"]
    cache.get("b", loader("b"))
    cache.get("c", loader("c"))  # "a" is the least recently used: dropped
    cache.get("a", loader("a"))
    assert loads == ["a", "b", "c", "a"]
    prepared: list[str] = []
    cache.get("d", loader("d"), lambda spec, _subs: prepared.append(spec.name))
    assert prepared == ["seq"]


def test_a_kept_workflow_is_handed_out_once_and_only_for_its_exact_state_and_spec() -> None:
    cache = runtime.WorkflowCache(size=2)
    spec, subs = parsed(sequential_process("seq", 1), "seq")
    other_spec, _ = parsed(sequential_process("seq", 1), "seq")
    workflow = BpmnWorkflow(spec, subs)
    cache.put("i1", "state-1", workflow)
    assert cache.take("i1", "state-1", spec) is workflow
    assert cache.take("i1", "state-1", spec) is None  # taken: no second holder
    for state, wanted_spec in (("state-2", spec), ("state-1", other_spec)):
        cache.put("i1", "state-1", workflow)
        assert cache.take("i1", state, wanted_spec) is None
        assert len(cache) == 0  # a stale entry goes too
    for key in ("a", "b", "c"):
        cache.put(key, "s", workflow)
    assert len(cache) == 2
    assert cache.take("a", "s", spec) is None  # the least recently kept: dropped
    assert cache.take("c", "s", spec) is workflow
    by_length = runtime.WorkflowCache(size=10, max_chars=10)
    by_length.put("big", "x" * 11, workflow)  # longer than the whole bound: not kept at all
    assert len(by_length) == 0
    for key in ("a", "b", "c"):
        by_length.put(key, "xxxx", workflow)  # 12 characters kept would pass 10: "a" goes
    assert len(by_length) == 2
    assert by_length.take("a", "xxxx", spec) is None
    by_length.put("b", "xxxxxx", workflow)  # kept again, longer: its old length is not counted twice
    assert len(by_length) == 2
    by_length.put("d", "x", workflow)  # 4 + 6 + 1 passes 10: the least recently kept ("c") goes
    assert by_length.take("c", "xxxx", spec) is None
    assert by_length.take("b", "xxxxxx", spec) is workflow


def test_lean_state_has_no_spec_and_comes_back_with_the_cached_one() -> None:
    spec, subs = parsed(sequential_process("seq", 2), "seq")
    workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
    workflow.do_engine_steps()
    state = runtime.dump_state(workflow)
    assert '"spec"' not in state
    assert json.loads(state)["serializer_version"] == VERSION
    engine = SandboxedScriptEngine()
    restored = runtime.load_state(state, spec, subs, engine)
    assert restored.script_engine is engine
    assert [t.task_spec.name for t in runtime.ready_user_tasks(restored)] == \
        [t.task_spec.name for t in runtime.ready_user_tasks(workflow)]


def test_a_run_turns_an_unhandled_error_end_into_an_incident() -> None:
    spec, subs = parsed(error_end_process("e"), "e")
    outcome = runtime.run_engine(BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine()))
    assert [(i.kind, "DOCS_MISSING" in i.message) for i in outcome.incidents] == [("error", True)]


def test_a_failing_script_is_an_incident_on_its_task() -> None:
    workflow = make_workflow(script_process("x = 1 / 0"))
    outcome = runtime.run_engine(workflow)
    (incident,) = outcome.incidents
    assert (incident.kind, incident.bpmn_id) == ("script", "run")
    assert "ZeroDivisionError" in incident.message
    assert [runtime.bpmn_id_of(t) for t in runtime.error_tasks(workflow)] == ["run"]


def test_an_exception_of_spiffworkflow_itself_is_an_incident_too() -> None:
    def broken() -> None:
        raise AttributeError("'NoneType' object has no attribute 'bpmn_id'")

    outcome = runtime.run_engine(make_workflow(script_process("x = 1")), before=broken)
    assert [(i.kind, i.message) for i in outcome.incidents] == [
        ("engine", "AttributeError: 'NoneType' object has no attribute 'bpmn_id'")]


def test_an_expression_error_outside_any_task_is_raised_only_when_asked() -> None:
    def unreadable() -> None:
        raise ScriptError("name 'case_id' is not defined")

    outcome = runtime.run_engine(make_workflow(script_process("x = 1")), before=unreadable)
    assert [i.kind for i in outcome.incidents] == ["engine"]
    with pytest.raises(ScriptError):
        runtime.run_engine(make_workflow(script_process("x = 1")), before=unreadable, raise_expression_errors=True)


def test_a_service_task_is_no_user_task() -> None:
    workflow = make_workflow(service_process("lookup"))
    for task_spec in workflow.spec.task_specs.values():
        if hasattr(task_spec, "operation_name"):
            task_spec.manual = True  # as the engine makes every service task (the worker runs it)
    workflow.do_engine_steps()
    assert runtime.ready_user_tasks(workflow) == []


def test_an_error_message_carries_its_notes_trimmed() -> None:
    error = ValueError("it failed")
    error.add_note("in task 'run'")
    assert runtime.error_message(error) == "it failed; in task 'run'"
    spiffs = WorkflowException("it failed")
    spiffs.add_note("in task 'run'")  # SpiffWorkflow's own notes are in its text already
    assert runtime.error_message(spiffs) == "it failed. in task 'run'"
    assert len(runtime.error_message(ValueError("x" * 5000))) == 2000
