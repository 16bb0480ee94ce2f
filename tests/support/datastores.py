"""Processes that keep data in a BPMN data store (JSONDataStore / KKVDataStore) across instances."""
from __future__ import annotations

from tests.support.bpmn import wrap

_LANE = ('<bpmn:laneSet id="ls"><bpmn:lane id="l_s" name="Sending organisation"><bpmn:flowNodeRef>start'
         '</bpmn:flowNodeRef><bpmn:flowNodeRef>keep</bpmn:flowNodeRef><bpmn:flowNodeRef>after</bpmn:flowNodeRef>'
         '<bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')

JSON_SCRIPT = """catalogue = (catalogue or []) + [entry]
count = len(catalogue)"""
KKV_SCRIPT = """count = sum(len(v) for v in catalogue.values()) + 1
catalogue = {"cook": {entry: True}}"""


def keeping(key: str, kind: str = "JSONDataStore", script: str = JSON_SCRIPT) -> bytes:
    """start -> script 'keep' reading and writing data store 'catalogue' (of ``kind``) -> user task 'after'."""
    xml = wrap(key, f"""<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:scriptTask id="keep"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:property id="p_in" name="__targetRef_placeholder"/>
<bpmn:dataInputAssociation id="dia"><bpmn:sourceRef>ref</bpmn:sourceRef><bpmn:targetRef>p_in</bpmn:targetRef>
</bpmn:dataInputAssociation>
<bpmn:dataOutputAssociation id="doa"><bpmn:targetRef>ref</bpmn:targetRef></bpmn:dataOutputAssociation>
<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
</bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:dataStoreReference id="ref" dataStoreRef="catalogue"/>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="keep"/>
<bpmn:sequenceFlow id="f2" sourceRef="keep" targetRef="after"/>
<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>""", _LANE)
    return xml.replace(b"<bpmn:process ", f'<bpmn:dataStore id="catalogue" name="{kind}"/>'.encode()
                       + b"<bpmn:process ", 1)
