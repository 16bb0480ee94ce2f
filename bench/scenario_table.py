"""The scenarios of `make scenarios` (bench/scenarios.py), each taken from one of SpiffWorkflow's own tests:
its diagram files and process, the data the test puts on the start event and gives at each user task, the
messages it throws and the time it lets pass, and the end it asserts (issue 11)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BPMN = "tests/SpiffWorkflow/bpmn/"
SPIFF = "tests/SpiffWorkflow/spiff/"
ADVANCE: dict[str, Any] = {"@advance": 3600}  # move the frozen clock an hour on and fire what is due
DOUBLE = "double"  # a step that sets output_item = input_item * 2 (the library's multi-instance tests)
Step = dict[str, Any] | str


@dataclass(frozen=True)
class Scenario:
    name: str
    test: str  # the library test it comes from
    files: str  # glob under the test folder's data/
    process: str
    folder: str = BPMN
    start: dict[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()  # data given at each user task, in order; then {} for the rest
    end: str = "completed"  # completed | error | waiting
    data: dict[str, Any] = field(default_factory=dict)  # values the test checks in the workflow's data
    note: str = ""  # why the platform may differ


def _msg(name: str) -> dict[str, Any]:
    """A step that throws message ``name`` at the instance (the test's ``workflow.catch``)."""
    return {"@message": name}


def _s(name: str, test: str, files: str, process: str, **kw: Any) -> Scenario:
    return Scenario(name, test, files, process, **kw)


VARS_REFUSED = "deliberate: the sandbox refuses vars() and globals() (security issue)"
MESSAGE_INTERRUPTS = "sid-db1e1749-03ee-46aa-8674-bba07b1bd167"
MI = {"input_data": [1, 2, 3], "output_data": {}}
SCENARIOS: tuple[Scenario, ...] = (
    _s("inclusive gateway, default only", "InclusiveGatewayTest.testDefaultConditionOnly", "inclusive_gateway.bpmn",
       "main", steps=({"v": -1, "u": -1, "w": -1},), data={"v": 0, "u": -1, "w": -1}),
    _s("inclusive gateway, two paths", "InclusiveGatewayTest.testParallelCondition", "inclusive_gateway.bpmn",
       "main", steps=({"v": 0, "u": 1, "w": 1},), data={"v": 0, "u": 1, "w": 1}),
    _s("inclusive gateway, no path", "InclusiveGatewayTest.testNoPathFromSecondGateway", "inclusive_gateway.bpmn",
       "main", steps=({"v": 0, "u": -1, "w": -1},), end="error"),
    _s("exclusive gateway without default", "ExclusiveGatewayNoDefaultTest.testRunThroughHappy",
       "exclusive_gateway_no_default.bpmn", "NoDefaultGateway", start={"x": 1}, end="error"),
    _s("call activity keeps data", "CallActivityTest.test_data_persists_through_call_activity",
       "call_activity_*.bpmn", "Process_8200379",
       data={"pre_var": "some string", "my_var": "World", "my_other_var": "Mike"}),
    _s("call activity error", "CallActivityTest.test_call_activity_errors_include_task_trace",
       "call_activity_*.bpmn", "ErroringBPMN", end="error"),
    _s("nested subprocesses", "NestedProcessesTest.testRunThroughHappy", "Test-Workflows/Nested*.bpmn20.xml",
       "sid-a12cf1e5-86f4-4d69-9790-6a90342f5963"),
    _s("parallel multi-instance, list in", "ParallelMultiInstanceTest.testListWithDictOutput",
       "parallel_multiinstance_loop_input.bpmn", "main", start=MI, steps=(DOUBLE,) * 3,
       data={"input_data": [1, 2, 3], "output_data": {"0": 2, "1": 4, "2": 6}}),
    _s("parallel multi-instance, dict in", "ParallelMultiInstanceTest.testDictWithListOutput",
       "parallel_multiinstance_loop_input.bpmn", "main", start={"input_data": {"a": 1, "b": 2, "c": 3},
                                                                "output_data": []},
       steps=(DOUBLE,) * 3, data={"output_data": [2, 4, 6]}),
    _s("parallel multi-instance, empty", "ParallelMultiInstanceTest.testEmptyInput",
       "parallel_multiinstance_loop_input.bpmn", "main", start={"input_data": [], "output_data": []},
       data={"input_data": [], "output_data": []}),
    _s("parallel multi-instance, cardinality", "ParallelMultiInstanceWithCardinality.testCardinality",
       "parallel_multiinstance_cardinality.bpmn", "main", steps=(DOUBLE,) * 3, data={"output_data": [0, 2, 4]}),
    _s("sequential multi-instance, list in", "SequentialMultiInstanceTest.testListWithDictOutput",
       "sequential_multiinstance_loop_input.bpmn", "main", start=MI, steps=(DOUBLE,) * 3,
       data={"input_data": [1, 2, 3], "output_data": {"0": 2, "1": 4, "2": 6}}),
    _s("sequential multi-instance, dict in", "SequentialMultiInstanceTest.testDictWithListOutput",
       "sequential_multiinstance_loop_input.bpmn", "main", start={"input_data": {"a": 1, "b": 2, "c": 3},
                                                                  "output_data": []},
       steps=(DOUBLE,) * 3, data={"output_data": [2, 4, 6]}),
    _s("sequential multi-instance, cardinality", "SequentialMultiInstanceWithCardinality.testCardinality",
       "sequential_multiinstance_cardinality.bpmn", "main", steps=(DOUBLE,) * 3, data={"output_data": [0, 2, 4]}),
    _s("standard loop, maximum", "StandardLoopTest.testLoopMaximum", "standard_loop.bpmn", "main",
       start={"done": False}, steps=({"0": True}, {"1": True}, {"2": True})),
    _s("standard loop, condition", "StandardLoopTest.testLoopCondition", "standard_loop.bpmn", "main",
       start={"done": False}, steps=({"done": True},)),
    _s("standard loop, skipped", "StandardLoopTest.testSkipLoop", "standard_loop.bpmn", "main",
       start={"done": True}),
    _s("data objects through a subprocess", "DataObjectReferenceTest.testDataObjectReferences", "data_object.bpmn",
       "Process", steps=({"obj_1": "hello"}, {"obj_1": "hello again"}, {"obj_1": "hello again"},
                         {"obj_1": "hello again"})),
    _s("data object missing output", "DataObjectReferenceTest.testMissingDataOutput", "data_object.bpmn",
       "Process", end="error"),
    _s("script tasks", "PythonScriptEngineTest.testRunThroughHappy", "ScriptTest.bpmn", "Process_1l85e0n",
       data={"testvar": {"a": 1, "b": 2, "new": "Test"}, "sample": ["b", "c"]}),
    _s("script on the start path", "PythonScriptEngineEnvironmentTest (script-start)", "script-start.bpmn",
       "Process_cozt5fu"),
    _s("uncaught escalation", "UncaughtEscalationTest.test_uncaught_escalation", "uncaught_escalation.bpmn",
       "top_level"),
    _s("escalation from a call activity", "CallActivityEscalationTest.testShouldEscalate",
       "Test-Workflows/CallActivity-Escalation*", "CallActivity-Escalation-Test", start={"should_escalate": True},
       note=VARS_REFUSED),
    _s("no escalation from a call activity", "CallActivityEscalationTest.testShouldNotEscalate",
       "Test-Workflows/CallActivity-Escalation*", "CallActivity-Escalation-Test", start={"should_escalate": False},
       note=VARS_REFUSED),
    _s("event subprocess", "EventSubprocessTest.testEventSubprocess", "event-subprocess.bpmn", "main",
       steps=({"v1": True, "v2": False},)),
    _s("start event split, message", "StartEventSplitTest.test_start_event_split", "start_event_split.bpmn", "main",
       steps=(_msg("message_1"),)),
    _s("transaction subprocess", "TransactionSubprocessTest.testNormalCompletion", "transaction.bpmn",
       "Main_Process", steps=({"value": "asdf"}, {"quantity": 2})),
    _s("conditional intermediate event", "ConditionalEventTest.testIntermediateEvent", "conditional_event.bpmn",
       "intermediate", steps=({"@task": "task_b"}, {"@task": "task_a", "task_a_done": True})),
    _s("data object in a gateway", "DataObjectGatewayTest.testExpression", "data_object_gateway.bpmn", "main",
       steps=({"val": True},)),
    _s("approvals in lanes", "ApprovalsTest", "Approvals.bpmn", "Approvals"),
    _s("IO specification", "IOSpecTest", "io_spec*.bpmn", "parent", steps=({"in_1": 1, "in_2": "hello world"},
                                                                              {"out_1": 2, "out_2": "foo"})),
    _s("IO specification on a task", "IOSpecOnTaskTest.testIOSpecOnTask", "io_spec_on_task.bpmn", "main",
       steps=({"out_1": 1, "out_2": "bye", "extra": True},)),
    _s("IO specification on a task, missing output", "IOSpecOnTaskTest.testIOSpecOnTaskMissingOutput",
       "io_spec_on_task.bpmn", "main", steps=({"out_1": 1},), end="error"),
    _s("swim lanes", "SwimLaneTest", "lanes.bpmn", "lanes", steps=({"NeedClarification": False},)),
    _s("timer duration", "TimerDurationTest.testRunThroughHappy", "timer.bpmn", "timer", steps=(ADVANCE,)),
    _s("interrupting timer on a subprocess", "TimerDurationBoundaryTest.testRunThroughHappy", "boundary.bpmn",
       "boundary_event", steps=({}, ADVANCE)),
    _s("interrupting timer on a task", "TimerDurationBoundaryOnTaskTest.testRunThroughHappy",
       "boundary_timer_on_task.bpmn", "test_timer", steps=(ADVANCE,)),
    _s("non-interrupting timer", "NITimerDurationTest.testRunThroughHappy", "timer-non-interrupt-boundary.bpmn",
       "NonInterruptTimer", steps=(ADVANCE, {"@task": "GetReason", "delay_reason": "Just Because"},
                                   {"@task": "Activity_Work", "work_done": "Yes"}),
       data={"work_done": "Yes", "delay_reason": "Just Because"}),
    _s("timer date", "TimerDateTest.testRunThroughHappy", "timer-date-start.bpmn", "date_timer", steps=(ADVANCE,)),
    # The message tests reach these processes through Test-Workflows' selector, whose conditions only the
    # library's test-only parser reads; each process runs here directly, after the selection.
    _s("messages", "MessagesTest.testRunThroughHappy", "Test-Workflows/Messages.bpmn20.xml",
       "sid-4a1f10ab-316f-4cd8-836d-65aa3d178fff", steps=(_msg("Wrong Message"), _msg("Test Message"))),
    _s("message interrupts, not sent", "MessageInterruptsTest.testRunThroughHappy",
       "Test-Workflows/Message-Interrupts.bpmn20.xml", MESSAGE_INTERRUPTS, steps=({},)),
    _s("message interrupts, sent", "MessageInterruptsTest.testRunThroughMessageInterrupt",
       "Test-Workflows/Message-Interrupts.bpmn20.xml", MESSAGE_INTERRUPTS,
       steps=(_msg("Test Message"), {"@task": "Acknowledge Interrupt Message"})),
    _s("message non-interrupt, sent", "MessageNonInterruptTest.testRunThroughMessageInterrupt",
       "Test-Workflows/Message-Non-Interrupt.bpmn20.xml", "sid-60e2cc58-68c9-4cb5-a95c-22e3e311b6b9",
       steps=(_msg("Test Message"), {"@task": "Acknowledge Non-Interrupt Message"},
              {"@task": "Do Something That Takes A Long Time"})),
    _s("message interrupts a subprocess", "MessageInterruptsSpTest.testRunThroughMessageInterrupt",
       "Test-Workflows/Message-Interrupts-SP.bpmn20.xml", "sid-607dfa9b-dbfd-41e8-94f8-42ae37f3b824",
       steps=(_msg("Test Message"), {})),
    _s("event-based gateway, message", "EventBasedGatewayTest.testEventBasedGateway", "event-gateway.bpmn",
       "Process_0pvx19v", steps=(_msg("message_1"),)),
    _s("event-based gateway, timeout", "EventBasedGatewayTest.testTimeout", "event-gateway.bpmn",
       "Process_0pvx19v", steps=(ADVANCE,)),
    _s("signal with a payload", "EventPayloadTest.testSignalEvent", "signal_event_payload.bpmn", "event_test",
       folder=SPIFF, steps=({"v1": 1, "v2": 2, "v3": 3},),
       data={"v1": 1, "v2": 2, "v3": 3, "result": {"r1": 1, "r2": 2}}),
    _s("error with a payload", "EventPayloadTest.testErrorEvent", "error_event_payload.bpmn", "event_test",
       folder=SPIFF, steps=({"error": True, "payload": "ERROR!"},), data={"result": "ERROR!"}),
    _s("escalation with a payload", "EventPayloadTest.testEscalationEvent", "escalation_event_payload.bpmn",
       "event_test", folder=SPIFF, steps=({"escalation": True, "payload": "ERROR!"},), data={"result": "ERROR!"}),
    _s("a registered script function", "CustomInlineScriptTest.testRunThroughHappy", "custom_function_test*",
       "top_workflow", data={"c1": "HELLO", "c2": "GOODBYE", "c3": "ARRIVEDERCI"}),
    _s("a registered function overwritten by data",
       "CustomInlineScriptTest.test_overwrite_function_with_local_variable", "custom_function_test*",
       "top_workflow", start={"custom_function": "bill"}, end="error"),
    _s("business rule task (DMN)", "BusinessRuleTaskTest.testBusinessRule", "business_rule_task.bpmn",
       "Process_bd2e724", folder=SPIFF),
    _s("spiff multi-instance with scripts", "MultiInstanceTaskTest.testMultiInstanceTask", "spiff_multiinstance.bpmn",
       "Process_1", folder=SPIFF, start={"input_data": [1, 2, 3]}, steps=(DOUBLE,) * 3,
       data={"input_data": [2, 3, 4], "output_data": [3, 5, 7]}),
    _s("script on each instance", "MultiInstanceTaskTest.testMultiInstanceTaskWithInstanceScripts",
       "script_on_mi.bpmn", "Process_1", folder=SPIFF, start={"input_data": [1, 2, 3]}, steps=(DOUBLE,) * 3,
       data={"input_data": [1, 2, 3], "output_data": [3, 5, 7]}),
    _s("pre- and post-script", "PrescriptPostsciptTest.testTask", "prescript_postscript.bpmn", "Process_1",
       folder=SPIFF, start={"a": 1, "b": 2}, data={"a": 1, "b": 2, "c": 12, "z": 6}),
    _s("pre-script error", "PrescriptPostsciptTest.test_for_error", "prescript_postscript.bpmn", "Process_1",
       folder=SPIFF, end="error"),
    _s("pre- and post-script on a call activity", "PrescriptPostsciptTest.testCallActivity",
       "prescript_postscript_*.bpmn", "parent", folder=SPIFF, start={"old": "hello"}),
    _s("spiff properties", "SpiffPropertiesTest", "spiff_properties.bpmn", "Process_1", folder=SPIFF,
       note="deliberate: the form the task names is not in the repository; refused at deploy with the task's id"),
)
