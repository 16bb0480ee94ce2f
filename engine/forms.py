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
