"""JSON Schema forms of user tasks: loaded from the deployed version, enforced on the server."""
from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import validator_for

from .errors import Invalid

_FORMAT_CHECKER = FormatChecker()


@functools.lru_cache(maxsize=512)
def _validator(schema_text: str) -> Any:
    schema = json.loads(schema_text)
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=_FORMAT_CHECKER)


#: spiff-arena's dynamic enum: ``"anyOf": ["options_from_task_data_var:colours"]`` takes its choices from
#: the task data variable ``colours`` (``[{"value": ..., "label": ...}]`` or plain values) when shown.
#: ``"x-suggestions": ["options_from_task_data_var:names"]`` does the same for values offered while
#: typing, which bind nothing (validators ignore ``x-`` keywords): a variable missing suggests nothing.
OPTIONS_MARKER = "options_from_task_data_var:"
_CHOICE_KEYWORDS = ("anyOf", "oneOf")
SUGGESTIONS = "x-suggestions"


def _options_variable(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0][len(OPTIONS_MARKER):].strip() if value[0].startswith(OPTIONS_MARKER) else None
    return None


def _choices(options: Any) -> list[dict[str, Any]]:
    """JSON Schema choices from a task data list; no usable list allows nothing (the form says so)."""
    if not isinstance(options, list):
        return [{"not": {}}]
    choices: list[dict[str, Any]] = []
    for option in options:
        if isinstance(option, dict) and "value" in option:
            choices.append({"const": option["value"], "title": str(option.get("label", option["value"]))})
        elif isinstance(option, str | int | float | bool):
            choices.append({"const": option, "title": str(option)})
    return choices or [{"not": {}}]


def resolve_options(node: Any, lookup: Any) -> Any:
    """A copy of a schema with every dynamic enum replaced by ``lookup(variable name)``'s choices."""
    if isinstance(node, list):
        return [resolve_options(item, lookup) for item in node]
    if not isinstance(node, dict):
        return node
    resolved: dict[str, Any] = {}
    for key, value in node.items():
        variable = _options_variable(value) if key in (*_CHOICE_KEYWORDS, SUGGESTIONS) else None
        if variable is None:
            resolved[key] = resolve_options(value, lookup)
        elif key == SUGGESTIONS:
            resolved[key] = [choice for choice in lookup(variable) if "const" in choice]
        else:
            resolved[key] = lookup(variable)
    return resolved


def with_task_data(schema_text: str, task_data: dict[str, Any]) -> str:
    """The form as shown and enforced for one task: dynamic enums filled from its data."""
    if OPTIONS_MARKER not in schema_text:
        return schema_text
    schema = resolve_options(json.loads(schema_text), lambda name: _choices(task_data.get(name)))
    return json.dumps(schema)


_UI_WIDGETS = {"hidden": "hidden", "textarea": "textarea", "radio": "radios", "select": "select"}


def with_ui(schema: dict[str, Any] | None, ui: Any) -> dict[str, Any] | None:
    """The schema as a page renders it under a spiff-arena (react-jsonschema-form) UI schema:
    ``ui:order`` orders the fields, ``ui:widget`` (hidden, textarea, radio, select), ``ui:help`` and
    ``ui:readonly`` apply to each field, nested objects included. Validation never reads the UI schema."""
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        return schema
    shaped = dict(schema)
    widget = ui.get("ui:widget")
    if isinstance(widget, str) and widget in _UI_WIDGETS:
        shaped["x-widget"] = _UI_WIDGETS[widget]
    if isinstance(ui.get("ui:help"), str) and "description" not in shaped:
        shaped["description"] = ui["ui:help"]
    if ui.get("ui:readonly") is True:
        shaped["readOnly"] = True
    properties = schema.get("properties")
    if isinstance(properties, dict):
        order = [name for name in ui.get("ui:order") or [] if name in properties]
        names = order + [name for name in properties if name not in order]
        shaped["properties"] = {name: with_ui(properties[name], ui.get(name)) for name in names}
    return shaped


def parse_schema(schema_text: str) -> dict[str, Any]:
    """A deployed form's JSON Schema as a dict (deploy checked that it is one)."""
    schema: dict[str, Any] = json.loads(schema_text)
    return schema


def field_errors(schema_text: str, data: Any) -> dict[str, list[str]]:
    """Errors keyed by field path ('weeks', 'units.0.points'); '_' for errors about the whole form."""
    errors: dict[str, list[str]] = {}
    for error in sorted(_validator(schema_text).iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required" and isinstance(error.validator_value, list):
            missing = [name for name in error.validator_value if isinstance(error.instance, dict)
                       and name not in error.instance]
            for name in missing:
                messages = errors.setdefault(".".join([*path, name]), [])
                if "This field is required" not in messages:
                    messages.append("This field is required")
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set((error.schema or {}).get("properties", {}))
            for name in (name for name in error.instance if name not in allowed):
                messages = errors.setdefault(".".join([*path, name]), [])
                if "This field is not part of the form" not in messages:
                    messages.append("This field is not part of the form")
            continue
        errors.setdefault(".".join(path) or "_", []).append(sentence(error))
    return errors


_FORMATS = {
    "email": "Enter an e-mail address, such as name@example.org",
    "date": "Enter a date as year-month-day, such as 2027-03-01",
    "date-time": "Enter a date and time, such as 2027-03-01T09:00:00Z",
    "uri": "Enter a web address starting with https://",
    "uri-reference": "Enter a web address",
}
_TYPES = {
    "integer": "Enter a whole number", "number": "Enter a number", "string": "Enter text",
    "boolean": "Choose yes or no", "array": "Enter a list", "object": "Fill in the group of fields",
}


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _limits(validator: str, value: Any) -> str | None:
    """Sentences for the bounds of numbers, texts and lists."""
    plural = "" if value == 1 else "s"
    return {
        "minimum": f"Enter {_number(value)} or more",
        "maximum": f"Enter {_number(value)} or less",
        "exclusiveMinimum": f"Enter more than {_number(value)}",
        "exclusiveMaximum": f"Enter less than {_number(value)}",
        "minLength": "This field is required" if value == 1 else f"Enter at least {value} characters",
        "maxLength": f"Enter at most {value} character{plural}",
        "minItems": f"Add at least {value} entr{'y' if value == 1 else 'ies'}",
        "maxItems": f"Keep at most {value} entr{'y' if value == 1 else 'ies'}",
    }.get(validator)


_FIXED = {
    "enum": "Choose one of the options",
    "oneOf": "Choose one of the options",
    "anyOf": "Choose one of the options",
    "pattern": "Enter it in the form the field's help describes",
    "uniqueItems": "Each entry must be different",
}


def _kind(value: Any) -> str:
    kinds = [value] if isinstance(value, str) else [k for k in value if k != "null"]
    return _TYPES.get(kinds[0], "Enter a value of the right kind") if kinds else "Leave this empty"


def sentence(error: Any) -> str:
    """A jsonschema error as a sentence a person reads: never `'x' is not a 'email'` or a Python value."""
    validator, value = error.validator, error.validator_value
    if validator == "format":
        said: str | None = _FORMATS.get(value, "Enter it in the form the field asks for")
    elif validator == "type":
        said = _kind(value)
    elif validator == "const":
        said = "Tick this box to go on" if value is True else "Choose the value the form asks for"
    else:
        said = _limits(validator, value) or _FIXED.get(validator)
    return said or "This value is not accepted here"


def validate(schema_text: str | None, data: Any) -> None:
    """Raise Invalid (422) with per-field errors; a task without a form still needs an object."""
    if not isinstance(data, dict):
        raise Invalid("Task data must be a JSON object", errors={"_": ["Expected an object"]})
    if schema_text is None:
        return
    errors = field_errors(schema_text, data)
    if errors:
        raise Invalid("The form has errors; nothing was saved", errors=errors)


def prefill(schema_text: str | None, task_data: dict[str, Any]) -> dict[str, Any]:
    """Current values for the form's own fields only, so a form never leaks unrelated process data."""
    if schema_text is None:
        return {}
    properties = parse_schema(schema_text).get("properties", {})
    return {name: task_data[name] for name in properties if name in task_data}


def fit(schema_text: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values` for the form's own fields only, objects cut to the properties their schema declares,
    so values the server supplies can be sent back as they are."""
    properties = parse_schema(schema_text).get("properties", {})

    def cut(value: Any, node: Any) -> Any:
        declared = node.get("properties") if isinstance(node, dict) else None
        if isinstance(value, dict) and isinstance(declared, dict):
            return {k: cut(v, declared[k]) for k, v in value.items() if k in declared}
        return value

    return {name: cut(value, properties[name]) for name, value in values.items() if name in properties}


def schema_problems(text: str) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """A form's JSON Schema as typed in an editor: (the schema, []) or (the schema or None, every problem
    as (where, message)): not JSON (with line and column), not an object, or not valid against its
    metaschema (each error with its path). A dynamic enum counts as a choice list (filled when shown)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        where = f"line {line}, column {column}" if line else "(text)"
        return None, [(where, f"not valid JSON: {getattr(exc, 'msg', str(exc))}")]
    except RecursionError:
        return None, [("(text)", "nested too deeply")]
    if not isinstance(doc, dict):
        return None, [("(root)", "a form schema must be a JSON object")]
    if "$schema" in doc and validator_for(doc, default=None) is None:  # type: ignore[arg-type]
        return doc, [("$schema", f"unknown $schema {doc['$schema']!r}")]
    cls = validator_for(doc, default=Draft202012Validator)
    checked = resolve_options(doc, lambda _name: [{"const": "option"}])
    problems = [("/".join(str(part) for part in error.absolute_path) or "(root)", error.message)
                for error in cls(cls.META_SCHEMA).iter_errors(checked)]
    return doc, sorted(problems)
