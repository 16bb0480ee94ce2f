"""Small hand-written BPMN processes for timer, service and operations tests."""
from __future__ import annotations

from bench.generate import NS


def wrap(key: str, body: str, lanes: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs_{key}" '
            f'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="{key}" name="{key}" '
            f'isExecutable="true">{lanes}{body}</bpmn:process></bpmn:definitions>').encode()


def intermediate_timer(key: str, kind: str, expression: str) -> bytes:
    """start -> timer catch (timeDate/timeDuration) -> user task 'after' -> end."""
    return wrap(key, f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:userTask id="after" name="After the wait"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after"/>
<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>""")


def start_timer(key: str, duration: str) -> bytes:
    return wrap(key, f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:startEvent>
<bpmn:userTask id="after" name="After start"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="after"/>
<bpmn:sequenceFlow id="f2" sourceRef="after" targetRef="end"/>""")


LANES = """<bpmn:laneSet id="ls"><bpmn:lane id="l_send" name="Sending organisation">
<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>sign</bpmn:flowNodeRef>
<bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>deadline</bpmn:flowNodeRef>
<bpmn:flowNodeRef>remind</bpmn:flowNodeRef><bpmn:flowNodeRef>end2</bpmn:flowNodeRef></bpmn:lane>
<bpmn:lane id="l_ci" name="Competent institution"><bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>
<bpmn:flowNodeRef>end3</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"""


def boundary_timer(key: str, *, interrupting: bool, kind: str, expression: str) -> bytes:
    """'sign' (sending) with a boundary timer: interrupting -> 'escalate' (competent institution);
    non-interrupting -> 'remind' (sending), while 'sign' stays open."""
    target = "escalate" if interrupting else "remind"
    return wrap(key, f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="sign" name="Sign the Learning Agreement"><bpmn:incoming>f1</bpmn:incoming>
  <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:boundaryEvent id="deadline" attachedToRef="sign" cancelActivity="{'true' if interrupting else 'false'}">
  <bpmn:outgoing>f3</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:userTask id="{target}" name="{target.title()}"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="{'end3' if interrupting else 'end2'}"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign"/>
<bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="end"/>
<bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="{target}"/>
<bpmn:sequenceFlow id="f4" sourceRef="{target}" targetRef="{'end3' if interrupting else 'end2'}"/>""",
        lanes=_lanes(interrupting))


def _lanes(interrupting: bool) -> str:
    """Only the nodes that exist in this variant are referenced from the lanes."""
    lanes = LANES
    remind = "<bpmn:flowNodeRef>remind</bpmn:flowNodeRef><bpmn:flowNodeRef>end2</bpmn:flowNodeRef>"
    escalate = ("<bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>end3</bpmn:flowNodeRef>")
    if interrupting:
        return lanes.replace(remind, "")
    for ref in escalate:
        lanes = lanes.replace(ref, "")
    return lanes


def service_process(key: str, operator: str, retries: int) -> bytes:
    """start -> service task calling connector `operator` (result in `result`) -> user task -> end."""
    return wrap(key, f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:serviceTask id="call" name="Call connector"><bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="result">
    <spiffworkflow:parameters>
      <spiffworkflow:parameter id="learner" type="str" value="'Ana'"/>
    </spiffworkflow:parameters>
  </spiffworkflow:serviceTaskOperator>
  <spiffworkflow:properties><spiffworkflow:property name="retries" value="{retries}"/></spiffworkflow:properties>
</bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
<bpmn:userTask id="after" name="After the call"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
<bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>""")


def event_gateway_timer(key: str, duration: str, message: str = "answer") -> bytes:
    """start -> event-based gateway: timer (duration) -> user task 'chase' | message -> 'answered'."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs_{key}" '
            f'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:message id="msg_{key}" name="{message}"/>'
            f'<bpmn:process id="{key}" name="{key}" isExecutable="true">' + f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:eventBasedGateway id="which"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:outgoing>f3</bpmn:outgoing></bpmn:eventBasedGateway>
<bpmn:intermediateCatchEvent id="late" name="No answer in time"><bpmn:incoming>f2</bpmn:incoming>
  <bpmn:outgoing>f4</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="got" name="Answer"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
  <bpmn:messageEventDefinition messageRef="msg_{key}"/>
</bpmn:intermediateCatchEvent>
<bpmn:userTask id="chase" name="Chase the answer"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
</bpmn:userTask>
<bpmn:userTask id="answered" name="Read the answer"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="end1"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="end2"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="which"/>
<bpmn:sequenceFlow id="f2" sourceRef="which" targetRef="late"/>
<bpmn:sequenceFlow id="f3" sourceRef="which" targetRef="got"/>
<bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="chase"/>
<bpmn:sequenceFlow id="f5" sourceRef="got" targetRef="answered"/>
<bpmn:sequenceFlow id="f6" sourceRef="chase" targetRef="end1"/>
<bpmn:sequenceFlow id="f7" sourceRef="answered" targetRef="end2"/>
</bpmn:process></bpmn:definitions>""").encode()
