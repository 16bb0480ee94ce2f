"""engine/forms.py: a task's form validated on the server, errors per field, values only of its own fields."""
from __future__ import annotations

import json

import pytest

from engine import forms
from engine.errors import Invalid

SCHEMA = json.dumps({
    "type": "object",
    "required": ["weeks", "signer"],
    "additionalProperties": False,
    "properties": {
        "weeks": {"type": "integer", "minimum": 1},
        "start": {"type": "string", "format": "date"},
        "signer": {"type": "object", "properties": {"place": {"type": "string"}}},
        "units": {"type": "array", "items": {"type": "object", "required": ["points"],
                                             "properties": {"points": {"type": "integer"}}}},
    },
})


def test_errors_come_per_field_with_required_and_unknown_fields_named() -> None:
    errors = forms.field_errors(SCHEMA, {"weeks": 0, "start": "31.02.2027", "units": [{}], "extra": 1})
    assert errors == {
        "signer": ["This field is required"],
        "extra": ["This field is not part of the form"],
        "weeks": ["Enter 1 or more"],
        "start": ["Enter a date as year-month-day, such as 2027-03-01"],
        "units.0.points": ["This field is required"],
    }


def test_validate_refuses_with_the_errors_and_accepts_a_valid_form() -> None:
    with pytest.raises(Invalid) as refused:
        forms.validate(SCHEMA, {"weeks": 2})
    assert refused.value.errors == {"signer": ["This field is required"]}
    forms.validate(SCHEMA, {"weeks": 2, "signer": {"place": "Köln"}})
    forms.validate(None, {"anything": True})  # a task without a form takes any object
    with pytest.raises(Invalid, match="must be a JSON object"):
        forms.validate(None, ["not", "an", "object"])


def test_prefill_shows_only_the_forms_own_fields() -> None:
    data = {"weeks": 4, "secret_of_another_party": "grade A", "signer": {"place": "Köln"}}
    assert forms.prefill(SCHEMA, data) == {"weeks": 4, "signer": {"place": "Köln"}}
    assert forms.prefill(None, data) == {}


def test_fit_cuts_server_values_to_the_declared_properties() -> None:
    values = {"signer": {"place": "Köln", "user_id": 7}, "weeks": 3, "other": 1}
    assert forms.fit(SCHEMA, values) == {"signer": {"place": "Köln"}, "weeks": 3}
    assert forms.parse_schema(SCHEMA)["required"] == ["weeks", "signer"]


COLOURS = json.dumps({
    "definitions": {"Colour": {"type": "string", "anyOf": ["options_from_task_data_var:colour_options"]}},
    "type": "object",
    "required": ["colour"],
    "properties": {"colour": {"$ref": "#/definitions/Colour", "title": "Colour"}},
})


def test_dynamic_enums_take_their_choices_from_task_data() -> None:
    """spiff-arena's ``options_from_task_data_var:``: the choices a script left in the task data."""
    data = {"colour_options": [{"value": "blue", "label": "Blue"}, {"value": "green", "label": "Green"}]}
    shown = forms.with_task_data(COLOURS, data)
    assert json.loads(shown)["definitions"]["Colour"]["anyOf"] == [
        {"const": "blue", "title": "Blue"}, {"const": "green", "title": "Green"}]
    assert forms.field_errors(shown, {"colour": "green"}) == {}
    assert forms.field_errors(shown, {"colour": "red"}) != {}
    plain = json.loads(forms.with_task_data(COLOURS, {"colour_options": ["red"]}))
    assert plain["definitions"]["Colour"]["anyOf"] == [{"const": "red", "title": "red"}]


def test_a_dynamic_enum_without_its_variable_allows_no_choice() -> None:
    shown = forms.with_task_data(COLOURS, {})
    assert forms.field_errors(shown, {"colour": "blue"}) != {}
    assert forms.with_task_data(SCHEMA, {}) is SCHEMA  # nothing to fill: the deployed text itself


NAMES = json.dumps({
    "type": "object",
    "properties": {"assessor": {"type": "string", "x-suggestions": ["options_from_task_data_var:assessors"]}},
})


def test_suggestions_come_from_task_data_and_bind_nothing() -> None:
    """``x-suggestions`` offers values while typing; any text is still accepted, and none is offered when
    the variable is missing."""
    shown = forms.with_task_data(NAMES, {"assessors": [{"value": "Javier Ruiz", "label": "Javier Ruiz"}]})
    assert json.loads(shown)["properties"]["assessor"]["x-suggestions"] == [
        {"const": "Javier Ruiz", "title": "Javier Ruiz"}]
    assert forms.field_errors(shown, {"assessor": "Someone else"}) == {}
    missing = forms.with_task_data(NAMES, {})
    assert json.loads(missing)["properties"]["assessor"]["x-suggestions"] == []
    assert forms.field_errors(missing, {"assessor": "Someone else"}) == {}


def test_schema_problems_list_every_metaschema_error_with_its_path() -> None:
    schema, problems = forms.schema_problems('{"type": "object", "properties": {"a": {"type": "text"}, '
                                             '"b": {"minLength": -1}}}')
    assert schema is not None
    assert [where for where, _ in problems] == ["properties/a/type", "properties/b/minLength"]
    assert forms.schema_problems(SCHEMA) == (json.loads(SCHEMA), [])
    assert forms.schema_problems("[]")[1] == [("(root)", "a form schema must be a JSON object")]
    assert forms.schema_problems('{"a": ')[1][0][0] == "line 1, column 7"
    dynamic = forms.schema_problems(COLOURS)
    assert dynamic[1] == []  # a dynamic enum is a choice list, filled when shown


def test_a_ui_schema_orders_fields_and_sets_widgets_help_and_read_only() -> None:
    schema = json.loads(SCHEMA)
    ui = {"ui:order": ["units", "weeks"], "weeks": {"ui:help": "Whole weeks", "ui:widget": "radio"},
          "start": {"ui:widget": "hidden"}, "signer": {"place": {"ui:readonly": True}}}
    shaped = forms.with_ui(schema, ui)
    assert shaped is not None
    assert list(shaped["properties"]) == ["units", "weeks", "start", "signer"]
    assert shaped["properties"]["weeks"] == {"type": "integer", "minimum": 1, "x-widget": "radios",
                                             "description": "Whole weeks"}
    assert shaped["properties"]["start"]["x-widget"] == "hidden"
    assert shaped["properties"]["signer"]["properties"]["place"]["readOnly"] is True
    assert forms.with_ui(schema, None) is schema


@pytest.mark.parametrize(("schema", "value", "expected"), [
    ({"type": "string", "format": "email"}, "not-an-email", "Enter an e-mail address, such as name@example.org"),
    ({"type": "integer"}, "three", "Enter a whole number"),
    ({"type": ["number", "null"]}, "x", "Enter a number"),
    ({"enum": ["sign", "request_changes"]}, "maybe", "Choose one of the options"),
    ({"const": True}, False, "Tick this box to go on"),
    ({"type": "string", "maxLength": 3}, "four", "Enter at most 3 characters"),
    ({"type": "array", "minItems": 1}, [], "Add at least 1 entry"),
    ({"type": "string", "pattern": "^[0-9a-f]{64}$"}, "zz", "Enter it in the form the field's help describes"),
])
def test_errors_are_sentences_never_python_values(schema: dict[str, object], value: object, expected: str) -> None:
    form = json.dumps({"type": "object", "properties": {"x": schema}})
    assert forms.field_errors(form, {"x": value}) == {"x": [expected]}
