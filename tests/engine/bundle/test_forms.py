"""engine/bundle/forms.py: forms from the bundle or the forms directory, each a JSON Schema."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.bundle import parse_bundle
from engine.bundle.context import BundleContext
from engine.bundle.forms import check_form_schema, from_forms_dir, load_json
from tests.support.bundles import FORM, FORMS, SAMPLE, errors_of, only, process, sample_files, user_task


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
            assert prop["title"]
            assert prop["description"]


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


@pytest.mark.parametrize(("document", "ui", "problem"), [
    ([], False, "a form schema must be a JSON object"),
    ("x", True, "a UI schema must be a JSON object"),
    ({"$schema": "https://example.org/no-such-draft"}, False, "unknown $schema"),
    ({"type": "object", "properties": {"x": {"type": 5}}}, False, "not a valid JSON Schema at properties/x/type"),
])
def test_a_form_that_no_renderer_accepts_is_refused(document: object, ui: bool, problem: str) -> None:
    error = check_form_schema(document, "f.json", ui=ui)
    assert error is not None
    assert error.file == "f.json"
    assert problem in error.message


def test_a_ui_schema_is_any_json_object_and_a_form_any_valid_schema() -> None:
    assert check_form_schema({"ui:order": 5}, "f-uischema.json", ui=True) is None
    assert check_form_schema({"type": "object"}, "f.json", ui=False) is None
    assert load_json(b"{no", "f.json")[1] is not None
    assert load_json(b'{"a": 1}', "f.json") == ({"a": 1}, None)


def test_a_form_in_the_forms_directory_is_read_once_and_stays_in_it(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text('{"type": "object"}')
    (tmp_path / "bad.json").write_text("[1]")
    ctx = BundleContext({}, tmp_path, {}, max_file_bytes=1000, max_bundle_bytes=1000)
    assert from_forms_dir(ctx, "good.json", ui=False) == (b'{"type": "object"}', True)
    assert from_forms_dir(ctx, "bad.json", ui=False) == (None, True)
    assert from_forms_dir(ctx, "bad.json", ui=False) == (None, True)
    assert [e.message for e in ctx.errors] == ["a form schema must be a JSON object (in the forms directory)"]
    assert from_forms_dir(ctx, "../forms/good.json", ui=False) == (None, False)  # never outside the directory
    assert from_forms_dir(ctx, "missing.json", ui=False) == (None, False)


def test_a_dynamic_enum_of_spiff_arena_is_a_valid_form() -> None:
    form = {"type": "object", "properties": {"colour": {"type": "string",
                                                        "anyOf": ["options_from_task_data_var:colours"]}}}
    assert check_form_schema(form, "colour.json", ui=False) is None
    broken = {"type": "object", "properties": {"colour": {"anyOf": ["something else"]}}}
    assert check_form_schema(broken, "colour.json", ui=False) is not None
