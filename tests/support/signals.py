"""Signal processes: instances that wait for a signal, and one that throws it."""
from __future__ import annotations

from tests.support.bpmn import wrap

_LANE = ('<bpmn:laneSet id="ls"><bpmn:lane id="l_s" name="Sending organisation">{refs}</bpmn:lane></bpmn:laneSet>')


def _refs(*ids: str) -> str:
    return "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)


def _signal(extension: str) -> bytes:
    return (f'<bpmn:signal id="sig" name="alarm"><bpmn:extensionElements>{extension}</bpmn:extensionElements>'
            f'</bpmn:signal>').encode()


def waiter(key: str = "await_alarm") -> bytes:
    """start -> catch signal 'alarm' (payload into `alarm_data`) -> user task 'after' -> end."""
    xml = wrap(key, """<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>
<bpmn:userTask id="after" name="After the alarm"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask><bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after"/>
<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>""",
               _LANE.format(refs=_refs("start", "wait", "after", "end")))
    signal = _signal("<spiffworkflow:variableName>alarm_data</spiffworkflow:variableName>")
    return xml.replace(b"<bpmn:process ", signal + b"<bpmn:process ", 1)


def thrower(key: str = "raise_alarm") -> bytes:
    """start -> throw signal 'alarm' with payload {"level": 2} -> end."""
    xml = wrap(key, """<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:intermediateThrowEvent id="shout"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="shout"/>
<bpmn:sequenceFlow id="f2" sourceRef="shout" targetRef="end"/>""", _LANE.format(refs=_refs("start", "shout", "end")))
    signal = _signal('<spiffworkflow:payloadExpression>{"level": 2}</spiffworkflow:payloadExpression>')
    return xml.replace(b"<bpmn:process ", signal + b"<bpmn:process ", 1)


def thrower_that_hears_itself(key: str = "shout_and_hear") -> bytes:
    """A parallel split: one branch waits for 'alarm' then user task 'heard', the other throws 'alarm'."""
    refs = _refs("start", "split", "wait", "heard", "end_a", "shout", "end_b")
    xml = wrap(key, """<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:parallelGateway id="split"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>fa</bpmn:outgoing>
<bpmn:outgoing>fb</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>fa2</bpmn:outgoing>
<bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>
<bpmn:userTask id="heard" name="Heard it"><bpmn:incoming>fa2</bpmn:incoming><bpmn:outgoing>fa3</bpmn:outgoing>
</bpmn:userTask><bpmn:endEvent id="end_a"><bpmn:incoming>fa3</bpmn:incoming></bpmn:endEvent>
<bpmn:intermediateThrowEvent id="shout"><bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>fb2</bpmn:outgoing>
<bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>
<bpmn:endEvent id="end_b"><bpmn:incoming>fb2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split"/>
<bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="wait"/>
<bpmn:sequenceFlow id="fa2" sourceRef="wait" targetRef="heard"/>
<bpmn:sequenceFlow id="fa3" sourceRef="heard" targetRef="end_a"/>
<bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="shout"/>
<bpmn:sequenceFlow id="fb2" sourceRef="shout" targetRef="end_b"/>""", _LANE.format(refs=refs))
    signal = _signal('<spiffworkflow:payloadExpression>{"level": 5}</spiffworkflow:payloadExpression>')
    return xml.replace(b"<bpmn:process ", signal + b"<bpmn:process ", 1)
