"""Processes started by their timer start event, with or without the parties they bind."""
from __future__ import annotations

from tests.support.bpmn import wrap

_LANE = ('<bpmn:laneSet id="ls"><bpmn:lane id="l_s" name="Sending organisation"><bpmn:flowNodeRef>tick'
         '</bpmn:flowNodeRef><bpmn:flowNodeRef>after</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>'
         '</bpmn:lane></bpmn:laneSet>')


def timer_started(key: str, kind: str, expression: str, *, parties: str | None = None, lanes: bool = True) -> bytes:
    """Timer start event 'tick' (``kind``: timeDate, timeDuration or timeCycle) -> user task 'after' -> end;
    ``parties`` is the process's ``timerStartParties`` property."""
    properties = ("<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property "
                  f'name="timerStartParties" value="{parties}"/></spiffworkflow:properties>'
                  "</bpmn:extensionElements>") if parties is not None else ""
    return wrap(key, f"""<bpmn:startEvent id="tick"><bpmn:outgoing>f1</bpmn:outgoing>
<bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:startEvent>
<bpmn:userTask id="after" name="After the tick"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
</bpmn:userTask><bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="after"/>
<bpmn:sequenceFlow id="f2" sourceRef="after" targetRef="end"/>""", properties + (_LANE if lanes else ""))
