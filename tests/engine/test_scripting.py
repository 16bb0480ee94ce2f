"""Sandboxed script engine: scripts work as in Spiff, escapes and resource bombs fail clearly and fast."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from engine.sandbox.pool import EvaluatorPool
from engine.scripting import (
    SandboxedEnvironment,
    SandboxedScriptEngine,
    ScriptSandboxError,
)
from tests.support.attacks import CPU_BOMB, CPU_BOMB_EXPRESSION
from tests.support.scripts import (
    DECISION_PROCESS,
    ESCAPE,
    GATEWAY_PROCESS,
    decision_table,
    make_workflow,
    run_script_task,
    script_process,
    service_process,
    task_named,
)


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
    assert type(data["tags"]) is list
    assert type(data["pair"]) is list


# -- escapes ---------------------------------------------------------------------------------------


def test_subclasses_escape_in_a_script_task_becomes_a_task_error() -> None:
    workflow = make_workflow(script_process(ESCAPE))
    with pytest.raises(WorkflowTaskException, match="__subclasses__") as info:
        workflow.do_engine_steps()
    assert info.value.error_type == "ScriptSandboxError"
    task = task_named(workflow, "run")
    assert task.state == TaskState.ERROR
    assert "x" not in task.data
    assert "environ" not in task.data


def test_open_in_a_script_task_fails_without_reading_the_file() -> None:
    workflow = make_workflow(script_process("content = open('/etc/passwd').read()"))
    with pytest.raises(WorkflowTaskException, match=r"open\(\) is not available in scripts"):
        workflow.do_engine_steps()
    assert "content" not in task_named(workflow, "run").data


def test_task_data_cannot_shadow_the_guards() -> None:
    with pytest.raises(ScriptSandboxError, match="reserved name"):
        SandboxedEnvironment().evaluate("1", {"_getattr_": "x"})


# -- resource bombs --------------------------------------------------------------------------------


def test_endless_script_task_becomes_a_task_error_within_the_limit() -> None:
    engine = SandboxedScriptEngine(time_limit=0.2)
    workflow = make_workflow(script_process("n = 0\nwhile True:\n    n += 1"), engine)
    with pytest.raises(WorkflowTaskException, match="time limit of 0.2 s"):
        workflow.do_engine_steps()
    assert task_named(workflow, "run").state == TaskState.ERROR


# -- task data must stay JSON-native ---------------------------------------------------------------


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
    def broken(**_kwargs: Any) -> Any:
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


def test_cpu_bomb_in_a_script_task_becomes_a_task_error(small_pool: EvaluatorPool) -> None:
    engine = SandboxedScriptEngine(environment=SandboxedEnvironment(time_limit=0.5, evaluators=small_pool))
    workflow = make_workflow(script_process(CPU_BOMB), engine)
    with pytest.raises(WorkflowTaskException, match="time limit of 0.5 s"):
        workflow.do_engine_steps()
    assert task_named(workflow, "run").state == TaskState.ERROR


def test_cpu_bomb_in_a_dmn_rule_becomes_a_task_error(small_pool: EvaluatorPool) -> None:
    engine = SandboxedScriptEngine(environment=SandboxedEnvironment(time_limit=0.5, evaluators=small_pool))
    dmn = decision_table(CPU_BOMB_EXPRESSION.replace("list(range(100000))", "list(range(weeks * 50000))"))
    workflow = make_workflow(DECISION_PROCESS, engine, dmn=dmn, weeks=2, country="FI")
    with pytest.raises(WorkflowTaskException, match="time limit of 0.5 s"):
        workflow.do_engine_steps()
    assert "amount" not in workflow.data
