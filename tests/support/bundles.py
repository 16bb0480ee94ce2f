"""Building deployment bundles in tests: BPMN files from a few nodes, the sample process, its errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.bundle import (
    BundleError,
    BundleInvalid,
    ParsedBundle,
    ParsedProcess,
    parse_bundle,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "engine" / "fixtures" / "bundle"
SAMPLE = ROOT / "processes" / "two_lane_review.bpmn"
FORMS = ROOT / "forms"
BPMN_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Definitions_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">\n'
)
FORM = json.dumps({"type": "object", "properties": {"x": {"type": "string"}}}).encode()


def user_task(task_id: str, *, form: str | None = None, name: str | None = None, **props: str) -> str:
    """A bpmn:userTask with spiff properties (``form`` is its formJsonSchemaFilename)."""
    properties = dict(props)
    if form is not None:
        properties["formJsonSchemaFilename"] = form
    ext = ""
    if properties:
        rows = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in properties.items())
        ext = f"<bpmn:extensionElements><spiffworkflow:properties>{rows}</spiffworkflow:properties>" \
              f"</bpmn:extensionElements>"
    return f'<bpmn:userTask id="{task_id}" name="{name or task_id}">{ext}</bpmn:userTask>'


def process(
    pid: str,
    nodes: list[tuple[str, str]],
    *,
    lanes: dict[str, list[str]] | None = None,
    lane_props: dict[str, str] | None = None,
    executable: bool = True,
) -> bytes:
    """A BPMN file with one process: start -> nodes (id, xml) in order -> end."""
    ids = [f"{pid}_start", *(node_id for node_id, _ in nodes), f"{pid}_end"]
    body = [
        f'<bpmn:startEvent id="{pid}_start"/>',
        *(xml for _, xml in nodes),
        f'<bpmn:endEvent id="{pid}_end"/>',
    ]
    flows = [
        f'<bpmn:sequenceFlow id="{pid}_flow{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    ]
    lane_xml = ""
    if lanes is not None:
        rows = []
        for n, (lane_name, refs) in enumerate(lanes.items()):
            ext = ""
            if lane_props and lane_name in lane_props:
                ext = (
                    "<bpmn:extensionElements><spiffworkflow:properties>"
                    f'<spiffworkflow:property name="roleKey" value="{lane_props[lane_name]}"/>'
                    "</spiffworkflow:properties></bpmn:extensionElements>"
                )
            name_attr = f' name="{lane_name}"' if lane_name else ""
            node_refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs)
            rows.append(f'<bpmn:lane id="{pid}_lane{n}"{name_attr}>{ext}{node_refs}</bpmn:lane>')
        lane_xml = f'<bpmn:laneSet id="{pid}_lanes">{"".join(rows)}</bpmn:laneSet>'
    return (
        BPMN_HEADER.format(pid=pid)
        + f'<bpmn:process id="{pid}" name="{pid} name" isExecutable="{str(executable).lower()}">'
        + lane_xml
        + "".join(body)
        + "".join(flows)
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def fixture(name: str) -> bytes:
    """A file of tests/engine/fixtures/bundle."""
    return (FIXTURES / name).read_bytes()


def sample_files() -> dict[str, bytes]:
    """The shipped two_lane_review process with its two forms."""
    return {
        "two_lane_review.bpmn": SAMPLE.read_bytes(),
        "two_lane_propose.json": (FORMS / "two_lane_propose.json").read_bytes(),
        "two_lane_review.json": (FORMS / "two_lane_review.json").read_bytes(),
    }


def errors_of(files: dict[str, bytes], **kwargs: object) -> list[BundleError]:
    """The errors a bundle is refused with (fails the test if it is accepted)."""
    with pytest.raises(BundleInvalid) as info:
        parse_bundle(files, **kwargs)  # type: ignore[arg-type]
    assert info.value.errors, "BundleInvalid must carry its errors"
    return info.value.errors


def only(bundle: ParsedBundle, key: str) -> ParsedProcess:
    """The one parsed process of that key."""
    matches = [p for p in bundle.processes if p.key == key]
    assert len(matches) == 1, [p.key for p in bundle.processes]
    return matches[0]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">
<bpmn:documentation>&lol9;</bpmn:documentation></bpmn:process></bpmn:definitions>"""
