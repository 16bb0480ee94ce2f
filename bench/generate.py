"""Generated BPMN for benchmarks and tests: N sequential user tasks spread round-robin over lanes."""
from __future__ import annotations

from xml.sax.saxutils import escape

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)
LANES = ("Sending organisation", "Hosting organisation", "Learner")


def sequential_process(key: str, n_tasks: int, lanes: tuple[str, ...] = LANES) -> bytes:
    """A collaboration with one pool, `lanes` lanes and `n_tasks` user tasks in sequence, with layout."""
    nodes: list[tuple[str, str, int]] = [("start", "startEvent", 0)]
    nodes += [(f"task_{i}", "userTask", i % len(lanes)) for i in range(n_tasks)]
    nodes.append(("end", "endEvent", (n_tasks - 1) % len(lanes) if n_tasks else 0))
    lane_refs: dict[int, list[str]] = {i: [] for i in range(len(lanes))}
    for node_id, _kind, lane in nodes:
        lane_refs[lane].append(node_id)

    flows = [(f"flow_{i}", nodes[i][0], nodes[i + 1][0]) for i in range(len(nodes) - 1)]
    incoming = {target: fid for fid, _s, target in flows}
    outgoing = {source: fid for fid, source, _t in flows}

    out: list[str] = [f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs_{key}" '
                      'targetNamespace="http://bpmn.io/schema/bpmn">']
    out.append(f'<bpmn:collaboration id="collab_{key}"><bpmn:participant id="pool_{key}" '
               f'name="{escape(key)}" processRef="{key}"/></bpmn:collaboration>')
    out.append(f'<bpmn:process id="{key}" name="{escape(key)}" isExecutable="true">')
    out.append(f'<bpmn:laneSet id="lanes_{key}">')
    for i, lane_name in enumerate(lanes):
        refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in lane_refs[i])
        out.append(f'<bpmn:lane id="lane_{i}" name="{escape(lane_name)}">{refs}</bpmn:lane>')
    out.append("</bpmn:laneSet>")
    for node_id, kind, _lane in nodes:
        name = f' name="Step {node_id.split("_")[-1]}"' if kind == "userTask" else ""
        inner = ""
        if node_id in incoming:
            inner += f"<bpmn:incoming>{incoming[node_id]}</bpmn:incoming>"
        if node_id in outgoing:
            inner += f"<bpmn:outgoing>{outgoing[node_id]}</bpmn:outgoing>"
        out.append(f'<bpmn:{kind} id="{node_id}"{name}>{inner}</bpmn:{kind}>')
    for fid, source, target in flows:
        out.append(f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>')
    out.append("</bpmn:process>")

    # Diagram: one column per node, one row per lane.
    width = 150 + 150 * len(nodes)
    out.append(f'<bpmndi:BPMNDiagram id="diagram_{key}"><bpmndi:BPMNPlane id="plane_{key}" '
               f'bpmnElement="collab_{key}">')
    out.append(f'<bpmndi:BPMNShape id="pool_{key}_di" bpmnElement="pool_{key}" isHorizontal="true">'
               f'<dc:Bounds x="100" y="50" width="{width}" height="{150 * len(lanes)}"/></bpmndi:BPMNShape>')
    for i in range(len(lanes)):
        out.append(f'<bpmndi:BPMNShape id="lane_{i}_di" bpmnElement="lane_{i}" isHorizontal="true">'
                   f'<dc:Bounds x="130" y="{50 + 150 * i}" width="{width - 30}" height="150"/></bpmndi:BPMNShape>')
    centres: dict[str, tuple[int, int]] = {}
    for col, (node_id, kind, lane) in enumerate(nodes):
        cx, cy = 220 + 150 * col, 125 + 150 * lane
        centres[node_id] = (cx, cy)
        w, h = (100, 80) if kind == "userTask" else (36, 36)
        out.append(f'<bpmndi:BPMNShape id="{node_id}_di" bpmnElement="{node_id}">'
                   f'<dc:Bounds x="{cx - w // 2}" y="{cy - h // 2}" width="{w}" height="{h}"/></bpmndi:BPMNShape>')
    for fid, source, target in flows:
        (x1, y1), (x2, y2) = centres[source], centres[target]
        out.append(f'<bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}"><di:waypoint x="{x1}" y="{y1}"/>'
                   f'<di:waypoint x="{x2}" y="{y2}"/></bpmndi:BPMNEdge>')
    out.append("</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>")
    return "\n".join(out).encode("utf-8")


def script_process(key: str, script: str) -> bytes:
    """start -> script task -> user task (lane-less) -> end: for sandbox and incident tests."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="script" name="Run script"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="check" name="Check"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def error_end_process(key: str) -> bytes:
    """A subprocess ending in an error end event nobody catches: must become an incident (hazard 2)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:error id="err_docs" name="Documents missing" errorCode="DOCS_MISSING"/>
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="sub" name="Check documents"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:startEvent id="sub_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="sub_error" name="Missing"><bpmn:incoming>s1</bpmn:incoming>
        <bpmn:errorEventDefinition errorRef="err_docs"/></bpmn:endEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="sub_error"/>
    </bpmn:subProcess>
    <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def scripted_process(key: str, n_tasks: int, lanes: tuple[str, ...] = LANES) -> bytes:
    """Like sequential_process, but every completion runs a script task and a gateway condition:
    user task -> script ``completed = completed + 1`` -> gateway (``completed >= 0`` to the next task,
    default to the end). Start it with ``completed = 0``. No diagram: only the engine reads it."""
    lane_refs: dict[int, list[str]] = {i: [] for i in range(len(lanes))}
    lane_refs[0].append("start")
    body = ['<bpmn:startEvent id="start"/>', '<bpmn:sequenceFlow id="in_0" sourceRef="start" targetRef="task_0"/>']
    for i in range(n_tasks):
        lane_refs[i % len(lanes)] += [f"task_{i}", f"script_{i}", f"gate_{i}"]
        body += [
            f'<bpmn:userTask id="task_{i}" name="Step {i}"/>',
            f'<bpmn:sequenceFlow id="run_{i}" sourceRef="task_{i}" targetRef="script_{i}"/>',
            f'<bpmn:scriptTask id="script_{i}"><bpmn:script>completed = completed + 1</bpmn:script></bpmn:scriptTask>',
            f'<bpmn:sequenceFlow id="gate_in_{i}" sourceRef="script_{i}" targetRef="gate_{i}"/>',
            f'<bpmn:exclusiveGateway id="gate_{i}" default="stop_{i}"/>',
            f'<bpmn:sequenceFlow id="stop_{i}" sourceRef="gate_{i}" targetRef="end"/>',
        ]
        if i + 1 < n_tasks:
            body.append(f'<bpmn:sequenceFlow id="go_{i}" sourceRef="gate_{i}" targetRef="task_{i + 1}">'
                        "<bpmn:conditionExpression>completed &gt;= 0</bpmn:conditionExpression></bpmn:sequenceFlow>")
    lane_refs[(n_tasks - 1) % len(lanes) if n_tasks else 0].append("end")
    body.append('<bpmn:endEvent id="end"/>')
    lane_set = "".join(
        f'<bpmn:lane id="lane_{i}" name="{escape(lane)}">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in lane_refs[i]) + "</bpmn:lane>"
        for i, lane in enumerate(lanes)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs_{key}" '
            f'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="{key}" name="{escape(key)}" '
            f'isExecutable="true"><bpmn:laneSet id="lanes_{key}">{lane_set}</bpmn:laneSet>'
            + "".join(body) + "</bpmn:process></bpmn:definitions>").encode("utf-8")
