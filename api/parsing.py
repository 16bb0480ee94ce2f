"""The one layer that reads request input: path ids, query strings, JSON and form bodies.

Every API route's input passes here before a route sees it, so a route never meets input the
database or the workflow engine cannot hold:

* **Path parameters**: ``<id:name>`` accepts 1..2^31-1 only (the range of an ``INTEGER`` column on
  PostgreSQL, the smallest of our backends), anything else is 404; string and path parameters with a
  NUL character are 404 as well (PostgreSQL text cannot hold NUL).
* **Bodies and query strings**: :class:`Blueprint` (use it instead of flask-smorest's) authenticates
  a protected operation before its body is read (401 first), refuses a body of the wrong media type
  (415), parses JSON once and strictly (at most ``ECVET_JSON_MAX_BYTES``, 413; malformed, NaN or
  Infinity, 400; deeper than :data:`MAX_DEPTH`, a string with NUL or a lone surrogate, a number no
  JSON peer can represent, 422 naming the field), and refuses NUL in query parameters, form fields
  and file names (422).
* **Ids in bodies and query strings**: the :class:`Id` marshmallow field, with the same range as the
  path converter (422 per field otherwise).
* **Pages**: form fields and query strings of the HTML pages get the same text checks (422 page).
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
import marshmallow as ma
from flask import Flask, current_app, g, request
from marshmallow import validate
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter, PathConverter, UnicodeConverter, ValidationError

from engine.errors import EngineError, Invalid

from . import deps

#: Largest id (and version number) anywhere in a URL or body: PostgreSQL's INTEGER, our smallest column.
MAX_ID = 2**31 - 1
#: Deepest nesting of arrays and objects a JSON body may have (forms nest a few levels at most).
MAX_DEPTH = 64
#: Integers beyond this are refused: I-JSON (RFC 7493) says peers cannot be expected to represent them.
MAX_SAFE_INTEGER = 2**53 - 1

JSON_TYPES = ("application/json",)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")

F = TypeVar("F", bound=Callable[..., Any])

_SURROGATE = re.compile("[\ud800-\udfff]")


class Malformed(EngineError):  # noqa: N818 - named after the HTTP outcome, as engine.errors
    """The body is not what its media type says (not UTF-8, not JSON)."""

    status = 400
    title = "Bad request"


class UnsupportedMediaType(EngineError):  # noqa: N818 - named after the HTTP outcome
    status = 415
    title = "Unsupported media type"


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored (PostgreSQL refuses NUL; UTF-8 cannot encode a lone surrogate)."""
    if "\x00" in text:
        return "must not contain NUL characters (U+0000)"
    if not text.isascii() and _SURROGATE.search(text):
        return "must not contain unpaired surrogates (U+D800 to U+DFFF)"
    return None


def _shown(key: str) -> str:
    """A key as it can be echoed back in a problem document and a log line."""
    return json.dumps(key)[1:-1] if text_problem(key) else key


def _add(errors: dict[str, Any], path: tuple[Any, ...], message: str) -> None:
    """Nest `message` at `path` the way marshmallow nests per-field errors."""
    node: dict[Any, Any] = errors
    for part in path[:-1]:
        node = node.setdefault(part if isinstance(part, int) else _shown(part), {})
        if not isinstance(node, dict):  # pragma: no cover - a field cannot be both a leaf and a branch
            return
    last = path[-1] if path else "_body"
    node.setdefault(last if isinstance(last, int) else _shown(last), []).append(message)


def check_fields(values: Iterable[tuple[str, str]], where: str) -> None:
    """Refuse query parameters or form fields (name, value pairs) that hold text nobody can store."""
    errors: dict[str, Any] = {}
    for name, value in values:
        problem = text_problem(name) or text_problem(value)
        if problem:
            _add(errors, (name,), problem)
    if errors:
        raise Invalid(f"The {where} is not valid", errors=errors)


# --------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------


class _RefusedError(Exception):
    """Why a JSON text was refused: 400 (not JSON at all) or 422 (JSON the platform cannot hold)."""

    def __init__(self, status: int, detail: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _RefusedError(400, f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:  # the C decoder's own guard, far below any stack trouble
        raise _RefusedError(422, f"nested deeper than {MAX_DEPTH} levels") from exc
    except json.JSONDecodeError as exc:
        raise _RefusedError(400, f"{exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except ValueError as exc:  # NaN/Infinity, or an integer beyond Python's digit limit
        raise _RefusedError(400, str(exc)) from exc
    check_value(value)
    return value


def loads(raw: bytes) -> Any:
    """Parse a JSON request body strictly: UTF-8, RFC 8259 (no NaN/Infinity), bounded nesting, storable values.

    400 for what is not JSON at all, 422 (with the fields) for JSON the platform cannot hold."""
    try:
        return _parse(raw)
    except _RefusedError as refused:
        if refused.status == HTTPStatus.BAD_REQUEST:
            raise Malformed(f"The request body is not valid JSON: {refused.detail}") from refused
        raise Invalid(f"The request body is not valid: {refused.detail}", errors=refused.errors) from refused


def loads_field(text: str) -> Any:
    """JSON typed into a page's form field, with the same limits; ValueError saying why, for the field."""
    try:
        return _parse(text.encode("utf-8", "surrogatepass"))
    except _RefusedError as refused:
        details = [f"{path}: {message}" for path, message in _flatten(refused.errors or {})]
        raise ValueError("; ".join([refused.detail, *details])) from refused


def _flatten(errors: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.extend(_flatten(value, path))
        else:
            out.extend((path, message) for message in value)
    return out


def check_value(value: Any) -> None:
    """Walk a parsed JSON value (without recursion) and refuse what no column or peer can hold."""
    errors: dict[str, Any] = {}
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= MAX_DEPTH and isinstance(node, dict | list):
            raise _RefusedError(422, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                problem = text_problem(key)
                if problem:
                    _add(errors, (*path, key), f"name {problem}")
                stack.append((item, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(node))
        else:
            problem = _scalar_problem(node)
            if problem:
                _add(errors, path, problem)
    if errors:
        raise _RefusedError(422, "it holds values that cannot be stored", errors)


def _scalar_problem(node: Any) -> str | None:
    """Why a JSON scalar cannot be stored (a lone surrogate, an integer past 2**53, NaN), or None."""
    if isinstance(node, str):
        return text_problem(node)
    if isinstance(node, bool) or node is None:
        return None
    if isinstance(node, int) and abs(node) > MAX_SAFE_INTEGER:
        return f"must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}"
    if isinstance(node, float) and not math.isfinite(node):
        return "must be a finite number"
    return None


def is_json_request() -> bool:
    return request.mimetype in JSON_TYPES or (request.mimetype.startswith("application/")
                                              and request.mimetype.endswith("+json"))


def has_body() -> bool:
    """Whether the request carries a body (a length, or a chunked stream of unknown length)."""
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def json_body() -> Any:
    """The request's JSON body, parsed once per request; webargs' ``missing`` without one."""
    if "ecvet_json" not in g:
        g.ecvet_json = _read_json()
    return g.ecvet_json


def _read_json() -> Any:
    if not is_json_request() or not has_body():
        return core.missing
    request.max_content_length = deps.settings().json_max_bytes  # 413 past it, before anything is read
    raw = request.get_data(cache=True)
    return loads(raw) if raw else core.missing


# --------------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------------


class Id(ma.fields.Integer):
    """An id (or version number) in a body or query string: 1..2^31-1, whatever the backend; 422 otherwise.

    Digits in a string are accepted (query strings are text); 7.5 is not silently taken for 7."""

    def __init__(self, **kwargs: Any) -> None:
        validators = kwargs.pop("validate", None)
        extra = [validators] if callable(validators) else list(validators or [])
        super().__init__(validate=[validate.Range(min=1, max=MAX_ID), *extra], **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class PartyRef(ma.fields.Field):
    """A role's binding when starting a process: an organisation id, or {"organisation_id": n} / {"user_id": n}.

    The ids get the :class:`Id` range here, so the engine's binding code only ever sees storable ids."""

    default_error_messages = {
        "invalid": "Bind a role to an organisation id, {{\"organisation_id\": n}} or {{\"user_id\": n}}",
    }
    _ID = Id()

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:  # noqa: ARG002 - marshmallow's signature
        key, number = next(iter(value.items())) if isinstance(value, dict) and len(value) == 1 else (None, value)
        if key not in (None, "organisation_id", "user_id") or isinstance(number, bool) or not isinstance(number, int):
            raise self.make_error("invalid")
        number = self._ID.deserialize(number)
        return number if key is None else {key: number}


def _decimal_up_to(limit: int) -> str:
    """A regex for the decimal numbers 1..limit without leading zeros.

    The range is in the pattern itself, not only checked after the match: werkzeug answers 405 instead of
    404 when a segment matches one rule's pattern and the method is another rule's (GET and POST of the
    same path are two rules)."""
    digits = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}")
    return "(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class IdConverter(BaseConverter):
    """``<id:name>``: 1..2^31-1 in decimal; any other segment does not match (404)."""

    regex = _decimal_up_to(MAX_ID)
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class TextConverter(UnicodeConverter):
    """Flask's default string converter, but a segment with NUL does not match (404)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # NUL out of the pattern itself: werkzeug counts a method mismatch of a sibling rule (GET and
        # POST of /api/tasks/<id>/comments) before to_python refuses, which made that a 405, not a 404.
        self.regex = self.regex.replace("[^/]", "[^/\x00]")

    def to_python(self, value: str) -> str:
        if text_problem(value):
            raise ValidationError()
        return value


class TextPathConverter(PathConverter):
    """``<path:name>``, but a path with NUL does not match (404)."""

    def to_python(self, value: str) -> str:
        if text_problem(value):
            raise ValidationError()
        return value


CONVERTERS: dict[str, type[BaseConverter]] = {
    "default": TextConverter, "string": TextConverter, "path": TextPathConverter, "id": IdConverter,
}


def id_parameter_schema(_converter: BaseConverter) -> dict[str, Any]:
    """How ``<id:...>`` appears in the OpenAPI document."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


# --------------------------------------------------------------------------------------------------
# Blueprints of the API
# --------------------------------------------------------------------------------------------------


class StrictParser(FlaskParser):
    """webargs, reading JSON through :func:`json_body` instead of its own lenient ``json.loads``."""

    def load_json(self, req: Any, schema: ma.Schema) -> Any:  # noqa: ARG002 - webargs' signature
        return json_body()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint whose operations read input through this module.

    ``arguments`` remembers where each operation takes its input from, so a body of the wrong media
    type is refused (415) before anything parses it."""

    ARGUMENTS_PARSER = StrictParser()

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register an operation; unless it is :func:`public`, its 401 is in the OpenAPI document too."""
        register = super().route(rule, **options)

        def decorator(func: F) -> F:
            if not getattr(func, "ecvet_public", False):
                func = self.alt_response(401, response="UNAUTHORIZED",
                                         description="No bearer token, or one unknown, expired or revoked")(func)
            return register(func)  # type: ignore[no-any-return]

        return decorator

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable[[F], F]:
        decorate = super().arguments(schema, location=location, **kwargs)

        def decorator(func: F) -> F:
            view = decorate(func)
            view.ecvet_inputs = frozenset({*getattr(func, "ecvet_inputs", ()), location})  # type: ignore[attr-defined]
            return view  # type: ignore[no-any-return]

        return decorator


def public(func: F) -> F:
    """Mark an API operation as open to anyone (no bearer token), in the guard and in the OpenAPI document."""
    func.ecvet_public = True  # type: ignore[attr-defined]
    return Blueprint.doc(security=[])(func)  # type: ignore[no-any-return]


def _api_view() -> Any:
    """The view function when this request goes to an operation of an API :class:`Blueprint`."""
    if request.endpoint is None or not isinstance(current_app.blueprints.get(request.blueprint or ""), Blueprint):
        return None
    return current_app.view_functions.get(request.endpoint)


def _read_api_input(view: Any) -> None:
    if not getattr(view, "ecvet_public", False):
        deps.authenticate_before_input(read_body=has_body())
    check_fields(request.args.items(multi=True), "query string")
    if not has_body() or request.method not in BODY_METHODS:
        return
    inputs: frozenset[str] = getattr(view, "ecvet_inputs", frozenset())
    mimetype = request.mimetype
    wants_form = bool(inputs & {"files", "form"})
    if is_json_request():
        if wants_form and "json" not in inputs:
            raise UnsupportedMediaType("Send this body as multipart/form-data", errors={"content_type": [mimetype]})
        json_body()
    elif mimetype in FORM_TYPES and wants_form:
        _check_form()
    elif "json" in inputs:
        raise UnsupportedMediaType("Send the body as application/json",
                                   errors={"content_type": [mimetype or "(none)"]})
    elif wants_form:
        raise UnsupportedMediaType("Send the body as multipart/form-data",
                                   errors={"content_type": [mimetype or "(none)"]})


def _check_form() -> None:
    check_fields(request.form.items(multi=True), "form")
    check_fields(((name, upload.filename or "") for name, upload in request.files.items(multi=True)), "upload")


def _read_page_input() -> None:
    check_fields(request.args.items(multi=True), "query string")
    if request.method in BODY_METHODS and request.mimetype in FORM_TYPES:
        _check_form()


def init_app(app: Flask) -> None:
    """Register the input checks; call after the other before-request hooks (logging times refusals too)."""
    app.teardown_request(deps.discard_pending)

    @app.before_request
    def _read_input() -> None:
        if request.method == "OPTIONS":  # Flask answers it with the allowed methods; nothing is read
            return
        view = _api_view()
        if view is not None:
            _read_api_input(view)
        elif request.endpoint is not None and not _is_machine_endpoint():
            _read_page_input()


def _is_machine_endpoint() -> bool:
    """flask-smorest's own document and docs, /metrics: no input to read."""
    return request.blueprint in ("api-docs", "metrics") or request.endpoint == "swagger_assets"


def install_converters(app: Flask) -> None:
    """Put the converters in place; before any blueprint registers its rules (they are compiled then)."""
    app.url_map.converters.update(CONVERTERS)


def multipart_fields(schema: ma.Schema, message: str) -> dict[str, Any]:
    """The non-file fields of a multipart body, loaded by `schema` (webargs reads the ``files`` location
    only); a refusal is a 422 with `message` and the fields' errors."""
    try:
        loaded: dict[str, Any] = schema.load({k: v for k, v in request.form.items() if k in schema.fields})
    except ma.ValidationError as exc:
        raise Invalid(message, errors=exc.messages) from exc
    return loaded
