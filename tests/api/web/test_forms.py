"""Forms generated from JSON Schema: which widget each schema gets, and posted fields parsed back into data."""
from __future__ import annotations

import json
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from werkzeug.datastructures import MultiDict

from api.web import forms, messages

SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Assessment",
    "required": ["result", "units"],
    "$defs": {"unit": {"type": "object", "title": "Unit", "required": ["code"],
                       "properties": {"code": {"type": "string", "title": "Unit code"},
                                      "points": {"type": "number", "minimum": 0}}}},
    "properties": {
        "result": {"type": "string", "enum": ["achieved", "not_achieved"], "title": "Result"},
        "grade": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
        "level": {"type": "integer", "oneOf": [{"const": 1, "title": "Basic"}, {"const": 2, "title": "Good"}]},
        "assessed_on": {"type": "string", "format": "date"},
        "signed_at": {"type": "string", "format": "date-time"},
        "email": {"type": "string", "format": "email"},
        "comment": {"type": "string", "maxLength": 2000, "description": "Visible to the learner"},
        "short": {"type": "string", "x-widget": "textarea"},
        "weeks": {"type": "integer", "minimum": 1, "maximum": 52},
        "agreed": {"type": "boolean"},
        "assessor": {"type": "object", "properties": {"name": {"type": "string"}, "role": {"type": "string"}}},
        "units": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/unit"}},
        "methods": {"type": "array", "items": {"type": "string", "enum": ["observation", "interview"]}},
        "outcomes": {"type": "array", "items": {"type": "string"}},
        "evidence": {"type": "integer", "format": "attachment-id"},
        "la_hash": {"type": "string", "readOnly": True},
        "party": {"type": "string", "x-widget": "hidden", "default": "learner"},
        "extra": {"oneOf": [{"type": "object"}, {"type": "string"}]},
    },
}


def widgets(form: forms.Form) -> dict[str, str]:
    return {f.path: f.widget for f in form.fields}


def test_each_schema_gets_its_widget() -> None:
    form = forms.build(SCHEMA)
    assert widgets(form) == {
        "result": "radios", "grade": "select", "level": "radios", "assessed_on": "date", "signed_at": "datetime",
        "email": "email", "comment": "textarea", "short": "textarea", "weeks": "number", "agreed": "checkbox",
        "assessor": "fieldset", "units": "group-list", "methods": "checkboxes", "outcomes": "list",
        "evidence": "file", "la_hash": "readonly", "party": "hidden", "extra": "json",
    }
    assert form.title == "Assessment"
    assert form.has_files
    by_path = {f.path: f for f in form.fields}
    assert by_path["result"].required
    assert not by_path["grade"].required
    assert by_path["result"].choices == [("achieved", "Achieved"), ("not_achieved", "Not achieved")]
    assert by_path["level"].choices == [("1", "Basic"), ("2", "Good")]
    assert by_path["weeks"].attrs == {"min": 1, "max": 52, "step": "1"}
    assert by_path["comment"].help == "Visible to the learner"
    assert by_path["comment"].attrs == {"maxlength": 2000}
    assert by_path["party"].value == "learner"  # the schema's default
    # minItems 1: one empty unit group is shown from the start, its fields from the $ref.
    (unit,) = by_path["units"].children
    assert unit.path == "units.0"
    assert [c.path for c in unit.children] == ["units.0.code", "units.0.points"]
    assert not unit.can_remove
    assert by_path["units"].can_add


def test_values_and_errors_land_on_their_fields_and_the_rest_at_the_top() -> None:
    values = {"weeks": 6, "units": [{"code": "U1"}, {"code": "U2", "points": 4}], "assessor": {"name": "Ana"},
              "signed_at": "2027-03-01T08:30:00+01:00"}
    errors = {"units.1.points": ["4 is too small"], "_": ["Sign first"], "other": ["Unknown field"]}
    form = forms.build(SCHEMA, values, errors)
    by_path = {f.path: f for f in form.fields}
    assert by_path["weeks"].text() == "6"
    assert by_path["signed_at"].text() == "2027-03-01T07:30"  # shown in UTC, as every time on the pages
    assert by_path["assessor"].children[0].value == "Ana"
    units = by_path["units"].children
    assert len(units) == 2
    assert all(u.can_remove for u in units)
    assert units[1].children[1].errors == ["4 is too small"]
    assert form.form_errors == ["Sign first", "other: Unknown field"]
    assert form.all_errors() == [("f-units-1-points", "Points", "4 is too small")]
    assert form.error_count == 3


def test_posted_fields_become_typed_data_and_empty_inputs_are_left_out() -> None:
    posted = MultiDict([
        ("result", "achieved"), ("grade", ""), ("level", "2"), ("assessed_on", "2027-04-01"),
        ("signed_at", "2027-04-01T10:15"), ("email", " mentor@hotel.example "), ("comment", "Line 1\r\nLine 2"),
        ("weeks", "6"), ("agreed", "true"), ("assessor.name", "Ana"), ("assessor.role", ""),
        ("units.__count", "2"), ("units.0.code", "U1"), ("units.0.points", "12"), ("units.1.code", "U2"),
        ("units.1.points", "2.5"), ("methods.__count", "0"), ("methods", "interview"),
        ("outcomes.__count", "3"), ("outcomes.0", "Prepares starters"), ("outcomes.1", ""), ("outcomes.2", "Plates"),
        ("evidence.__current", "7"), ("la_hash", "abc123"), ("party", "learner"), ("extra", '{"a": 1}'),
        ("not_in_schema", "sneaky"), ("csrf_token", "t"), ("_action", "complete"),
    ])
    submission = forms.parse(SCHEMA, posted)
    assert submission.errors == {}
    assert submission.action is None
    assert submission.data == {
        "result": "achieved", "level": 2, "assessed_on": "2027-04-01", "signed_at": "2027-04-01T10:15:00Z",
        "email": "mentor@hotel.example", "comment": "Line 1\nLine 2", "weeks": 6, "agreed": True,
        "assessor": {"name": "Ana"}, "units": [{"code": "U1", "points": 12}, {"code": "U2", "points": 2.5}],
        "methods": ["interview"], "outcomes": ["Prepares starters", "Plates"], "evidence": 7, "la_hash": "abc123",
        "party": "learner", "extra": {"a": 1},
    }


def test_unreadable_input_is_kept_to_show_again_with_an_error() -> None:
    posted = MultiDict([("weeks", "six"), ("level", "9"), ("units.__count", "1"), ("units.0.points", "1,5"),
                        ("signed_at", "tomorrow"), ("extra", "{not json"), ("agreed", "")])
    submission = forms.parse(SCHEMA, posted)
    assert submission.errors == {
        "weeks": ["Enter a whole number"], "level": ["Choose one of the options"],
        "units.0.points": ["Enter a number"], "signed_at": ["Enter a date and time like 2027-03-01T09:00"],
        "extra": ["Enter valid JSON"],
    }
    assert submission.raw["weeks"] == "six"
    assert submission.raw["units.0.points"] == "1,5"
    assert submission.data == {"agreed": False, "units": [{}]}
    form = forms.build(SCHEMA, submission.data, submission.errors, submission.raw)
    weeks = next(f for f in form.fields if f.path == "weeks")
    assert weeks.text() == "six"
    assert weeks.errors == ["Enter a whole number"]


def test_add_and_remove_work_without_javascript() -> None:
    posted = MultiDict([("units.__count", "1"), ("units.0.code", "U1"), ("_action", "add:units")])
    submission = forms.parse(SCHEMA, posted)
    assert submission.action == ("add", "units")
    data = forms.apply_action(SCHEMA, submission.data, submission.action)
    assert data["units"] == [{"code": "U1"}, {}]
    form = forms.build(SCHEMA, data)
    assert len(next(f for f in form.fields if f.path == "units").children) == 2

    posted = MultiDict([("units.__count", "2"), ("units.0.code", "U1"), ("units.1.code", "U2"),
                        ("_action", "remove:units.0")])
    submission = forms.parse(SCHEMA, posted)
    assert forms.apply_action(SCHEMA, submission.data, submission.action or ("", "")) == {
        "agreed": False, "units": [{"code": "U2"}]}

    # A simple list gains an empty line; a path the schema does not have changes nothing.
    posted = MultiDict([("outcomes.__count", "1"), ("outcomes.0", "Plates"), ("_action", "add:outcomes")])
    submission = forms.parse(SCHEMA, posted)
    assert forms.apply_action(SCHEMA, submission.data, ("add", "outcomes"))["outcomes"] == ["Plates", None]
    assert forms.apply_action(SCHEMA, {"a": 1}, ("add", "nothing.here")) == {"a": 1}

    # Where the keyboard goes next: the new group, or the list an item left.
    assert forms.focus_after({"units": [{}, {}]}, ("add", "units")) == "f-units-1"
    assert forms.focus_after({"units": [{}]}, ("remove", "units.1")) == "f-units"


def test_only_declared_attachment_inputs_take_uploads() -> None:
    assert forms.is_attachment_field(SCHEMA, "evidence")
    assert not forms.is_attachment_field(SCHEMA, "weeks")
    assert not forms.is_attachment_field(SCHEMA, "units.0.code")
    assert not forms.is_attachment_field(SCHEMA, "not_in_schema")


# --------------------------------------------------------------------------------------------------
# The rendered form, submitted as a browser would, gives back the data it was filled with
# --------------------------------------------------------------------------------------------------

ROOT_DIR = Path(__file__).resolve().parents[3]


class Submitter(HTMLParser):
    """Collects what a browser sends for a form: inputs, checked boxes, selected options, text areas."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.ids: list[str] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "input" and "name" in a and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.pairs.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.pairs.append((self._textarea, unescape("".join(self._text)).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def render(form: forms.Form) -> str:
    env = Environment(loader=FileSystemLoader(ROOT_DIR / "api" / "templates"), autoescape=True)
    messages.install(env)  # as api.web.init_app does
    template = env.from_string('{% import "macros/form.html" as fm %}{% for f in form.fields %}{{ fm.field(f) }}'
                               '{% endfor %}')
    return template.render(form=form)


def submitted(html: str) -> tuple[MultiDict[str, str], list[str]]:
    parser = Submitter()
    parser.feed(html)
    return MultiDict(parser.pairs), parser.ids


def test_a_filled_form_round_trips_through_its_html() -> None:
    values = {
        "result": "not_achieved", "grade": "B", "level": 2, "assessed_on": "2027-04-01",
        "signed_at": "2027-04-01T10:15:00Z", "email": "mentor@hotel.example", "comment": "<b>Line 1</b>\nLine 2",
        "short": "Short & sweet", "weeks": 6, "agreed": True, "assessor": {"name": "Ana", "role": "Chef"},
        "units": [{"code": "U1", "points": 12}, {"code": "U2", "points": 2.5}], "methods": ["observation"],
        "outcomes": ["Prepares starters", "Plates"], "evidence": 7, "la_hash": "ab" * 32, "party": "learner",
        "extra": {"a": [1, 2]},
    }
    html = render(forms.build(SCHEMA, values))
    posted, ids = submitted(html)
    assert len(ids) == len(set(ids))  # every id once: labels point at one input each
    posted.add("evidence.__current", "7")  # the file input's hidden companion is rendered only with a value
    assert forms.parse(SCHEMA, posted).data == values


def test_read_only_structures_are_shown_readably_and_sent_back_unchanged() -> None:
    schema = {"type": "object", "properties": {
        "la_units": {"type": "array", "readOnly": True, "items": {"type": "object"}},
        "la_version": {"type": "integer", "readOnly": True},
        "decision": {"type": "string", "enum": ["sign", "request_changes"]},
    }}
    values = {"la_units": [{"code": "U1", "title": "Cold dishes", "ecvet_points": 12}, {"code": "U2"}],
              "la_version": 2, "decision": "sign"}
    html = render(forms.build(schema, values))
    assert "<th scope=\"col\">ECVET points</th>" in html
    assert "<td data-label=\"Title\">Cold dishes</td>" in html
    assert 'value="request_changes">\n    Request changes\n' in html  # enum values read as words
    posted, _ = submitted(html)
    assert forms.parse(schema, posted).data == values


def test_every_shipped_form_renders_and_submits_empty_without_parse_errors() -> None:
    paths = sorted((ROOT_DIR / "forms").glob("*.json"))
    assert paths
    for path in paths:
        schema = json.loads(path.read_text())
        html = render(forms.build(schema))
        posted, ids = submitted(html)
        assert len(ids) == len(set(ids)), path.name
        assert forms.parse(schema, posted).errors == {}, path.name


def test_add_buttons_say_a_or_an_and_choices_read_their_schema_titles() -> None:
    schema = {"type": "object", "properties": {
        "assessors": {"type": "array", "title": "Assessors", "items": {
            "type": "object", "title": "Assessor", "properties": {"name": {"type": "string"}}}},
        "notes": {"type": "array", "items": {"type": "object", "properties": {"text": {"type": "string"}}}},
        "next": {"type": "string", "enum": ["assess", "change_la"],
                 "x-enumNames": ["Go on to the assessment", "Change the Learning Agreement"]},
    }}
    html = render(forms.build(schema, {}))
    assert ">Add an assessor</button>" in html
    assert ">Add an item</button>" in html
    assert "Change the Learning Agreement" in html
    assert "Change la" not in html


def test_suggestions_are_a_datalist_on_the_text_input() -> None:
    schema = {"type": "object", "properties": {"assessor": {
        "type": "string", "title": "Assessor",
        "x-suggestions": [{"const": "Javier Ruiz", "title": "Javier Ruiz"}, {"const": "Javier Ruiz"}]}}}
    form = forms.build(schema)
    assert form.fields[0].suggestions == ["Javier Ruiz"]
    html = render(form)
    assert 'list="f-assessor-suggestions"' in html
    assert '<datalist id="f-assessor-suggestions"><option value="Javier Ruiz"></option></datalist>' in html
    assert 'list=' not in render(forms.build({"type": "object", "properties": {"a": {"type": "string"}}}))
