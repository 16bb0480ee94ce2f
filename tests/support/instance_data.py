"""A two-party process whose data a party reads through GET /api/process-instances/{id}/data."""
from __future__ import annotations

from tests.support.bpmn import wrap

_LANES = ('<bpmn:laneSet id="ls"><bpmn:lane id="l_s" name="Sending organisation">'
          '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>propose</bpmn:flowNodeRef>'
          '<bpmn:flowNodeRef>each</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>'
          '<bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
          '<bpmn:lane id="l_h" name="Hosting organisation"><bpmn:flowNodeRef>assess</bpmn:flowNodeRef></bpmn:lane>'
          '</bpmn:laneSet>')


def shared_data(key: str = "shared_data") -> bytes:
    """propose (sending, no form) -> assess (hosting) -> script 'each' over `items` (multi-instance,
    `doubled = item * 2`) -> review (sending) -> end."""
    return wrap(key, """<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="propose" name="Propose"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
</bpmn:userTask>
<bpmn:userTask id="assess" name="Assess"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask>
<bpmn:scriptTask id="each" name="Each item"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
<bpmn:inputDataItem id="item"/></bpmn:multiInstanceLoopCharacteristics>
<bpmn:script>doubled = item * 2</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="review" name="Review"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="propose"/>
<bpmn:sequenceFlow id="f2" sourceRef="propose" targetRef="assess"/>
<bpmn:sequenceFlow id="f3" sourceRef="assess" targetRef="each"/>
<bpmn:sequenceFlow id="f4" sourceRef="each" targetRef="review"/>
<bpmn:sequenceFlow id="f5" sourceRef="review" targetRef="end"/>""", _LANES)
