"""SpiffWorkflow 3.2.0 behaviour the engine relies on, pinned so an upgrade that changes it fails loudly.

Hazard numbers follow /work/shared/notes/spiffworkflow-3.2.md. For each hazard there is a test of the
raw library (stock PythonScriptEngine / BpmnWorkflowSerializer) and a test of our countermeasure
(engine.scripting / engine.runtime / the way engine.tasks completes a task). No database needed.
"""
from __future__ import annotations

import copy
import json
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from bench.generate import LANES, error_end_process, script_process, sequential_process
from engine import runtime
from engine.scripting import SandboxedScriptEngine
from tests.support.engine import spec_of

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://bpmn.io/schema/bpmn"'
)
ESCAPE = (
    "x = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
    "[0].__init__.__globals__['environ']"
)


def timer_process(kind: str, expression: str) -> bytes:
    """start -> intermediate timer catch event -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait" name="Wait for the deadline">
      <bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


SERVICE_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Look up the country">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="erasmus_lookup" resultVariable="answer">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="code" type="str" value="country.upper()"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()

# A user task submits nested data, a later script changes it in place, a second user task follows.
ALIASING_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="submit"/>
    <bpmn:userTask id="submit" name="Submit documents"/>
    <bpmn:sequenceFlow id="f2" sourceRef="submit" targetRef="append"/>
    <bpmn:scriptTask id="append"><bpmn:script>doc['files'].append('late.pdf')</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="append" targetRef="review"/>
    <bpmn:userTask id="review" name="Review documents"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()

# Embedded subprocess and call activity, both holding user tasks: lean state must restore both.
NESTED_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="main" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="sub_start"/>
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="inner"/>
      <bpmn:userTask id="inner"/>
      <bpmn:sequenceFlow id="s2" sourceRef="inner" targetRef="sub_end"/>
      <bpmn:endEvent id="sub_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="call"/>
    <bpmn:callActivity id="call" calledElement="called"/>
    <bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  <bpmn:process id="called" isExecutable="true">
    <bpmn:startEvent id="c_start"/>
    <bpmn:sequenceFlow id="c1" sourceRef="c_start" targetRef="c_task"/>
    <bpmn:userTask id="c_task"/>
    <bpmn:sequenceFlow id="c2" sourceRef="c_task" targetRef="c_script"/>
    <bpmn:scriptTask id="c_script"><bpmn:script>total = count * 2</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="c3" sourceRef="c_script" targetRef="c_end"/>
    <bpmn:endEvent id="c_end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()

# The same uncaught-looking error as bench.generate.error_end_process, but caught by a boundary event.
CAUGHT_ERROR_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:error id="err_docs" name="Documents missing" errorCode="DOCS_MISSING"/>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="sub_start"/>
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="sub_error"/>
      <bpmn:endEvent id="sub_error"><bpmn:errorEventDefinition errorRef="err_docs"/></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="caught" attachedToRef="sub">
      <bpmn:errorEventDefinition errorRef="err_docs"/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="caught" targetRef="fix"/>
    <bpmn:userTask id="fix" name="Fix documents"/>
    <bpmn:sequenceFlow id="f4" sourceRef="fix" targetRef="end_fixed"/>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="end_fixed"/>
  </bpmn:process>
</bpmn:definitions>""".encode()

EXTENSIONS_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" processRef="proc"/>
  </bpmn:collaboration>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_send" name="Sending organisation">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>propose</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_host" name="Hosting organisation">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="propose"/>
    <bpmn:userTask id="propose" name="Propose placement">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="propose-schema.json"/>
        </spiffworkflow:properties>
        <spiffworkflow:instructionsForEndUser>Describe the placement.</spiffworkflow:instructionsForEndUser>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="propose" targetRef="review"/>
    <bpmn:userTask id="review" name="Review placement"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


# -- helpers ---------------------------------------------------------------------------------------


def parse(xml: bytes, process_id: str) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml, filename=f"{process_id}.bpmn")
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def make_workflow(xml: bytes, process_id: str = "proc", engine: PythonScriptEngine | None = None) -> BpmnWorkflow:
    spec, subs = parse(xml, process_id)
    return BpmnWorkflow(spec, subs, script_engine=engine if engine is not None else PythonScriptEngine())


def stock_serializer() -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def task_named(workflow: BpmnWorkflow, bpmn_id: str) -> Any:
    return next(t for t in workflow.get_tasks() if spec_of(t).bpmn_id == bpmn_id)


def states(workflow: BpmnWorkflow) -> dict[str, str]:
    return {spec_of(t).bpmn_id: TaskState.get_name(t.state) for t in workflow.get_tasks() if spec_of(t).bpmn_id}


def complete_like_engine(task: Any, data: dict[str, Any]) -> None:
    """What engine.tasks.complete does inside run_engine's `before` hook."""
    task.data.update(copy.deepcopy(data))
    task.run()


class _ShiftedDatetime(datetime):
    """`datetime` for Spiff's timer module whose now() runs `shift` ahead of the real clock."""

    shift = timedelta(0)

    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        return datetime.now(tz) + cls.shift


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> type[_ShiftedDatetime]:
    """Lets a test move the timers' clock forward without sleeping (monkeypatch puts it back)."""
    monkeypatch.setattr(timer_module, "datetime", _ShiftedDatetime)
    monkeypatch.setattr(_ShiftedDatetime, "shift", timedelta(0))
    return _ShiftedDatetime


# -- 1. scripts are not sandboxed ------------------------------------------------------------------


def test_hazard1_stock_engine_executes_import_os() -> None:
    workflow = make_workflow(script_process("p", "import os\ncwd = os.getcwd()\nsep = os.sep"), "p")
    workflow.do_engine_steps()
    script = task_named(workflow, "script")
    assert script.state == TaskState.COMPLETED
    assert script.data["cwd"] == os.getcwd()
    assert script.data["sep"] == os.sep
    assert script.data["os"] is os  # the module itself lands in task data


def test_hazard1_stock_engine_lets_a_script_read_the_environment() -> None:
    workflow = make_workflow(script_process("p", ESCAPE), "p")
    workflow.do_engine_steps()
    assert task_named(workflow, "script").data["x"] is os.environ


def test_hazard1_sandboxed_engine_refuses_import_os() -> None:
    workflow = make_workflow(script_process("p", "import os\ncwd = os.getcwd()"), "p", SandboxedScriptEngine())
    with pytest.raises(WorkflowTaskException, match="import is not allowed"):
        workflow.do_engine_steps()
    script = task_named(workflow, "script")
    assert script.state == TaskState.ERROR
    assert "os" not in script.data
    assert "cwd" not in script.data


def test_hazard1_sandboxed_engine_refuses_the_environ_escape_as_an_incident() -> None:
    workflow = make_workflow(script_process("p", ESCAPE), "p", SandboxedScriptEngine())
    outcome = runtime.run_engine(workflow)
    assert [i.kind for i in outcome.incidents] == ["script"]
    assert "is not allowed" in outcome.incidents[0].message
    assert outcome.incidents[0].bpmn_id == "script"
    assert "x" not in task_named(workflow, "script").data


# -- 2. unhandled BPMN errors are silent -----------------------------------------------------------


def test_hazard2_stock_uncaught_error_end_completes_subprocess_silently() -> None:
    workflow = make_workflow(error_end_process("p"), "p")
    workflow.do_engine_steps()  # no exception
    assert states(workflow)["sub"] == "COMPLETED"
    assert states(workflow)["sub_error"] == "COMPLETED"
    assert [spec_of(t).bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["after"]

    events = workflow.get_events()
    assert len(events) == 1
    definition = events[0].event_definition
    assert isinstance(definition, ErrorEventDefinition)
    assert definition.code == "DOCS_MISSING"
    assert definition.name == "Documents missing"
    assert workflow.get_events() == []  # draining empties the list


def test_hazard2_stock_caught_error_leaves_no_event() -> None:
    workflow = make_workflow(CAUGHT_ERROR_PROCESS)
    workflow.do_engine_steps()
    assert [spec_of(t).bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["fix"]
    assert workflow.get_events() == []


def test_hazard2_run_engine_turns_uncaught_error_into_incident() -> None:
    workflow = make_workflow(error_end_process("p"), "p", SandboxedScriptEngine())
    outcome = runtime.run_engine(workflow)
    assert len(outcome.incidents) == 1
    incident = outcome.incidents[0]
    assert incident.kind == "error"
    assert "DOCS_MISSING" in incident.message
    assert "Documents missing" in incident.message
    assert outcome.unrouted_events == []
    assert workflow.get_events() == []  # drained


def test_hazard2_run_engine_raises_no_incident_for_a_caught_error() -> None:
    workflow = make_workflow(CAUGHT_ERROR_PROCESS, engine=SandboxedScriptEngine())
    outcome = runtime.run_engine(workflow)
    assert outcome.incidents == []
    assert [spec_of(t).bpmn_id for t in runtime.ready_user_tasks(workflow)] == ["fix"]


def test_hazard2_undrained_error_survives_lean_state_and_becomes_incident_later() -> None:
    spec, subs = parse(error_end_process("p"), "p")
    workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
    workflow.do_engine_steps()  # run without draining, as a crash before persisting incidents would
    restored = runtime.load_state(runtime.dump_state(workflow), spec, subs, SandboxedScriptEngine())
    outcome = runtime.run_engine(restored)
    assert [i.kind for i in outcome.incidents] == ["error"]
    assert "DOCS_MISSING" in outcome.incidents[0].message


# -- 4. timers never fire on their own ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expression"),
    [("timeDate", '"2000-01-01T00:00:00+00:00"'), ("timeDuration", '"PT0S"')],
)
def test_hazard4_stock_past_deadline_fires_inside_the_first_run(kind: str, expression: str) -> None:
    # A deadline already passed when the event is reached never shows up as WAITING.
    workflow = make_workflow(timer_process(kind, expression))
    workflow.do_engine_steps()
    assert workflow.completed
    assert states(workflow)["wait"] == "COMPLETED"
    assert workflow.waiting_events() == []


def test_hazard4_stock_timer_waits_until_refresh_timers(clock: type[_ShiftedDatetime]) -> None:
    workflow = make_workflow(timer_process("timeDuration", '"PT1H"'))
    before = datetime.now(UTC)
    workflow.do_engine_steps()
    after = datetime.now(UTC)
    assert states(workflow)["wait"] == "WAITING"

    pending = workflow.waiting_events()
    assert [(e.event_type, e.name) for e in pending] == [("DurationTimerEventDefinition", "Wait for the deadline")]
    assert isinstance(pending[0].value, str)  # an ISO string, indexable as the next due time
    deadline = datetime.fromisoformat(pending[0].value)
    assert deadline.utcoffset() == timedelta(0)
    assert before + timedelta(hours=1) <= deadline <= after + timedelta(hours=1)

    clock.shift = timedelta(hours=2)  # the deadline has passed; nothing happens by itself
    assert states(workflow)["wait"] == "WAITING"
    assert not workflow.completed

    workflow.refresh_timers()  # fires the timer but does not run on
    assert states(workflow)["wait"] == "READY"
    assert workflow.waiting_events() == []
    assert not workflow.completed
    workflow.do_engine_steps()
    assert workflow.completed


def test_hazard4_stock_one_run_after_the_deadline_only_readies_the_timer(clock: type[_ShiftedDatetime]) -> None:
    # do_engine_steps calls refresh_timers *after* its loop: the fired timer needs a second run.
    workflow = make_workflow(timer_process("timeDuration", '"PT1H"'))
    workflow.do_engine_steps()
    clock.shift = timedelta(hours=2)
    workflow.do_engine_steps()
    assert states(workflow)["wait"] == "READY"
    assert not workflow.completed
    workflow.do_engine_steps()
    assert workflow.completed


def test_hazard4_stock_future_time_date_is_exposed_verbatim() -> None:
    workflow = make_workflow(timer_process("timeDate", '"2999-01-01T00:00:00+00:00"'))
    workflow.do_engine_steps()
    workflow.refresh_timers()
    assert states(workflow)["wait"] == "WAITING"
    assert [e.value for e in workflow.waiting_events()] == ["2999-01-01T00:00:00+00:00"]


def test_hazard4_engine_keeps_the_deadline_through_lean_state(clock: type[_ShiftedDatetime]) -> None:
    spec, subs = parse(timer_process("timeDuration", '"PT1H"'), "proc")
    workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
    outcome = runtime.run_engine(workflow)
    assert outcome.incidents == []
    assert outcome.unrouted_events == []
    deadline = workflow.waiting_events()[0].value

    restored = runtime.load_state(runtime.dump_state(workflow), spec, subs, SandboxedScriptEngine())
    assert [e.value for e in restored.waiting_events()] == [deadline]
    restored.refresh_timers()
    assert states(restored)["wait"] == "WAITING"  # not due yet: loading does not fire it

    clock.shift = timedelta(hours=2)
    restored.refresh_timers()
    assert runtime.run_engine(restored).incidents == []
    assert restored.completed


# -- 5. call_service error path --------------------------------------------------------------------


class _ConnectorEnvironment(TaskDataEnvironment):
    """Stock environment with a connector that is down."""

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:  # noqa: ARG002 - the stock signature
        raise ConnectionError("registry unreachable (503)")


def test_hazard5_stock_call_service_turns_connector_error_into_name_error() -> None:
    workflow = make_workflow(SERVICE_PROCESS, engine=PythonScriptEngine(_ConnectorEnvironment()))
    workflow.task_tree.data["country"] = "fi"
    with pytest.raises(NameError, match="name 'script' is not defined") as info:
        workflow.do_engine_steps()
    assert "registry unreachable" not in str(info.value)
    assert isinstance(info.value.__context__, ConnectionError)  # the real cause is only chained
    assert task_named(workflow, "call").state == TaskState.ERROR


def test_hazard5_sandboxed_engine_surfaces_the_connector_message() -> None:
    def broken(code: str) -> Any:
        raise ConnectionError(f"registry unreachable for {code} (503)")

    workflow = make_workflow(SERVICE_PROCESS, engine=SandboxedScriptEngine(services={"erasmus_lookup": broken}))
    workflow.task_tree.data["country"] = "fi"
    outcome = runtime.run_engine(workflow)
    assert len(outcome.incidents) == 1
    incident = outcome.incidents[0]
    assert incident.kind == "script"
    assert incident.bpmn_id == "call"
    assert "ConnectionError: registry unreachable for FI (503)" in incident.message
    assert "erasmus_lookup" in incident.message
    assert "'script' is not defined" not in incident.message
    assert task_named(workflow, "call").state == TaskState.ERROR
    assert incident.task_id == str(task_named(workflow, "call").id)


def test_hazard5_sandboxed_engine_sees_connectors_registered_later() -> None:
    services: dict[str, Any] = {}
    engine = SandboxedScriptEngine(services=services)  # as engine.execution.configure shares its dict
    services["erasmus_lookup"] = lambda code: {"country": code, "eligible": True}
    workflow = make_workflow(SERVICE_PROCESS, engine=engine)
    workflow.task_tree.data["country"] = "fi"
    assert runtime.run_engine(workflow).incidents == []
    assert workflow.completed
    assert workflow.data["answer"] == {"country": "FI", "eligible": True}


# -- 6. nested-data aliasing -----------------------------------------------------------------------


def test_hazard6_stock_later_script_rewrites_earlier_task_data() -> None:
    workflow = make_workflow(ALIASING_PROCESS)
    workflow.do_engine_steps()
    submit = task_named(workflow, "submit")
    submission = {"doc": {"files": ["a.pdf"]}}
    submit.data.update(submission)  # no deep copy
    submit.run()
    workflow.do_engine_steps()
    assert submit.state == TaskState.COMPLETED
    # The completed task's history and the caller's own dict both show the later script's change.
    assert submit.data["doc"]["files"] == ["a.pdf", "late.pdf"]
    assert submission["doc"]["files"] == ["a.pdf", "late.pdf"]
    assert submit.data["doc"]["files"] is task_named(workflow, "review").data["doc"]["files"]


def test_hazard6_stock_children_get_a_shallow_copy_of_nested_values() -> None:
    workflow = make_workflow(ALIASING_PROCESS)
    workflow.task_tree.data["doc"] = {"files": ["a.pdf"]}
    workflow.do_engine_steps()
    submit = task_named(workflow, "submit")
    assert submit.data["doc"] is not workflow.task_tree.data["doc"]  # top-level values are copied
    assert submit.data["doc"]["files"] is workflow.task_tree.data["doc"]["files"]  # nested ones are shared


def test_hazard6_engine_deep_copy_keeps_the_submission_independent() -> None:
    workflow = make_workflow(ALIASING_PROCESS, engine=SandboxedScriptEngine())
    runtime.run_engine(workflow)
    submit = runtime.ready_user_tasks(workflow)[0]
    submission: dict[str, Any] = {"doc": {"files": ["a.pdf"]}}
    outcome = runtime.run_engine(workflow, before=lambda: complete_like_engine(submit, submission))
    assert outcome.incidents == []
    review = runtime.ready_user_tasks(workflow)[0]
    assert review.data["doc"]["files"] == ["a.pdf", "late.pdf"]
    # The later script did not reach into the caller's dict (audited as submitted) ...
    assert submission == {"doc": {"files": ["a.pdf"]}}
    # ... and changing the caller's dict afterwards does not reach task data.
    submission["doc"]["files"].append("forged.pdf")
    submission["doc"]["extra"] = True
    assert review.data["doc"] == {"files": ["a.pdf", "late.pdf"]}
    assert "forged.pdf" not in submit.data["doc"]["files"]


# -- 8. instance state embeds its spec --------------------------------------------------------------


def test_hazard8_stock_serializer_embeds_specs() -> None:
    workflow = make_workflow(NESTED_PROCESS, "main")
    workflow.do_engine_steps()
    dct = stock_serializer().to_dict(workflow)
    assert "spec" in dct
    assert "subprocess_specs" in dct
    assert dct["spec"]["name"] == "main"
    assert set(dct["subprocess_specs"]) == {"sub", "called"}


def test_hazard8_lean_state_has_no_spec_and_is_smaller() -> None:
    workflow = make_workflow(sequential_process("seq", 10), "seq", SandboxedScriptEngine())
    runtime.run_engine(workflow)
    stock = stock_serializer().serialize_json(workflow)
    lean = runtime.dump_state(workflow)
    dct = json.loads(lean)
    assert "spec" not in dct
    assert "subprocess_specs" not in dct
    assert dct["serializer_version"] == VERSION
    assert len(lean) < len(stock) * 0.8


def test_hazard8_lean_state_with_cached_spec_runs_to_completion() -> None:
    spec, subs = parse(NESTED_PROCESS, "main")
    cache = runtime.SpecCache()
    spec_json = runtime.spec_to_json(spec, subs)
    loads: list[int] = []

    def loader() -> str:
        loads.append(1)
        return spec_json

    engine = SandboxedScriptEngine()
    workflow = BpmnWorkflow(*cache.get("main:v1", loader), script_engine=engine)
    assert runtime.run_engine(workflow).incidents == []
    state = runtime.dump_state(workflow)
    done: list[str] = []
    for _ in range(5):  # reload from lean state before every step, as the instance service does
        workflow = runtime.load_state(state, *cache.get("main:v1", loader), engine)
        assert workflow.script_engine is engine
        if workflow.is_completed():
            break
        ready = runtime.ready_user_tasks(workflow)
        assert len(ready) == 1
        task = ready[0]
        done.append(spec_of(task).bpmn_id)
        outcome = runtime.run_engine(workflow, before=partial(complete_like_engine, task, {"count": 21}))
        assert outcome.incidents == []
        state = runtime.dump_state(workflow)
    assert done == ["inner", "c_task"]
    assert workflow.is_completed()
    assert workflow.data == {"count": 21, "total": 42}
    assert len(loads) == 1  # the spec was restored once and then served from the cache


def test_hazard8_sequential_lanes_survive_reload_after_every_task() -> None:
    spec, subs = runtime.spec_from_json(runtime.spec_to_json(*parse(sequential_process("seq", 6), "seq")))
    engine = SandboxedScriptEngine()
    workflow = BpmnWorkflow(spec, subs, script_engine=engine)
    runtime.run_engine(workflow)
    lanes: list[str] = []
    while not workflow.is_completed():
        workflow = runtime.load_state(runtime.dump_state(workflow), spec, subs, engine)
        task = runtime.ready_user_tasks(workflow)[0]
        lanes.append(spec_of(task).lane)
        runtime.run_engine(workflow, before=partial(complete_like_engine, task, {spec_of(task).bpmn_id: True}))
    assert lanes == [LANES[i % 3] for i in range(6)]
    assert workflow.data == {f"task_{i}": True for i in range(6)}


# -- 9. serializer types ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [Decimal("12.50"), date(2024, 5, 1)], ids=["decimal", "date"])
def test_hazard9_stock_serializer_raises_type_error(value: Any) -> None:
    workflow = make_workflow(script_process("p", "x = 1"), "p")
    workflow.task_tree.data["value"] = value
    with pytest.raises(TypeError, match=f"Object of type {type(value).__name__} is not JSON serializable"):
        stock_serializer().serialize_json(workflow)


def test_hazard9_stock_serializer_turns_a_set_into_a_list() -> None:
    workflow = make_workflow(script_process("p", "x = 1"), "p")
    workflow.task_tree.data["value"] = {3, 1}
    ser = stock_serializer()
    restored = ser.deserialize_json(ser.serialize_json(workflow))
    assert isinstance(restored.task_tree.data["value"], list)
    assert sorted(restored.task_tree.data["value"]) == [1, 3]


def test_hazard9_lean_state_round_trips_dates_and_lists_sets() -> None:
    spec, subs = parse(script_process("p", "y = d + timedelta(days=1)"), "p")
    workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
    workflow.task_tree.data.update(
        {
            "d": date(2024, 5, 1),
            "when": datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
            "nested": {"days": [date(2024, 1, 2)]},
            "codes": {"FI", "SE"},
        }
    )
    restored = runtime.load_state(runtime.dump_state(workflow), spec, subs, SandboxedScriptEngine())
    data = restored.task_tree.data
    assert type(data["d"]) is date
    assert data["d"] == date(2024, 5, 1)
    assert type(data["when"]) is datetime
    assert data["when"] == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert type(data["nested"]["days"][0]) is date
    assert isinstance(data["codes"], list)
    assert sorted(data["codes"]) == ["FI", "SE"]
    # The restored date is usable by scripts, and the script's date result persists as a date.
    assert runtime.run_engine(restored).incidents == []
    again = runtime.load_state(runtime.dump_state(restored), spec, subs, SandboxedScriptEngine())
    assert task_named(again, "script").data["y"] == date(2024, 5, 2)


def test_hazard9_lean_state_still_refuses_decimal() -> None:
    # No converter for Decimal: task data must stay JSON-native (the sandbox never produces one).
    workflow = make_workflow(script_process("p", "x = 1"), "p", SandboxedScriptEngine())
    workflow.task_tree.data["fee"] = Decimal("12.50")
    with pytest.raises(TypeError, match="Decimal"):
        runtime.dump_state(workflow)


# -- 11. a failed script leaves partial writes -----------------------------------------------------

FAILING_SCRIPT = "a = 1\nb = {'x': 2}\nc = 1 / 0\nd = 3"


@pytest.mark.parametrize("engine_class", [PythonScriptEngine, SandboxedScriptEngine])
def test_hazard11_failed_script_keeps_partial_writes_and_error_state(engine_class: type) -> None:
    workflow = make_workflow(script_process("p", FAILING_SCRIPT), "p", engine_class())
    with pytest.raises(WorkflowTaskException, match="ZeroDivisionError") as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 3
    script = task_named(workflow, "script")
    assert script.state == TaskState.ERROR
    assert script.data == {"a": 1, "b": {"x": 2}}
    # Running again does not retry the task and raises nothing: the ERROR is silent from now on.
    workflow.do_engine_steps()
    assert script.state == TaskState.ERROR
    assert states(workflow)["check"] == "FUTURE"


def test_hazard11_engine_records_incident_and_keeps_partial_writes_storable() -> None:
    spec, subs = parse(script_process("p", "a = {3, 1}\nb = (1, 2)\nc = 1 / 0"), "p")
    workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
    outcome = runtime.run_engine(workflow)
    assert len(outcome.incidents) == 1
    incident = outcome.incidents[0]
    assert incident.kind == "script"
    assert incident.bpmn_id == "script"
    assert "ZeroDivisionError" in incident.message
    [failed] = runtime.error_tasks(workflow)
    assert incident.task_id == str(failed.id)
    # Partial writes were made JSON-native so the instance can still be saved with its incident.
    assert failed.data == {"a": [1, 3], "b": [1, 2]}
    restored = runtime.load_state(runtime.dump_state(workflow), spec, subs, SandboxedScriptEngine())
    assert task_named(restored, "script").state == TaskState.ERROR
    assert task_named(restored, "script").data == {"a": [1, 3], "b": [1, 2]}


# -- drive loop: lanes, manual tasks, extensions, serializer version --------------------------------


def test_drive_loop_lane_is_the_lane_name() -> None:
    workflow = make_workflow(EXTENSIONS_PROCESS)
    workflow.do_engine_steps()
    propose = task_named(workflow, "propose")
    assert spec_of(propose).lane == "Sending organisation"
    assert task_named(workflow, "review").task_spec.lane == "Hosting organisation"
    assert workflow.get_tasks(lane="Sending organisation", state=TaskState.READY) == [propose]
    assert workflow.get_tasks(lane="Hosting organisation", state=TaskState.READY) == []
    # Without lanes the attribute is None.
    plain = make_workflow(ALIASING_PROCESS)
    assert task_named(plain, "submit").task_spec.lane is None


def test_drive_loop_manual_true_returns_user_tasks() -> None:
    workflow = make_workflow(sequential_process("seq", 2), "seq")
    workflow.do_engine_steps()
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert [spec_of(t).bpmn_id for t in ready] == ["task_0"]
    assert ready[0].task_spec.manual is True
    assert workflow.get_tasks(state=TaskState.READY, manual=False) == []
    assert runtime.ready_user_tasks(workflow) == ready


def test_drive_loop_spiff_extensions_are_exposed_and_survive_spec_json() -> None:
    spec, subs = parse(EXTENSIONS_PROCESS, "proc")
    for restored_spec, restored_subs in [(spec, subs), runtime.spec_from_json(runtime.spec_to_json(spec, subs))]:
        workflow = BpmnWorkflow(restored_spec, restored_subs, script_engine=SandboxedScriptEngine())
        runtime.run_engine(workflow)
        [task] = runtime.ready_user_tasks(workflow)
        extensions = spec_of(task).extensions
        assert extensions["properties"]["formJsonSchemaFilename"] == "propose-schema.json"
        assert extensions["instructionsForEndUser"] == "Describe the placement."
        assert spec_of(task).lane == "Sending organisation"
        assert spec_of(task).bpmn_name == "Propose placement"
        assert task_named(workflow, "review").task_spec.extensions.get("properties", {}) == {}


def test_drive_loop_serializer_version_is_1_5() -> None:
    assert VERSION == "1.5"
    workflow = make_workflow(sequential_process("seq", 1), "seq")
    assert json.loads(stock_serializer().serialize_json(workflow))["serializer_version"] == "1.5"
    assert json.loads(runtime.dump_state(workflow))["serializer_version"] == "1.5"
    assert runtime.VERSION == VERSION  # engine.runtime stores the library's constant
