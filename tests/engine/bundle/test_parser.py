"""engine/bundle/parser.py: building specs, roles, user tasks and exactly the files each process depends on."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bundle import (
    BundleInvalid,
    parse_bundle,
    safe_parse_xml,
)
from tests.support.bundles import (
    BILLION_LAUGHS,
    FORM,
    SAMPLE,
    errors_of,
    fixture,
    only,
    process,
    sample_files,
    user_task,
)
from tests.support.engine import spec_of


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
    assert parsed.user_tasks[0].instructions
    assert "placement" in parsed.user_tasks[0].instructions
    assert parsed.user_tasks[0].due is None
    assert set(parsed.files) == set(sample_files())
    assert parsed.files == sample_files()
    assert len(parsed.content_hash) == 64
    assert int(parsed.content_hash, 16) >= 0
    assert parsed.spec.name == "two_lane_review"
    assert parsed.subprocess_specs == {}
    assert bundle.files == sample_files()


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
    assert (spec_of(propose).bpmn_id, spec_of(propose).lane) == ("propose", "Sending organisation")
    propose.data.update(placement_title="Commis chef", start_date="2025-09-01", weeks=8)
    propose.run()
    wf.do_engine_steps()
    (review,) = wf.get_tasks(state=TaskState.READY, manual=True)
    assert (spec_of(review).bpmn_id, spec_of(review).lane) == ("review", "Hosting organisation")
    review.data.update(accepted=accepted)
    review.run()
    wf.do_engine_steps()

    assert wf.completed
    finished = {spec_of(t).bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert end in finished
    assert wf.data.get("rejected", False) is (not accepted)


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


def test_unknown_called_process_names_the_call_activity() -> None:
    call = '<bpmn:callActivity id="call_ghost" calledElement="ghost_process"/>'
    (error,) = errors_of({"p.bpmn": process("p", [("call_ghost", call)])})
    assert (error.file, error.element_id) == ("p.bpmn", "call_ghost")
    assert "ghost_process" in error.message


def test_bundle_without_executable_process_is_refused() -> None:
    errors = errors_of({"p.bpmn": process("p", [], executable=False), "f.json": FORM})
    assert [e.message for e in errors] == ["the bundle defines no executable process"]


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


def test_dmn_and_business_rule_task_bundle_parses_and_decides() -> None:
    files = {"classify_placement.bpmn": fixture("classify_placement.bpmn"),
             "placement_length.dmn": fixture("placement_length.dmn")}
    bundle = parse_bundle(files)
    parsed = only(bundle, "classify_placement")
    assert parsed.files == files
    assert parsed.user_tasks == []
    assert parsed.roles == {}

    for weeks, category in ((2, "short"), (10, "long")):
        wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
        wf.task_tree.data.update(weeks=weeks)
        wf.do_engine_steps()
        assert wf.completed
        assert wf.data["category"] == category


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
    assert "learning_agreement" in error.message
    assert "cannot be used" in error.message


def test_user_task_outside_lanes_goes_to_the_initiator_with_a_warning() -> None:
    """spiff-arena: a task outside every named lane is the task of whoever started the instance."""
    bpmn = process(
        "p",
        [("in_lane", user_task("in_lane")), ("stray", user_task("stray"))],
        lanes={"Learner": ["p_start", "in_lane"]},
    )
    parsed = parse_bundle({"p.bpmn": bpmn}).processes[0]
    assert {t.bpmn_id: t.role for t in parsed.user_tasks} == {"in_lane": "learner", "stray": None}
    (warning,) = parsed.warnings
    assert (warning.file, warning.element_id) == ("p.bpmn", "stray")
    assert warning.message == "user task 'stray' is in no lane: it goes to the person who started the instance"


def test_user_task_in_unnamed_lane_goes_to_the_initiator_with_a_warning() -> None:
    bpmn = process("p", [("t", user_task("t"))], lanes={"": ["t"]})
    parsed = parse_bundle({"p.bpmn": bpmn}).processes[0]
    assert parsed.roles == {}
    (warning,) = parsed.warnings
    assert warning.element_id == "t"
    assert "has no name: it goes to the person who started the instance" in warning.message


def test_process_without_lanes_is_allowed_and_tasks_have_no_role() -> None:
    parsed = parse_bundle({"p.bpmn": process("p", [("t", user_task("t", name="Do it"))])}).processes[0]
    assert parsed.roles == {}
    assert [(t.bpmn_id, t.name, t.lane, t.role, t.form) for t in parsed.user_tasks] == [
        ("t", "Do it", None, None, None)
    ]


def test_lanes_giving_the_same_role_key_or_bad_role_key_are_refused() -> None:
    clash = process("p", [("t", user_task("t")), ("u", user_task("u"))],
                    lanes={"Hosting organisation": ["t"], "Hosting": ["u"]})
    (error,) = errors_of({"p.bpmn": clash})
    assert "both give role key 'hosting'" in error.message
    assert error.element_id == "p_lane1"

    bad = process("q", [("t", user_task("t"))], lanes={"Learner": ["t"]},
                  lane_props={"Learner": "Not A Slug"})
    (error,) = errors_of({"q.bpmn": bad})
    assert "roleKey 'Not A Slug'" in error.message
    assert error.element_id == "q_lane0"


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

    # the same subprocess outside every lane: its task is the initiator's
    outside = parse_bundle({"p.bpmn": process("p", nodes, lanes={"Learner": ["each", "phone"]}),
                            "f.json": FORM}).processes[0]
    assert {t.bpmn_id: t.role for t in outside.user_tasks}["inner"] is None
    assert [w.element_id for w in outside.warnings] == ["inner"]


def test_concurrent_validations_do_not_interfere() -> None:
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
    assert len(set(results[1::2])) == 1
    assert len(results[1]) == 64
    assert all("bpmn:nope" in r for r in results[0::2])
