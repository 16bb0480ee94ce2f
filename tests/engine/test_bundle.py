"""Bundle validation: what a deployment accepts, what it refuses, and that it reports every problem."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bundle import (
    BundleError,
    BundleInvalid,
    ParsedBundle,
    parse_bundle,
    role_key,
    safe_parse_xml,
)
from engine.errors import Invalid

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bundle"
SAMPLE = ROOT / "processes" / "two_lane_review.bpmn"
FORMS = ROOT / "forms"

BPMN_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="Definitions_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">\n'
)

FORM = json.dumps({"type": "object", "properties": {"x": {"type": "string"}}}).encode()


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def user_task(task_id: str, *, form: str | None = None, name: str | None = None, **props: str) -> str:
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
    return (FIXTURES / name).read_bytes()


def sample_files() -> dict[str, bytes]:
    return {
        "two_lane_review.bpmn": SAMPLE.read_bytes(),
        "two_lane_propose.json": (FORMS / "two_lane_propose.json").read_bytes(),
        "two_lane_review.json": (FORMS / "two_lane_review.json").read_bytes(),
    }


def errors_of(files: dict[str, bytes], **kwargs: object) -> list[BundleError]:
    with pytest.raises(BundleInvalid) as info:
        parse_bundle(files, **kwargs)  # type: ignore[arg-type]
    assert info.value.errors, "BundleInvalid must carry its errors"
    return info.value.errors


def only(bundle: ParsedBundle, key: str):
    matches = [p for p in bundle.processes if p.key == key]
    assert len(matches) == 1, [p.key for p in bundle.processes]
    return matches[0]


# --------------------------------------------------------------------------------------------------
# the sample process
# --------------------------------------------------------------------------------------------------


def test_sample_process_parses_with_roles_tasks_and_forms() -> None:
    bundle = parse_bundle(sample_files())

    assert [p.key for p in bundle.processes] == ["two_lane_review"]
    parsed = bundle.processes[0]
    assert parsed.name == "Two-lane review"
    assert parsed.roles == {"sending": "Sending organisation", "hosting": "Hosting organisation"}
    assert [(t.bpmn_id, t.name, t.lane, t.role, t.form) for t in parsed.user_tasks] == [
        ("propose", "Propose placement", "Sending organisation", "sending", "two_lane_propose.json"),
        ("review", "Review placement", "Hosting organisation", "hosting", "two_lane_review.json"),
    ]
    assert parsed.user_tasks[0].instructions and "placement" in parsed.user_tasks[0].instructions
    assert parsed.user_tasks[0].due is None
    assert set(parsed.files) == set(sample_files())
    assert parsed.files == sample_files()
    assert len(parsed.content_hash) == 64 and int(parsed.content_hash, 16) >= 0
    assert parsed.spec.name == "two_lane_review" and parsed.subprocess_specs == {}
    assert bundle.files == sample_files()


def test_sample_forms_resolve_from_forms_dir_and_are_returned() -> None:
    bundle = parse_bundle({"two_lane_review.bpmn": SAMPLE.read_bytes()}, forms_dir=FORMS)

    parsed = only(bundle, "two_lane_review")
    assert parsed.files["two_lane_propose.json"] == (FORMS / "two_lane_propose.json").read_bytes()
    assert parsed.files["two_lane_review.json"] == (FORMS / "two_lane_review.json").read_bytes()
    # forms taken from forms_dir are new content the deployment must store
    assert set(bundle.files) == {"two_lane_review.bpmn", "two_lane_propose.json", "two_lane_review.json"}
    # same files whether the forms came in the bundle or from forms_dir: same version
    assert parsed.content_hash == parse_bundle(sample_files()).processes[0].content_hash


def test_sample_forms_are_valid_schemas_with_help_texts() -> None:
    propose = json.loads((FORMS / "two_lane_propose.json").read_text())
    assert set(propose["required"]) == {"placement_title", "start_date", "weeks"}
    assert propose["properties"]["placement_title"]["minLength"] == 3
    assert propose["properties"]["start_date"]["format"] == "date"
    assert (propose["properties"]["weeks"]["minimum"], propose["properties"]["weeks"]["maximum"]) == (1, 52)
    review = json.loads((FORMS / "two_lane_review.json").read_text())
    assert review["required"] == ["accepted"]
    assert review["properties"]["accepted"]["type"] == "boolean"
    assert review["properties"]["comment"]["type"] == "string"
    for schema in (propose, review):
        for prop in schema["properties"].values():
            assert prop["title"] and prop["description"]


def test_sample_has_full_diagram_layout() -> None:
    root = safe_parse_xml(SAMPLE.read_bytes(), "two_lane_review.bpmn")
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement", namespaces=ns))
    elements = set(root.xpath("//bpmn:process//*[@id]/@id | //bpmn:participant/@id", namespaces=ns))
    elements -= set(root.xpath("//bpmn:laneSet/@id", namespaces=ns))
    assert elements <= drawn, elements - drawn


@pytest.mark.parametrize(("accepted", "end"), [(True, "EndEvent_accepted"), (False, "EndEvent_rejected")])
def test_sample_spec_dict_restores_and_runs_both_paths(accepted: bool, end: str) -> None:
    parsed = parse_bundle(sample_files()).processes[0]
    json.dumps(parsed.spec_dict)  # JSON-native, storable as is
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    spec = registry.restore(parsed.spec_dict["spec"])
    subs = {k: registry.restore(v) for k, v in parsed.spec_dict["subprocess_specs"].items()}

    wf = BpmnWorkflow(spec, subs)
    wf.do_engine_steps()
    (propose,) = wf.get_tasks(state=TaskState.READY, manual=True)
    assert (propose.task_spec.bpmn_id, propose.task_spec.lane) == ("propose", "Sending organisation")
    propose.data.update(placement_title="Commis chef", start_date="2025-09-01", weeks=8)
    propose.run()
    wf.do_engine_steps()
    (review,) = wf.get_tasks(state=TaskState.READY, manual=True)
    assert (review.task_spec.bpmn_id, review.task_spec.lane) == ("review", "Hosting organisation")
    review.data.update(accepted=accepted)
    review.run()
    wf.do_engine_steps()

    assert wf.completed
    finished = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert end in finished
    assert wf.data.get("rejected", False) is (not accepted)


# --------------------------------------------------------------------------------------------------
# content hash
# --------------------------------------------------------------------------------------------------


def test_identical_bytes_give_identical_hash() -> None:
    first = parse_bundle(sample_files()).processes[0].content_hash
    second = parse_bundle(dict(reversed(list(sample_files().items())))).processes[0].content_hash
    assert first == second


def test_layout_or_whitespace_change_gives_new_hash() -> None:
    files = sample_files()
    before = parse_bundle(files).processes[0].content_hash
    files["two_lane_review.bpmn"] = files["two_lane_review.bpmn"].replace(b'x="470"', b'x="480"')
    moved = parse_bundle(files).processes[0].content_hash
    files["two_lane_review.bpmn"] += b"\n"
    spaced = parse_bundle(files).processes[0].content_hash
    assert len({before, moved, spaced}) == 3


def test_form_change_gives_new_hash_but_unrelated_file_does_not() -> None:
    files = sample_files()
    before = parse_bundle(files).processes[0].content_hash
    with_extra = parse_bundle({**files, "unused.json": FORM}).processes[0].content_hash
    assert with_extra == before
    changed = dict(files)
    changed["two_lane_review.json"] = files["two_lane_review.json"].replace(b"2000", b"1000")
    assert parse_bundle(changed).processes[0].content_hash != before


# --------------------------------------------------------------------------------------------------
# refusals, one problem at a time
# --------------------------------------------------------------------------------------------------


def test_empty_bundle_is_refused() -> None:
    errors = errors_of({})
    assert [e.message for e in errors] == ["the bundle is empty"]


def test_bundle_invalid_is_an_engine_invalid_with_a_summary() -> None:
    with pytest.raises(Invalid) as info:
        parse_bundle({})
    assert isinstance(info.value, BundleInvalid)
    assert info.value.status == 422
    assert "1 problem" in info.value.message
    assert info.value.errors[0].to_dict() == {
        "file": None, "element_id": None, "message": "the bundle is empty", "line": None,
    }


def test_invalid_xml_is_reported_with_file_and_line() -> None:
    broken = b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n<unclosed>\n</bpmn:definitions>'
    (error,) = errors_of({"broken.bpmn": broken})
    assert error.file == "broken.bpmn"
    assert error.message.startswith("not well-formed XML")
    assert error.line == 4


def test_xsd_invalid_bpmn_is_reported() -> None:
    bad = process("p", [("t1", user_task("t1"))]).replace(b"<bpmn:endEvent", b"<bpmn:notAnElement", 1)
    line = next(n for n, text in enumerate(bad.decode().splitlines(), 1) if "notAnElement" in text)
    (error,) = errors_of({"bad.bpmn": bad})
    assert (error.file, error.line) == ("bad.bpmn", line)
    assert error.message.startswith("BPMN schema: Element 'bpmn:notAnElement': This element is not expected")


@pytest.mark.parametrize("reserved", ["Start", "End", "p.EndJoin"])
def test_ids_spiffworkflow_reserves_for_its_own_tasks_are_refused(reserved: str) -> None:
    """An element called 'Start' silently replaces Spiff's internal start task: refuse it at deploy time."""
    bad = process("p", [("t1", user_task("t1"))]).replace(b'id="p_start"', f'id="{reserved}"'.encode())
    bad = bad.replace(b'sourceRef="p_start"', f'sourceRef="{reserved}"'.encode())
    errors = errors_of({"p.bpmn": bad})
    assert [(e.file, e.element_id) for e in errors][:1] == [("p.bpmn", reserved)]
    assert "reserved by SpiffWorkflow" in errors[0].message
    assert errors[0].line is not None


def test_missing_form_names_task_and_form() -> None:
    files = {"p.bpmn": process("p", [("fill_in", user_task("fill_in", form="nowhere.json"))])}
    (error,) = errors_of(files, forms_dir=FORMS)
    assert error.file == "p.bpmn"
    assert error.element_id == "fill_in"
    assert "form 'nowhere.json' not found" in error.message
    assert "fill_in" in error.message


def test_missing_ui_schema_is_reported_and_present_one_is_kept() -> None:
    files = {
        "p.bpmn": process("p", [
            ("a", user_task("a", form="f.json", formUiSchemaFilename="a-uischema.json")),
            ("b", user_task("b", form="f.json", formUiSchemaFilename="b-uischema.json", dueDate="P14D")),
        ]),
        "f.json": FORM,
        "b-uischema.json": json.dumps({"x": {"ui:widget": "textarea"}}).encode(),
    }
    (error,) = errors_of(files)
    assert (error.element_id, "a-uischema.json" in error.message) == ("a", True)

    files["a-uischema.json"] = b"{}"
    parsed = parse_bundle(files).processes[0]
    task_b = parsed.user_tasks[1]
    assert (task_b.form, task_b.ui_form, task_b.due) == ("f.json", "b-uischema.json", "P14D")
    assert {"f.json", "a-uischema.json", "b-uischema.json"} <= set(parsed.files)


def test_form_that_is_not_a_json_schema_is_refused() -> None:
    files = {
        "p.bpmn": process("p", [("t", user_task("t", form="f.json"))]),
        "f.json": json.dumps({"type": "object", "properties": {"x": {"type": "no-such-type"}}}).encode(),
        "g.json": b"[1, 2",
    }
    errors = errors_of(files)
    by_file = {e.file: e.message for e in errors}
    assert "not a valid JSON Schema" in by_file["f.json"]
    assert "not valid JSON" in by_file["g.json"]
    # the broken form is reported on the form itself, not as "not found" on the task
    assert not any("not found" in e.message for e in errors)


def test_unknown_called_process_names_the_call_activity() -> None:
    call = '<bpmn:callActivity id="call_ghost" calledElement="ghost_process"/>'
    (error,) = errors_of({"p.bpmn": process("p", [("call_ghost", call)])})
    assert (error.file, error.element_id) == ("p.bpmn", "call_ghost")
    assert "ghost_process" in error.message


def test_unknown_decision_names_the_business_rule_task() -> None:
    task = (
        '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>no_such_decision</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )
    (error,) = errors_of({"p.bpmn": process("p", [("decide", task)])})
    assert (error.file, error.element_id) == ("p.bpmn", "decide")
    assert "no_such_decision" in error.message


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


def test_billion_laughs_is_refused() -> None:
    (error,) = errors_of({"lol.bpmn": BILLION_LAUGHS})
    assert error.file == "lol.bpmn"
    assert error.message == "DOCTYPE and entity declarations are not allowed"
    with pytest.raises(BundleInvalid, match="DOCTYPE"):
        safe_parse_xml(BILLION_LAUGHS, "lol.bpmn")


def test_xxe_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-9f2c")
    for target in (secret.as_uri(), "file:///etc/passwd"):
        xxe = (
            '<?xml version="1.0"?>\n'
            f'<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "{target}">]>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            "<bpmn:process id=\"p\"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>"
            "</bpmn:definitions>"
        ).encode()
        (error,) = errors_of({"xxe.bpmn": xxe})
        assert error.message == "DOCTYPE and entity declarations are not allowed"
        assert "TOP-SECRET" not in str(error) and "root:" not in str(error)
        with pytest.raises(BundleInvalid) as info:
            safe_parse_xml(xxe, "xxe.bpmn")
        assert "TOP-SECRET" not in str(info.value)


def test_external_dtd_and_doctype_in_other_encodings_are_refused() -> None:
    external = b'<!DOCTYPE d SYSTEM "http://example.invalid/evil.dtd"><d/>'
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>'.encode("utf-16")
    utf32 = '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>'.encode("utf-32")
    for data in (external, utf16, utf32):
        with pytest.raises(BundleInvalid) as info:
            safe_parse_xml(data, "d.bpmn")
        assert [e.message for e in info.value.errors] == ["DOCTYPE and entity declarations are not allowed"]


def test_safe_parse_xml_returns_the_root_element() -> None:
    root = safe_parse_xml(SAMPLE.read_bytes(), "two_lane_review.bpmn")
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"


def test_oversized_file_is_refused_before_parsing() -> None:
    files = sample_files()
    errors = errors_of(files, max_file_bytes=len(files["two_lane_review.bpmn"]) - 1)
    oversized = [e for e in errors if e.file == "two_lane_review.bpmn"]
    assert len(oversized) == 1 and "over the limit" in oversized[0].message
    with pytest.raises(BundleInvalid, match="over the limit"):
        safe_parse_xml(b"<a>" + b" " * 100 + b"</a>", "a.bpmn", max_bytes=50)


def test_oversized_bundle_is_refused() -> None:
    files = sample_files()
    total = sum(len(v) for v in files.values())
    errors = errors_of(files, max_bundle_bytes=total - 1)
    assert [e.message for e in errors] == [f"bundle is {total} bytes, over the limit of {total - 1}"]


def test_unsupported_file_type_and_path_names_are_refused() -> None:
    files = {**sample_files(), "notes.txt": b"hello", "../evil.json": FORM, "sub/dir.bpmn": b"<x/>"}
    errors = errors_of(files)
    assert {e.file for e in errors} == {"notes.txt", "../evil.json", "sub/dir.bpmn"}
    assert any("unsupported file type" in e.message for e in errors)
    assert sum("plain names" in e.message for e in errors) == 2


def test_bundle_without_executable_process_is_refused() -> None:
    errors = errors_of({"p.bpmn": process("p", [], executable=False), "f.json": FORM})
    assert [e.message for e in errors] == ["the bundle defines no executable process"]


def test_duplicate_process_id_across_files_is_refused() -> None:
    errors = errors_of({"a.bpmn": process("p", []), "b.bpmn": process("p", [])})
    assert [(e.file, e.element_id) for e in errors] == [("b.bpmn", "p")]
    assert "already defined in 'a.bpmn'" in errors[0].message


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
    assert "not valid Python" in by_element["compute"] and "script" in by_element["compute"]
    assert "preScript is not valid Python" in by_element["ask"]
    assert "conditionExpression is not valid Python" in by_element["p_flow2"]


def test_expression_with_leading_spaces_is_accepted_like_eval_does() -> None:
    bpmn = process("p", [("t", user_task("t"))]).replace(
        b'<bpmn:sequenceFlow id="p_flow2" sourceRef="t" targetRef="p_end"/>',
        b'<bpmn:sequenceFlow id="p_flow2" sourceRef="t" targetRef="p_end">'
        b"<bpmn:conditionExpression>   True\n</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )
    assert only(parse_bundle({"p.bpmn": bpmn}), "p").key == "p"


# --------------------------------------------------------------------------------------------------
# every problem at once
# --------------------------------------------------------------------------------------------------


def test_several_broken_files_are_reported_together() -> None:
    task = user_task("t", form="missing.json")
    files = {
        "ok.bpmn": process("ok", [("t", task)]),
        "broken.bpmn": b"<bpmn:definitions",
        "form.json": b"{not json",
        "readme.md": b"# hi",
        "lol.bpmn": BILLION_LAUGHS,
        "call.bpmn": process("caller", [("c", '<bpmn:callActivity id="c" calledElement="nobody"/>')]),
    }
    errors = errors_of(files)
    located = {(e.file, e.element_id) for e in errors}
    assert ("broken.bpmn", None) in located
    assert ("form.json", None) in located
    assert ("readme.md", None) in located
    assert ("lol.bpmn", None) in located
    assert ("ok.bpmn", "t") in located
    assert ("call.bpmn", "c") in located
    assert len(errors) == 6, errors


# --------------------------------------------------------------------------------------------------
# decisions and called processes
# --------------------------------------------------------------------------------------------------


def test_dmn_and_business_rule_task_bundle_parses_and_decides() -> None:
    files = {"classify_placement.bpmn": fixture("classify_placement.bpmn"),
             "placement_length.dmn": fixture("placement_length.dmn")}
    bundle = parse_bundle(files)
    parsed = only(bundle, "classify_placement")
    assert parsed.files == files
    assert parsed.user_tasks == [] and parsed.roles == {}

    for weeks, category in ((2, "short"), (10, "long")):
        wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
        wf.task_tree.data.update(weeks=weeks)
        wf.do_engine_steps()
        assert wf.completed and wf.data["category"] == category


def test_broken_dmn_is_reported_on_the_dmn_file() -> None:
    dmn = fixture("placement_length.dmn").replace(b"<text>\"long\"</text>", b"<text>\"long</text>")
    files = {"classify_placement.bpmn": fixture("classify_placement.bpmn"), "placement_length.dmn": dmn}
    errors = errors_of(files)
    assert [(e.file, e.element_id) for e in errors] == [("placement_length.dmn", "LiteralExpression_long")]
    assert "Malformed Output Expression" in errors[0].message


def test_call_activity_across_two_bundle_files_parses_with_its_files() -> None:
    files = {
        "mobility_main.bpmn": fixture("mobility_main.bpmn"),
        "learning_agreement.bpmn": fixture("learning_agreement.bpmn"),
        "sign_agreement.json": fixture("sign_agreement.json"),
    }
    bundle = parse_bundle(files)
    assert {p.key for p in bundle.processes} == {"mobility_main", "learning_agreement"}
    main = only(bundle, "mobility_main")
    assert set(main.subprocess_specs) == {"learning_agreement"}
    assert set(main.spec_dict["subprocess_specs"]) == {"learning_agreement"}
    assert main.files == files  # the called process and its form come along
    assert main.user_tasks == []  # the called process's tasks belong to the called process
    callee = only(bundle, "learning_agreement")
    assert set(callee.files) == {"learning_agreement.bpmn", "sign_agreement.json"}
    assert [t.bpmn_id for t in callee.user_tasks] == ["sign_agreement"]
    # changing the callee is a new version of the caller too
    changed = {**files, "learning_agreement.bpmn": files["learning_agreement.bpmn"] + b"\n"}
    assert only(parse_bundle(changed), "mobility_main").content_hash != main.content_hash


def test_call_activity_resolved_from_the_library() -> None:
    library = {
        "learning_agreement.bpmn": fixture("learning_agreement.bpmn"),
        "sign_agreement.json": fixture("sign_agreement.json"),
        "unrelated_broken.bpmn": b"<not xml",
        "old_version_of_main.bpmn": b"<bpmn:definitions",
    }
    bundle = parse_bundle({"mobility_main.bpmn": fixture("mobility_main.bpmn")}, library=library)

    assert [p.key for p in bundle.processes] == ["mobility_main"]  # library processes are not redeployed
    main = bundle.processes[0]
    assert set(main.subprocess_specs) == {"learning_agreement"}
    assert main.files["learning_agreement.bpmn"] == library["learning_agreement.bpmn"]
    assert main.files["sign_agreement.json"] == library["sign_agreement.json"]
    assert "unrelated_broken.bpmn" not in main.files
    assert set(bundle.files) == {"mobility_main.bpmn"}


def test_broken_library_file_that_is_needed_is_reported_on_the_call_activity() -> None:
    broken = fixture("learning_agreement.bpmn").replace(b"<bpmn:endEvent", b"<bpmn:noSuchThing")
    (error,) = errors_of({"mobility_main.bpmn": fixture("mobility_main.bpmn")},
                         library={"learning_agreement.bpmn": broken})
    assert (error.file, error.element_id) == ("mobility_main.bpmn", "call_agreement")
    assert "learning_agreement" in error.message and "cannot be used" in error.message


def test_bundle_file_shadows_library_file_of_same_name() -> None:
    # the library still holds an old version of the bundle's own file: the bundle's version wins
    old = process("mobility_main", [])
    bundle = parse_bundle(
        {"mobility_main.bpmn": fixture("mobility_main.bpmn"), "learning_agreement.bpmn": fixture(
            "learning_agreement.bpmn"), "sign_agreement.json": fixture("sign_agreement.json")},
        library={"mobility_main.bpmn": old, "learning_agreement.bpmn": b"garbage"},
    )
    main = only(bundle, "mobility_main")
    assert main.files["mobility_main.bpmn"] == fixture("mobility_main.bpmn")
    assert main.files["learning_agreement.bpmn"] == fixture("learning_agreement.bpmn")


def test_decision_resolved_from_the_library() -> None:
    library = {"placement_length.dmn": fixture("placement_length.dmn")}
    parsed = parse_bundle({"classify_placement.bpmn": fixture("classify_placement.bpmn")},
                          library=library).processes[0]
    assert parsed.files["placement_length.dmn"] == library["placement_length.dmn"]


# --------------------------------------------------------------------------------------------------
# lanes and roles
# --------------------------------------------------------------------------------------------------


def test_user_task_outside_lanes_is_refused() -> None:
    bpmn = process(
        "p",
        [("in_lane", user_task("in_lane")), ("stray", user_task("stray"))],
        lanes={"Learner": ["p_start", "in_lane"]},
    )
    (error,) = errors_of({"p.bpmn": bpmn})
    assert (error.file, error.element_id) == ("p.bpmn", "stray")
    assert error.message == "user task 'stray' is in no lane, so no party can be assigned"


def test_user_task_in_unnamed_lane_is_refused() -> None:
    bpmn = process("p", [("t", user_task("t"))], lanes={"": ["t"]})
    (error,) = errors_of({"p.bpmn": bpmn})
    assert error.element_id == "t" and "has no name" in error.message


def test_process_without_lanes_is_allowed_and_tasks_have_no_role() -> None:
    parsed = parse_bundle({"p.bpmn": process("p", [("t", user_task("t", name="Do it"))])}).processes[0]
    assert parsed.roles == {}
    assert [(t.bpmn_id, t.name, t.lane, t.role, t.form) for t in parsed.user_tasks] == [
        ("t", "Do it", None, None, None)
    ]


@pytest.mark.parametrize(
    ("lane", "key"),
    [
        ("Hosting organisation", "hosting"),
        ("Sending organisation", "sending"),
        ("Sending Organization", "sending"),
        ("Learner", "learner"),
        ("Competent institution (home)", "competent-institution-home"),
        ("Competent institution home", "competent-institution-home"),
        ("Organisation", "organisation"),
        ("Entreprise d'accueil", "entreprise-d-accueil"),
        ("  Intermediary  organisation ", "intermediary"),
    ],
)
def test_role_key_rule(lane: str, key: str) -> None:
    assert role_key(lane) == key


def test_lane_role_key_property_overrides_the_rule() -> None:
    bpmn = process(
        "p",
        [("t", user_task("t")), ("u", user_task("u"))],
        lanes={"Home VET school": ["t"], "Hosting organisation": ["u"]},
        lane_props={"Home VET school": "sending"},
    )
    parsed = parse_bundle({"p.bpmn": bpmn}).processes[0]
    assert parsed.roles == {"sending": "Home VET school", "hosting": "Hosting organisation"}
    assert [t.role for t in parsed.user_tasks] == ["sending", "hosting"]


def test_lanes_giving_the_same_role_key_or_bad_role_key_are_refused() -> None:
    clash = process("p", [("t", user_task("t")), ("u", user_task("u"))],
                    lanes={"Hosting organisation": ["t"], "Hosting": ["u"]})
    (error,) = errors_of({"p.bpmn": clash})
    assert "both give role key 'hosting'" in error.message and error.element_id == "p_lane1"

    bad = process("q", [("t", user_task("t"))], lanes={"Learner": ["t"]},
                  lane_props={"Learner": "Not A Slug"})
    (error,) = errors_of({"q.bpmn": bad})
    assert "roleKey 'Not A Slug'" in error.message and error.element_id == "q_lane0"


def test_tasks_in_embedded_subprocess_and_multi_instance_take_the_lane_they_sit_in() -> None:
    sub = (
        '<bpmn:subProcess id="sp"><bpmn:startEvent id="sp_s"/>'
        + user_task("inner", form="f.json")
        + '<bpmn:endEvent id="sp_e"/><bpmn:sequenceFlow id="sf1" sourceRef="sp_s" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="sf2" sourceRef="inner" targetRef="sp_e"/></bpmn:subProcess>'
    )
    each = (
        '<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics>'
        "<bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
    )
    manual = '<bpmn:manualTask id="phone"/>'
    nodes = [("sp", sub), ("each", each), ("phone", manual)]
    parsed = parse_bundle(
        {"p.bpmn": process("p", nodes, lanes={"Learner": ["sp", "each"], "Sending organisation": ["phone"]}),
         "f.json": FORM}
    ).processes[0]
    assert sorted((t.bpmn_id, t.role) for t in parsed.user_tasks) == [
        ("each", "learner"), ("inner", "learner"), ("phone", "sending"),
    ]
    assert set(parsed.subprocess_specs) == {"sp"}
    assert set(parsed.files) == {"p.bpmn", "f.json"}

    # the same subprocess outside every lane: its task has no party
    outside = process("p", nodes, lanes={"Learner": ["each", "phone"]})
    (error,) = errors_of({"p.bpmn": outside, "f.json": FORM})
    assert error.element_id == "inner" and "no lane" in error.message


def test_library_file_that_also_defines_a_bundle_process_is_not_mixed_in() -> None:
    # an old deployment kept the caller and the callee in one file; the bundle redefines the caller
    agreement = fixture("learning_agreement.bpmn").split(b"<bpmn:process", 1)[1].split(b"</bpmn:process>")[0]
    combined = process("mobility_main", []).replace(
        b"</bpmn:definitions>", b"<bpmn:process" + agreement + b"</bpmn:process></bpmn:definitions>"
    )
    assert combined.count(b"<bpmn:process ") == 2
    library = {"combined.bpmn": combined, "sign_agreement.json": fixture("sign_agreement.json")}
    (error,) = errors_of({"mobility_main.bpmn": fixture("mobility_main.bpmn")}, library=library)
    assert error.element_id == "call_agreement"
    assert "'mobility_main'" in error.message and "defines again" in error.message


def test_concurrent_validations_do_not_interfere() -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = sample_files()
    bad = {"bad.bpmn": process("p", []).replace(b"<bpmn:endEvent", b"<bpmn:nope", 1)}

    def run(i: int) -> str:
        if i % 2:
            return parse_bundle(good).processes[0].content_hash
        try:
            parse_bundle(bad)
        except BundleInvalid as exc:
            return exc.errors[0].message
        return "unexpectedly valid"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(32)))
    assert len(set(results[1::2])) == 1 and len(results[1]) == 64
    assert all("bpmn:nope" in r for r in results[0::2])
