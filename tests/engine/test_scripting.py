"""Sandboxed script engine: scripts work as in Spiff, escapes and resource bombs fail clearly and fast."""
from __future__ import annotations

import os
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.sandbox import child
from engine.sandbox.compiler import compile_source
from engine.sandbox.guards import GUARDS, SAFE_BUILTINS
from engine.scripting import (
    MAX_INT_BITS,
    MAX_RANGE,
    SandboxedEnvironment,
    SandboxedScriptEngine,
    ScriptSandboxError,
)

ESCAPE = (
    "x = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
    "[0].__init__.__globals__['environ']"
)

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://bpmn.io/schema/bpmn"'
)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def script_process(script: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run"/>
    <bpmn:scriptTask id="run" name="Run script">
      <bpmn:script>{_xml_escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


GATEWAY_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="to_fail"/>
    <bpmn:sequenceFlow id="to_pass" sourceRef="gw" targetRef="pass">
      <bpmn:conditionExpression>score &gt;= 50 and len([m for m in modules if m]) &gt; 0
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_fail" sourceRef="gw" targetRef="fail"/>
    <bpmn:scriptTask id="pass"><bpmn:script>outcome = 'pass'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="fail"><bpmn:script>outcome = 'fail'</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="pass" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fail" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def service_process(operator: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Call connector">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="answer">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="code" type="str" value="country.upper()"/>
            <spiffworkflow:parameter id="weeks" type="int" value="weeks * 2"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


DECISION_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:businessRuleTask id="decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>grant</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def decision_table(first_rule_weeks: str) -> str:
    rule = '<rule id="{id}"><inputEntry id="{id}a"><text>{weeks}</text></inputEntry>' \
        '<inputEntry id="{id}b"><text>{country}</text></inputEntry>' \
        '<outputEntry id="{id}c"><text>{amount}</text></outputEntry></rule>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="http://x">
  <decision id="grant" name="Grant">
    <decisionTable id="t">
      <input id="i1"><inputExpression id="ie1" typeRef="integer"><text>weeks</text></inputExpression></input>
      <input id="i2"><inputExpression id="ie2" typeRef="string"><text>country</text></inputExpression></input>
      <output id="o1" name="amount" typeRef="integer"/>
      {rule.format(id="r1", weeks=_xml_escape(first_rule_weeks), country='"FI"', amount="weeks * 100")}
      {rule.format(id="r2", weeks="? &gt;= 4", country="", amount="weeks * 80")}
    </decisionTable>
  </decision>
</definitions>"""


def make_workflow(
    xml: str, engine: SandboxedScriptEngine | None = None, dmn: str | None = None, **data: Any
) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode(), filename="test.bpmn")
    if dmn is not None:
        parser.add_dmn_str(dmn.encode(), filename="test.dmn")
    workflow = BpmnWorkflow(parser.get_spec("proc"), script_engine=engine or SandboxedScriptEngine())
    workflow.task_tree.data.update(data)
    return workflow


def task_named(workflow: BpmnWorkflow, spec_name: str) -> Any:
    return next(t for t in workflow.get_tasks() if t.task_spec.name == spec_name)


def run_script_task(script: str, engine: SandboxedScriptEngine | None = None, **data: Any) -> BpmnWorkflow:
    workflow = make_workflow(script_process(script), engine, **data)
    workflow.do_engine_steps()
    return workflow


# -- normal behaviour ------------------------------------------------------------------------------


def test_script_task_writes_variables_into_task_data() -> None:
    script = (
        "total = sum(p['price'] for p in items)\ncount = len(items)\nlabel = f'{count} items, {total:.2f}'"
    )
    workflow = run_script_task(script, items=[{"price": 2.5}, {"price": 4}])
    assert workflow.completed
    data = task_named(workflow, "run").data
    assert data["total"] == 6.5
    assert data["count"] == 2
    assert data["label"] == "2 items, 6.50"
    assert "__builtins__" not in data


@pytest.mark.parametrize(("score", "expected"), [(70, "pass"), (30, "fail")])
def test_gateway_condition_chooses_the_path(score: int, expected: str) -> None:
    workflow = make_workflow(GATEWAY_PROCESS, score=score, modules=["unit 1"])
    workflow.do_engine_steps()
    assert workflow.completed
    assert workflow.data["outcome"] == expected


@pytest.mark.parametrize(
    ("weeks", "country", "amount"), [(2, "FI", 200), (6, "SE", 480)]
)
def test_dmn_decision_table_expressions_work(weeks: int, country: str, amount: int) -> None:
    workflow = make_workflow(DECISION_PROCESS, dmn=decision_table("< 4"), weeks=weeks, country=country)
    workflow.do_engine_steps()
    assert workflow.completed
    assert workflow.data["amount"] == amount


def test_dmn_rule_with_forbidden_expression_fails_clearly() -> None:
    dmn = decision_table("().__class__.__base__.__subclasses__() != []")
    workflow = make_workflow(DECISION_PROCESS, dmn=dmn, weeks=2, country="FI")
    with pytest.raises(WorkflowTaskException, match="Access to '__subclasses__' is not allowed"):
        workflow.do_engine_steps()
    assert "amount" not in workflow.data


def test_empty_script_is_a_no_op() -> None:
    data = {"a": 1}
    assert SandboxedEnvironment().execute("", data) is True
    assert data == {"a": 1}


def test_execute_semantics_match_task_data_environment() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {"n": 4, "form": {"a": 1}, "rows": [1], "gone": 1}
    env.execute(
        "helper = lambda v: v + 1\nm = helper(n * 2)\nform['b'] = 2\nform['a'] += 10\nrows.append(2)\n"
        "a, (b, c) = 1, (2, 3)\ncounter = 0\nfor i in range(3):\n    counter += i\ndel gone\nx = dmn_value",
        data,
        external_context={"dmn_value": "ext"},
    )
    assert data == {
        "n": 4, "form": {"a": 11, "b": 2}, "rows": [1, 2], "m": 9, "a": 1, "b": 2, "c": 3, "counter": 3,
        "i": 2, "x": "ext",
    }  # the helper lambda, the external context and __builtins__ are not left behind


def test_evaluate_reads_but_never_changes_task_data() -> None:
    env = SandboxedEnvironment()
    data = {"x": 5, "names": ["b", "a"]}
    assert env.evaluate("x > 3", data) is True
    assert env.evaluate("sorted(names)[0] + str(x)", data) == "a5"
    assert env.evaluate("(y := x + 1) * 2", data) == 12
    assert env.evaluate("\n  dmninputexpr == 'A'  \n", {}, external_context={"dmninputexpr": "A"}) is True
    assert data == {"x": 5, "names": ["b", "a"]}


def test_datetime_helpers_and_dates_are_allowed_in_task_data() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {}
    env.execute("start = date(2024, 3, 1)\nend = start + timedelta(days=30)\nstamp = datetime(2024, 1, 1)",
                data)
    assert data == {"start": date(2024, 3, 1), "end": date(2024, 3, 31), "stamp": datetime(2024, 1, 1)}


def test_sets_and_tuples_become_lists() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {}
    env.execute("tags = {'b', 'a'}\npair = (1, 2)\nnested = {'k': [(3, {4})]}", data)
    assert data == {"tags": ["a", "b"], "pair": [1, 2], "nested": {"k": [[3, [4]]]}}
    assert type(data["tags"]) is list and type(data["pair"]) is list


def test_compiled_code_is_cached_by_source() -> None:
    env = SandboxedEnvironment()
    source = "cache_probe_value > 41"
    env.evaluate(source, {"cache_probe_value": 1})
    hits = compile_source.cache_info().hits
    assert env.evaluate(source, {"cache_probe_value": 42}) is True
    assert compile_source.cache_info().hits == hits + 1


# -- escapes ---------------------------------------------------------------------------------------


def test_subclasses_escape_fails_and_does_not_leak_environ() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {}
    message = "Access to '__subclasses__' is not allowed in scripts"
    with pytest.raises(ScriptSandboxError, match=message) as info:
        env.execute(ESCAPE, data)
    assert "environ" not in data and "x" not in data
    assert not any(value in str(info.value) for value in os.environ.values() if len(value) > 8)


def test_subclasses_escape_in_a_script_task_becomes_a_task_error() -> None:
    workflow = make_workflow(script_process(ESCAPE))
    with pytest.raises(WorkflowTaskException, match="__subclasses__") as info:
        workflow.do_engine_steps()
    assert info.value.error_type == "ScriptSandboxError"
    task = task_named(workflow, "run")
    assert task.state == TaskState.ERROR
    assert "x" not in task.data and "environ" not in task.data


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
        ("print('hi')", "print is not allowed"),
        ("'{0.__class__}'.format(1)", r"str\.format is not allowed"),
        ("'{}'.format(1)", r"str\.format is not allowed"),
        ("class A:\n    pass", "class definitions are not allowed"),
    ],
)
def test_dangerous_builtins_are_refused(script: str, message: str) -> None:
    with pytest.raises(ScriptSandboxError, match=message):
        SandboxedEnvironment().execute(script, {})


def test_open_in_a_script_task_fails_without_reading_the_file() -> None:
    workflow = make_workflow(script_process("content = open('/etc/passwd').read()"))
    with pytest.raises(WorkflowTaskException, match=r"open\(\) is not available in scripts"):
        workflow.do_engine_steps()
    assert "content" not in task_named(workflow, "run").data


def test_task_data_cannot_shadow_the_guards() -> None:
    with pytest.raises(ScriptSandboxError, match="reserved name"):
        SandboxedEnvironment().evaluate("1", {"_getattr_": "x"})


def test_changing_non_container_objects_is_refused() -> None:
    with pytest.raises(ScriptSandboxError, match="Changing a date is not allowed"):
        SandboxedEnvironment().execute("d = date(2024, 1, 1)\nd.year = 3", {})


# -- resource bombs --------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "x = 0\ntry:\n    while True:\n        x += 1\nfinally:\n    while True:\n        pass",
        "x = [0 for a in range(100000) for b in range(100000)]",
        "f = lambda n: f(n - 1) + f(n - 1) if n else 1\ny = f(60)",
    ],
)
def test_endless_scripts_hit_the_time_limit(script: str) -> None:
    env = SandboxedEnvironment(time_limit=0.2)
    data: dict[str, Any] = {"before": 1}
    with pytest.raises(ScriptSandboxError, match=r"Script exceeded its time limit of 0\.2 s"):
        env.execute(script, data)
    assert "y" not in data and data["before"] == 1


def test_endless_script_task_becomes_a_task_error_within_the_limit() -> None:
    engine = SandboxedScriptEngine(time_limit=0.2)
    workflow = make_workflow(script_process("n = 0\nwhile True:\n    n += 1"), engine)
    with pytest.raises(WorkflowTaskException, match="time limit of 0.2 s"):
        workflow.do_engine_steps()
    assert task_named(workflow, "run").state == TaskState.ERROR


def test_endless_condition_expression_hits_the_time_limit() -> None:
    env = SandboxedEnvironment(time_limit=0.2)
    with pytest.raises(ScriptSandboxError, match="time limit"):
        env.evaluate("any(a == b for a in range(100000) for b in range(100000) if b < 0)", {})


def test_time_limit_works_in_a_worker_thread() -> None:
    env = SandboxedEnvironment(time_limit=0.2)
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            env.execute("while True:\n    pass", {})
        except ScriptSandboxError as err:
            outcome["error"] = str(err)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "script in a worker thread was not stopped"
    assert outcome["error"] == "Script exceeded its time limit of 0.2 s"


def _run_in_process(script: str, namespace: dict[str, Any], time_limit: float | None = 0.2) -> None:
    """The evaluator's own runner (engine.sandbox.child.run), called here to watch its tracer."""
    compiled = compile_source(script, "exec")
    namespace["__builtins__"] = {**SAFE_BUILTINS, **GUARDS}
    child.run(compiled.code, namespace, want_result=False, traced=compiled.can_loop, time_limit=time_limit)


def test_previous_trace_function_is_restored() -> None:
    before = sys.gettrace()
    _run_in_process("total = 0\nfor i in range(10):\n    total += i", {})
    with pytest.raises(ScriptSandboxError):
        _run_in_process("while True: pass", {})
    assert sys.gettrace() is before


def test_a_foreign_trace_function_is_restored_too() -> None:
    seen: list[str] = []

    def foreign(frame: Any, event: str, arg: Any) -> None:
        seen.append(event)
        return None

    before = sys.gettrace()
    sys.settrace(foreign)
    try:
        _run_in_process("total = 0\nfor i in range(3):\n    total += i", {})
        restored = sys.gettrace()
    finally:
        sys.settrace(before)
    assert restored is foreign


def test_stuck_worker_does_not_affect_other_threads() -> None:
    env = SandboxedEnvironment(time_limit=0.5)
    errors: list[str] = []
    worker = threading.Thread(
        target=lambda: errors.append(_error_of(lambda: env.execute("while True: pass", {}))), daemon=True
    )
    worker.start()
    results = [env.evaluate("[i for i in items if i > 1]", {"items": [1, 2, 3]}) for _ in range(200)]
    worker.join(timeout=5)
    assert results == [[2, 3]] * 200
    assert errors == ["Script exceeded its time limit of 0.5 s"]


def _error_of(call: Any) -> str:
    try:
        call()
    except ScriptSandboxError as err:
        return str(err)
    return "no error"


def test_slow_but_finite_loops_are_allowed() -> None:
    data: dict[str, Any] = {}
    SandboxedEnvironment().execute("total = 0\nfor i in range(50000):\n    total += i % 7", data)
    assert data["total"] == sum(i % 7 for i in range(50000))


# -- task data must stay JSON-native ---------------------------------------------------------------


def test_decimal_left_in_task_data_is_refused_clearly() -> None:
    env = SandboxedEnvironment()
    data: dict[str, Any] = {"keep": 1, "amount": Decimal("1.50")}
    with pytest.raises(ScriptSandboxError) as info:
        env.execute("ok = 2", data)
    assert str(info.value) == (
        "Variable 'amount' holds a Decimal, which cannot be stored in task data; use str or float"
    )
    assert data == {"keep": 1, "ok": 2}  # the offending value is dropped so the incident can be saved


def test_decimal_is_not_a_builtin() -> None:
    with pytest.raises(NameError, match="Decimal"):
        SandboxedEnvironment().execute("x = Decimal('1')", {})


def test_nested_unstorable_values_are_named_with_their_path() -> None:
    env = SandboxedEnvironment()
    with pytest.raises(ScriptSandboxError, match=r"Variable 'rows' holds a function at rows\[1\]\['f'\]"):
        env.execute("rows = [1, {'f': lambda: 1}]", {})
    with pytest.raises(ScriptSandboxError, match=r"Variable 'it' holds a map object.*list\(\.\.\.\)"):
        env.execute("it = map(str, [1])", {})
    with pytest.raises(ScriptSandboxError, match="keys must be strings"):
        env.execute("by_id = {1: 'a'}", {})


def test_script_task_with_unstorable_value_fails_with_the_variable_name() -> None:
    workflow = make_workflow(script_process("fee = timedelta(days=2)"))
    with pytest.raises(WorkflowTaskException, match=r"Variable 'fee' holds a timedelta.*total_seconds"):
        workflow.do_engine_steps()
    assert "fee" not in task_named(workflow, "run").data


# -- service tasks ---------------------------------------------------------------------------------


def test_service_task_calls_the_connector_with_evaluated_parameters() -> None:
    calls: list[dict[str, Any]] = []

    def lookup(code: str, weeks: int) -> dict[str, Any]:
        calls.append({"code": code, "weeks": weeks})
        return {"country": code, "days": weeks * 7, "checked": date(2024, 5, 1)}

    engine = SandboxedScriptEngine(services={"lookup": lookup})
    workflow = make_workflow(service_process("lookup"), engine, country="fi", weeks=2)
    workflow.do_engine_steps()
    assert workflow.completed
    assert calls == [{"code": "FI", "weeks": 4}]
    assert workflow.data["answer"] == {"country": "FI", "days": 28, "checked": "2024-05-01"}


def test_service_task_with_unknown_connector_fails_clearly() -> None:
    engine = SandboxedScriptEngine(services={"lookup": lambda **kw: kw})
    workflow = make_workflow(service_process("nope"), engine, country="fi", weeks=1)
    with pytest.raises(WorkflowTaskException, match="Unknown service 'nope'") as info:
        workflow.do_engine_steps()
    assert "NameError" not in str(info.value)
    assert task_named(workflow, "call").state == TaskState.ERROR


def test_connector_exception_surfaces_its_real_message() -> None:
    def broken(**kwargs: Any) -> Any:
        raise ValueError("boom")

    engine = SandboxedScriptEngine(services={"broken": broken})
    workflow = make_workflow(service_process("broken"), engine, country="fi", weeks=1)
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert "boom" in str(info.value)
    assert "ValueError" in str(info.value)
    assert "script" not in str(info.value)  # not Spiff's "name 'script' is not defined"
    assert isinstance(info.value.__cause__, ValueError)


def test_environment_call_service_returns_json_text() -> None:
    env = SandboxedEnvironment(services={"echo": lambda value: {"echo": value}})
    params = {"value": {"value": 3, "type": "int"}}
    result = env.call_service({}, operation_name="echo", operation_params=params)
    assert result == '{"echo": 3}'
    with pytest.raises(ScriptSandboxError, match="Unknown service 'x'"):
        env.call_service({}, operation_name="x", operation_params={})


# -- validation and error reporting ----------------------------------------------------------------


def test_validate_reports_syntax_and_forbidden_constructs() -> None:
    engine = SandboxedScriptEngine()
    engine.validate("x > 5")
    engine.validate("total = 0\nfor i in items:\n    total += i")
    with pytest.raises(SyntaxError):
        engine.validate("> 5")  # DMN's needs_eq relies on SyntaxError here
    with pytest.raises(ScriptSandboxError, match="import is not allowed"):
        engine.validate("import os")
    with pytest.raises(ScriptSandboxError, match="__subclasses__"):
        engine.validate(ESCAPE)


def test_script_error_reports_the_failing_line() -> None:
    workflow = make_workflow(script_process("a = 1\nb = a / 0\nc = 3"))
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 2
    assert info.value.error_line == "b = a / 0"
    assert "ZeroDivisionError" in str(info.value)


def test_sandbox_error_reports_its_line() -> None:
    workflow = make_workflow(script_process("a = 1\nimport os"))
    with pytest.raises(WorkflowTaskException, match="Line 2: import is not allowed in scripts") as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 2
    assert info.value.error_line == "import os"


def test_error_with_non_string_argument_is_reported() -> None:
    # Spiff's own create_task_exec_exception does `detail + ":" + err.args[0]` and crashes on KeyError(5).
    workflow = make_workflow(script_process("d = {}\nx = d[5]"))
    with pytest.raises(WorkflowTaskException, match="KeyError: 5") as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 2


def test_evaluation_error_message_names_the_cause() -> None:
    workflow = make_workflow(GATEWAY_PROCESS, score="x" * 10, modules=[])
    with pytest.raises(WorkflowTaskException, match="TypeError"):
        workflow.do_engine_steps()
