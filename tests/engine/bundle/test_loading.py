"""engine/bundle/loading.py: reading a bundle's files and the deployed ones it calls, handed to SpiffWorkflow."""
from __future__ import annotations

import pytest

from engine.bundle import parse_bundle
from tests.support.bundles import FORM, errors_of, fixture, only, process, sample_files, user_task


def test_empty_bundle_is_refused() -> None:
    errors = errors_of({})
    assert [e.message for e in errors] == ["the bundle is empty"]


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


def test_duplicate_process_id_across_files_is_refused() -> None:
    errors = errors_of({"a.bpmn": process("p", []), "b.bpmn": process("p", [])})
    assert [(e.file, e.element_id) for e in errors] == [("b.bpmn", "p")]
    assert "already defined in 'a.bpmn'" in errors[0].message


def test_broken_dmn_is_reported_on_the_dmn_file() -> None:
    dmn = fixture("placement_length.dmn").replace(b"<text>\"long\"</text>", b"<text>\"long</text>")
    files = {"classify_placement.bpmn": fixture("classify_placement.bpmn"), "placement_length.dmn": dmn}
    errors = errors_of(files)
    assert [(e.file, e.element_id) for e in errors] == [("placement_length.dmn", "LiteralExpression_long")]
    assert "Malformed Output Expression" in errors[0].message


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
    assert "'mobility_main'" in error.message
    assert "defines again" in error.message


def test_schema_slips_spiffworkflow_runs_anyway_deploy_with_a_warning() -> None:
    """spiff-arena saves a ``label`` on bpmndi:BPMNPlane, which the XSD refuses and nothing reads."""
    good = process("p", [("t1", user_task("t1"))])
    diagram = (b'<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="plane" bpmnElement="p" label="Main"/>'
               b'</bpmndi:BPMNDiagram></bpmn:definitions>')
    slipped = good.replace(b"</bpmn:definitions>", diagram).replace(
        b"<bpmn:definitions ", b'<bpmn:definitions xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" ')
    bundle = parse_bundle({"p.bpmn": slipped})
    (warning,) = bundle.warnings
    assert warning.file == "p.bpmn"
    assert warning.line is not None
    assert warning.message.startswith("BPMN schema: Element 'bpmndi:BPMNPlane', attribute 'label': The attribute "
                                      "'label' is not allowed.")
    assert warning.message.endswith("(SpiffWorkflow runs the model anyway: deployed as it is)")
    assert bundle.processes[0].warnings == [warning]
