"""engine/bundle/context.py: one run's state, where every error is recorded once, where it happened."""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.bundle.context import BundleContext, ve_message
from engine.bundle.xml import Doc, safe_parse_xml
from tests.support.bundles import process, user_task


def context(files: dict[str, bytes] | None = None, library: dict[str, bytes] | None = None) -> BundleContext:
    return BundleContext(files or {}, None, library or {}, max_file_bytes=1_000_000, max_bundle_bytes=2_000_000)


def test_an_error_is_recorded_once_with_the_line_of_its_element() -> None:
    xml = process("p", [("t", user_task("t"))]).replace(b"><bpmn:userTask", b">\n<bpmn:userTask")
    ctx = context({"p.bpmn": xml})
    ctx.docs["p.bpmn"] = Doc("p.bpmn", "bpmn", xml, root=safe_parse_xml(xml, "p.bpmn"))
    ctx.error("p.bpmn", "t", "no form for {http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    ctx.error("p.bpmn", "t", "no form for {http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    line = next(n for n, text in enumerate(xml.decode().splitlines(), 1) if text.startswith("<bpmn:userTask"))
    assert [(e.file, e.element_id, e.line, e.message) for e in ctx.errors] == \
        [("p.bpmn", "t", line, "no form for bpmn:userTask")]  # namespaces as modellers write them


def test_a_validation_error_is_located_where_spiffworkflow_says() -> None:
    ctx = context()
    problem = ValidationException("broken", file_name="q.bpmn", node=None)
    problem.add_note("check the gateway")
    ctx.error_from_ve(problem, "fallback.bpmn")
    assert ctx.errors[0].file == "q.bpmn"
    assert ctx.errors[0].message == "broken. check the gateway"
    assert ve_message(ValidationException("plain")) == "plain"


def test_an_element_a_check_explained_already_is_not_reported_twice() -> None:
    ctx = context()
    ctx.prechecked.add(("p.bpmn", "rule"))
    vague = ValidationException("Unknown decision", file_name="p.bpmn")
    vague.id = "rule"
    ctx.report_spec_error(vague, "p.bpmn")
    assert ctx.errors == []
    vague.id = "other"
    ctx.report_spec_error(vague, "p.bpmn")
    assert [e.element_id for e in ctx.errors] == ["other"]


def test_a_spec_that_cannot_be_built_is_asked_for_once() -> None:
    xml = process("caller", [("c", '<bpmn:callActivity id="c" calledElement="nobody"/>')])
    ctx = context({"caller.bpmn": xml})
    ctx.parser.add_bpmn_xml(safe_parse_xml(xml, "caller.bpmn"), filename="caller.bpmn")
    first = ctx.get_spec("caller")
    assert first[0] is not None
    assert first[1] is None
    assert ctx.get_spec("caller") is first  # cached: Spiff hands out half-built specs after a failure
    spec, problem = ctx.get_spec("not_defined")
    assert spec is None
    assert isinstance(problem, ValidationException)
    assert ctx.file_of("caller") == "caller.bpmn"
    assert ctx.owner("caller") == "caller"


def test_file_bytes_come_from_the_bundle_before_the_library() -> None:
    ctx = context({"a.bpmn": b"bundle"}, {"a.bpmn": b"library", "b.bpmn": b"library b"})
    ctx.docs["a.bpmn"] = Doc("a.bpmn", "bpmn", b"bundle")
    ctx.lib_docs["a.bpmn"] = Doc("a.bpmn", "bpmn", b"library", library=True)
    ctx.lib_docs["b.bpmn"] = Doc("b.bpmn", "bpmn", b"library b", library=True)
    assert ctx.file_bytes("a.bpmn") == b"bundle"
    assert ctx.file_bytes("b.bpmn") == b"library b"
    assert ctx.file_bytes("c.bpmn") is None
    assert ctx.file_bytes(None) is None
    assert not ctx.is_library_file("a.bpmn")
    assert ctx.is_library_file("b.bpmn")
