"""engine/bundle/checks.py: the validation rules SpiffWorkflow does not make itself."""
from __future__ import annotations

from engine.bundle import parse_bundle
from tests.support.bundles import BPMN_HEADER, errors_of, only, process, user_task


def test_unknown_decision_names_the_business_rule_task() -> None:
    task = (
        '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>no_such_decision</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )
    (error,) = errors_of({"p.bpmn": process("p", [("decide", task)])})
    assert (error.file, error.element_id) == ("p.bpmn", "decide")
    assert "no_such_decision" in error.message


def test_script_and_condition_syntax_errors_name_the_element() -> None:
    script = '<bpmn:scriptTask id="compute"><bpmn:script>x = = 1</bpmn:script></bpmn:scriptTask>'
    pre = (
        '<bpmn:userTask id="ask"><bpmn:extensionElements>'
        "<spiffworkflow:preScript>if True print(1)</spiffworkflow:preScript>"
        "</bpmn:extensionElements></bpmn:userTask>"
    )
    bpmn = process("p", [("compute", script), ("ask", pre)])
    # a gateway-free condition on a plain flow is still evaluated by Spiff
    bpmn = bpmn.replace(
        b'<bpmn:sequenceFlow id="p_flow2" sourceRef="ask" targetRef="p_end"/>',
        b'<bpmn:sequenceFlow id="p_flow2" sourceRef="ask" targetRef="p_end">'
        b"<bpmn:conditionExpression>weeks &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )
    errors = errors_of({"p.bpmn": bpmn})
    by_element = {e.element_id: e.message for e in errors}
    assert "not valid Python" in by_element["compute"]
    assert "script" in by_element["compute"]
    assert "preScript is not valid Python" in by_element["ask"]
    assert "conditionExpression is not valid Python" in by_element["p_flow2"]


def test_expression_with_leading_spaces_is_accepted_like_eval_does() -> None:
    bpmn = process("p", [("t", user_task("t"))]).replace(
        b'<bpmn:sequenceFlow id="p_flow2" sourceRef="t" targetRef="p_end"/>',
        b'<bpmn:sequenceFlow id="p_flow2" sourceRef="t" targetRef="p_end">'
        b"<bpmn:conditionExpression>   True\n</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )
    assert only(parse_bundle({"p.bpmn": bpmn}), "p").key == "p"


def _messages_bundle(*, correlated: bool) -> dict[str, bytes]:
    correlation = ('<bpmn:correlationProperty id="case" name="Case"><bpmn:correlationPropertyRetrievalExpression '
                   'messageRef="m"><bpmn:formalExpression>case</bpmn:formalExpression>'
                   '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>') if correlated else ""
    own = ('<bpmn:extensionElements><spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>case'
           '</spiffworkflow:propertyId><spiffworkflow:expression>case</spiffworkflow:expression>'
           '</spiffworkflow:processVariableCorrelation></bpmn:extensionElements>') if correlated else ""
    header = BPMN_HEADER.format(pid="msgs") + '<bpmn:message id="m" name="ready"/>' + correlation
    thrower = ('<bpmn:process id="thrower" isExecutable="true"><bpmn:startEvent id="ts"/>'
               '<bpmn:intermediateThrowEvent id="throw"><bpmn:messageEventDefinition id="td" messageRef="m"/>'
               '</bpmn:intermediateThrowEvent><bpmn:endEvent id="te"/>'
               '<bpmn:sequenceFlow id="tf1" sourceRef="ts" targetRef="throw"/>'
               '<bpmn:sequenceFlow id="tf2" sourceRef="throw" targetRef="te"/></bpmn:process>')
    catcher = ('<bpmn:process id="catcher" isExecutable="true"><bpmn:startEvent id="cs"/>'
               f'<bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition id="cd" messageRef="m">{own}'
               '</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="ce"/>'
               '<bpmn:sequenceFlow id="cf1" sourceRef="cs" targetRef="wait"/>'
               '<bpmn:sequenceFlow id="cf2" sourceRef="wait" targetRef="ce"/></bpmn:process>')
    return {"msgs.bpmn": (header + thrower + catcher + "</bpmn:definitions>").encode()}


def test_a_catch_of_a_message_another_process_throws_must_correlate() -> None:
    (error,) = errors_of(_messages_bundle(correlated=False))
    assert (error.file, error.element_id) == ("msgs.bpmn", "wait")
    assert "waits for message 'ready', which process 'thrower' throws, without a correlation" in error.message
    assert {p.key for p in parse_bundle(_messages_bundle(correlated=True)).processes} == {"thrower", "catcher"}
