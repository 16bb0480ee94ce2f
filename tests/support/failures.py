"""Processes that fail on their data while running (issue 11 item 1): each must become an incident."""
from __future__ import annotations

from tests.support.bpmn import wrap

TIMER_TIMEDELTA = """<bpmn:intermediateCatchEvent id="broken"><bpmn:incoming>fa</bpmn:incoming>
<bpmn:outgoing>fb</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>timedelta(hours=1)</bpmn:timeDuration>
</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"""

MULTI_INSTANCE_WITHOUT_INPUT = """<bpmn:scriptTask id="broken" name="Each item"><bpmn:incoming>fa</bpmn:incoming>
<bpmn:outgoing>fb</bpmn:outgoing><bpmn:multiInstanceLoopCharacteristics>
<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef><bpmn:inputDataItem id="item"/>
</bpmn:multiInstanceLoopCharacteristics><bpmn:script>seen = item</bpmn:script></bpmn:scriptTask>"""

CORRELATION_READS_MISSING = """<bpmn:intermediateThrowEvent id="broken"><bpmn:incoming>fa</bpmn:incoming>
<bpmn:outgoing>fb</bpmn:outgoing><bpmn:messageEventDefinition id="d" messageRef="m"><bpmn:extensionElements>
<spiffworkflow:messagePayload>{"note": "hello"}</spiffworkflow:messagePayload></bpmn:extensionElements>
</bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>"""

_CORRELATION = ('<bpmn:collaboration id="c"><bpmn:participant id="p" processRef="{key}"/>'
                '<bpmn:correlationKey name="order"><bpmn:correlationPropertyRef>order_id</bpmn:correlationPropertyRef>'
                '</bpmn:correlationKey></bpmn:collaboration><bpmn:message id="m" name="order_placed"/>'
                '<bpmn:correlationProperty id="order_id" name="Order id"><bpmn:correlationPropertyRetrievalExpression '
                'messageRef="m"><bpmn:formalExpression>order_id</bpmn:formalExpression>'
                '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>')


def failing(key: str, element: str, *, after_a_task: bool) -> bytes:
    """start -> [user task 'first'] -> the failing element 'broken' -> user task 'last' -> end."""
    if after_a_task:
        head = ('<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>'
                '<bpmn:userTask id="first" name="First"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>fa'
                '</bpmn:outgoing></bpmn:userTask><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="first"/>'
                '<bpmn:sequenceFlow id="fa" sourceRef="first" targetRef="broken"/>')
    else:
        head = ('<bpmn:startEvent id="start"><bpmn:outgoing>fa</bpmn:outgoing></bpmn:startEvent>'
                '<bpmn:sequenceFlow id="fa" sourceRef="start" targetRef="broken"/>')
    body = head + element + """<bpmn:userTask id="last" name="Last"><bpmn:incoming>fb</bpmn:incoming>
<bpmn:outgoing>fc</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>fc</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="fb" sourceRef="broken" targetRef="last"/>
<bpmn:sequenceFlow id="fc" sourceRef="last" targetRef="end"/>"""
    xml = wrap(key, body)
    if element is CORRELATION_READS_MISSING:
        xml = xml.replace(b"<bpmn:process ", _CORRELATION.format(key=key).encode() + b"<bpmn:process ", 1)
    return xml


UNCAUGHT_ESCALATION = """<bpmn:intermediateThrowEvent id="broken" name="Tell the school">
<bpmn:incoming>fa</bpmn:incoming>
<bpmn:outgoing>fb</bpmn:outgoing><bpmn:escalationEventDefinition escalationRef="late"/></bpmn:intermediateThrowEvent>"""


def uncaught_escalation(key: str) -> bytes:
    """start -> escalation 'late' nobody catches -> user task 'last' -> end."""
    xml = failing(key, UNCAUGHT_ESCALATION, after_a_task=False)
    return xml.replace(b"<bpmn:process ", b'<bpmn:escalation id="late" name="Late" escalationCode="LATE"/>'
                                          b"<bpmn:process ", 1)
