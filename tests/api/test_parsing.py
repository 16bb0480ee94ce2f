"""Bad input gets a 4xx problem document and changes nothing, on every operation the OpenAPI document lists.

Each attack measured before the input layer existed (api/parsing.py) is replayed here against every
operation it applies to, taken from the generated document, so a new route is covered the day it lands:
ids beyond the columns' range in paths, bodies and query strings; deeply nested JSON; lone surrogates
and NUL; bodies of the wrong media type; bodies sent without a token; values only the database refuses.
"""
from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, UnicodeConverter

from api.app import create_app
from api.parsing import MAX_DEPTH, MAX_ID, IdConverter, TextConverter, TextPathConverter
from engine.config import load_settings
from engine.db import Database
from engine.errors import Invalid
from engine.models import Organisation
from tests.api.conftest import TWO_LANE, World, assert_problem, deploy_files
from tests.api.edge_support import Operation, assert_no_traceback, operations, resolve, row_counts

OUT_OF_RANGE_IDS = ("0", "2147483648", "9223372036854775808", "99999999999999999999", "-1")


@pytest.fixture
def doc(world: World) -> dict[str, Any]:
    return world.client.get("/api/openapi.json").get_json()


@pytest.fixture
def lived(world: World) -> World:
    """The world with a process deployed and an instance running, so real ids exist."""

    assert deploy_files(world.admin, [TWO_LANE]).status_code == 201
    started = world.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "parties": {"sending": world.sending_org, "hosting": world.hosting_org}})
    assert started.status_code == 201, started.get_json()
    return world


def call(world: World, operation: Operation, url: str, *, token: bool = True, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {world.admin.token}"} if token else {}
    response = world.client.open(url, method=operation.method.upper(), headers=headers, **kw)
    assert response.status_code < 500, f"{operation} {url}: {response.status_code} {response.data[:300]!r}"
    assert_no_traceback(response)
    return response


# --------------------------------------------------------------------------------------------------
# ids in paths
# --------------------------------------------------------------------------------------------------


def test_every_integer_path_parameter_is_an_id_in_range(app: Flask) -> None:
    """No route may use Flask's unbounded int (a 500 on PostgreSQL past 2^31) or a NUL-accepting string."""
    checked = 0
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            assert not isinstance(converter, IntegerConverter), f"{rule.rule}: <int:{name}>, use <id:{name}>"
            if isinstance(converter, UnicodeConverter):
                assert isinstance(converter, TextConverter | TextPathConverter), f"{rule.rule}: {name}"
            checked += isinstance(converter, IdConverter)
    assert checked >= 30  # API and pages alike


def test_out_of_range_ids_in_any_path_are_404(lived: World, doc: dict[str, Any]) -> None:
    with_ids = [op for op in operations(doc)
                if any(s.get("type") == "integer" for s in op.path_parameters.values())]
    assert len([op for op in with_ids if op.method == "get"]) >= 13
    before = row_counts(lived.db)
    for operation in with_ids:
        for name, schema in operation.path_parameters.items():
            if schema.get("type") != "integer":
                continue
            assert schema["minimum"] == 1, f"{operation}: {schema}"
            assert schema["maximum"] == MAX_ID, f"{operation}: {schema}"
            for value in OUT_OF_RANGE_IDS:
                url = operation.url(**{name: value})
                body = assert_problem(call(lived, operation, url, json={}), 404)
                assert body["detail"]
            # the largest id in range reaches the route, which answers for itself (never a 500)
            call(lived, operation, operation.url(**{name: MAX_ID}), json={})
    assert row_counts(lived.db) == before


def test_nul_in_a_string_path_segment_is_404(lived: World, doc: dict[str, Any]) -> None:
    with_text = [op for op in operations(doc) if any(s.get("type") == "string" for s in op.path_parameters.values())]
    assert with_text
    for operation in with_text:
        for name, schema in operation.path_parameters.items():
            if schema.get("type") == "string":
                for value in ("%00", "a%00b"):
                    assert_problem(call(lived, operation, operation.url(**{name: value}), json={}), 404)


# --------------------------------------------------------------------------------------------------
# ids in bodies and query strings
# --------------------------------------------------------------------------------------------------


def _id_properties(doc: dict[str, Any], operation: Operation) -> list[str]:
    content = operation.spec.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return []
    schema = resolve(doc, content["schema"])
    out = []
    for name, raw in schema.get("properties", {}).items():
        prop = resolve(doc, raw)
        items = resolve(doc, prop.get("items", {}))
        if prop.get("maximum") == MAX_ID or items.get("maximum") == MAX_ID:
            out.append(name)
    return out


def test_out_of_range_ids_in_bodies_are_422_naming_the_field(lived: World, doc: dict[str, Any]) -> None:
    cases = [(op, name) for op in operations(doc) for name in _id_properties(doc, op)]
    named = {name for _, name in cases}
    assert {"mou_id", "user_id", "hosting_organisation_id", "organisation_id", "version"} <= named, named
    before = row_counts(lived.db)
    for operation, name in cases:
        prop = resolve(doc, resolve(doc, operation.spec["requestBody"]["content"]["application/json"]["schema"])
                       ["properties"][name])
        for value in (0, MAX_ID + 1, 2**63, 10**20, 7.5):
            sent = [value] if prop.get("type") == "array" else value
            response = call(lived, operation, operation.url(), json={name: sent})
            if response.status_code == 404:  # the operation's own path names nothing (e.g. a made-up task)
                continue
            body = assert_problem(response, 422)
            assert name in body["errors"], f"{operation} {name}={value}: {body}"
    assert row_counts(lived.db) == before


def test_out_of_range_ids_in_query_strings_are_422(lived: World, doc: dict[str, Any]) -> None:
    cases = [(op, name) for op in operations(doc) for name, schema in op.query_parameters().items()
             if schema.get("maximum") == MAX_ID]
    assert {"mou_id", "learner_id", "mobility_id", "version"} <= {name for _, name in cases}
    for operation, name in cases:
        for value in ("0", str(MAX_ID + 1), "99999999999999999999", "7.5"):
            url = operation.url() + f"?{name}={value}"
            response = call(lived, operation, url)
            if response.status_code == 404:
                continue
            body = assert_problem(response, 422)
            assert name in body["errors"], body
            assert body["detail"] == "The query string is not valid", body


def test_nul_in_any_query_parameter_is_422(lived: World, doc: dict[str, Any]) -> None:
    cases = [(op, name) for op in operations(doc) for name in op.query_parameters()]
    assert len(cases) >= 20
    for operation, name in cases:
        body = assert_problem(call(lived, operation, operation.url(), query_string={name: "a\x00b"}), 422)
        assert name in body["errors"], body


# --------------------------------------------------------------------------------------------------
# JSON bodies
# --------------------------------------------------------------------------------------------------


HOSTILE_BODIES = {
    "nested-50000": ("[" * 50_000 + "]" * 50_000, 422),
    "nested-object": ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), 422),
    "lone-surrogate": ('{"name": "\\ud800x", "reason": "\\udfff"}', 422),
    "nul": ('{"name": "a\\u0000b", "data": {"a\\u0000": 1}}', 422),
    "nan": ('{"version": NaN}', 400),
    "infinity": ('{"version": 1e400}', 422),
    "huge-integer": ('{"version": 123456789012345678901234567890}', 422),
    "too-many-digits": ('{"version": ' + "9" * 5000 + "}", 400),
    "malformed": ('{"name": ', 400),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_hostile_json_is_refused_on_every_json_operation(lived: World, doc: dict[str, Any], kind: str) -> None:
    raw, status = HOSTILE_BODIES[kind]
    json_operations = [op for op in operations(doc) if "application/json" in op.body_types]
    assert any(op.path == "/api/tokens" and op.public for op in json_operations)
    before = row_counts(lived.db)
    for operation in json_operations:
        response = call(lived, operation, operation.url(), data=raw, content_type="application/json")
        body = assert_problem(response, status)
        assert body["detail"], f"{operation}: {body}"
    assert row_counts(lived.db) == before


def test_refused_strings_are_named_in_the_errors(lived: World) -> None:
    response = lived.admin.post("/api/mobilities", data=json.dumps({
        "mou_id": 1, "learner": {"name": "Lu\ud800kas", "email": "a\x00@example.org"}, "units": [{"x": "\udc00"}],
    }), content_type="application/json")
    body = assert_problem(response, 422)
    assert body["errors"] == {
        "learner": {"name": ["must not contain unpaired surrogates (U+D800 to U+DFFF)"],
                    "email": ["must not contain NUL characters (U+0000)"]},
        "units": {"0": {"x": ["must not contain unpaired surrogates (U+D800 to U+DFFF)"]}},
    }
    tokens = lived.client.post("/api/tokens", data='{"email": "\\ud800", "password": "x"}',
                               content_type="application/json")
    assert assert_problem(tokens, 422)["errors"] == {"email": ["must not contain unpaired surrogates "
                                                               "(U+D800 to U+DFFF)"]}


def test_a_refused_organisation_name_stores_nothing(lived: World) -> None:
    """The attack of the report, on the write it broke: NUL in a name was a 500 on PostgreSQL."""
    before = lived.admin.get("/api/organisations").get_json()["items"]
    body = assert_problem(lived.admin.post("/api/organisations", json={"name": "a\x00b", "country": "DE"}), 422)
    assert body["errors"] == {"name": ["must not contain NUL characters (U+0000)"]}
    assert lived.admin.get("/api/organisations").get_json()["items"] == before


def test_a_body_of_the_wrong_media_type_is_415(lived: World, doc: dict[str, Any]) -> None:
    for operation in operations(doc):
        if "application/json" in operation.body_types:
            for content_type in ("text/plain", "application/x-www-form-urlencoded"):
                response = call(lived, operation, operation.url(), data="name=x", content_type=content_type)
                assert_problem(response, 415)
        elif "multipart/form-data" in operation.body_types:
            assert_problem(call(lived, operation, operation.url(), json={"files": []}), 415)


def test_a_json_body_beyond_the_limit_is_413(world: World, db: Database) -> None:
    small = create_app(load_settings(database_url=db.url, json_max_bytes=2000), database=db).test_client()
    token = {"Authorization": f"Bearer {world.admin.token}"}
    padded = json.dumps({"name": "x" * 3000, "country": "DE"})
    assert_problem(small.post("/api/organisations", data=padded, content_type="application/json", headers=token), 413)
    fits = small.post("/api/organisations", data=json.dumps({"name": "x" * 100, "country": "DE"}),
                      content_type="application/json", headers=token)
    assert fits.status_code == 201, fits.get_json()


# --------------------------------------------------------------------------------------------------
# authentication before input
# --------------------------------------------------------------------------------------------------


def test_protected_operations_answer_401_before_reading_any_input(lived: World, doc: dict[str, Any]) -> None:
    protected = [op for op in operations(doc) if not op.public and op.path.startswith("/api/")]
    assert len(protected) >= 50
    before = row_counts(lived.db)
    for operation in protected:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            # malformed JSON, an out-of-range query id, a NUL: a stranger learns none of it is wrong
            response = lived.client.open(operation.url() + "?limit=0&version=0&x=%00", method=operation.method.upper(),
                                         data=b'{"unterminated', content_type="application/json", headers=headers)
            body = assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), operation
            assert "Sign in" in body["detail"] or "token" in body["detail"], body
    assert row_counts(lived.db) == before


def test_uploads_without_a_token_are_401_not_422(lived: World) -> None:
    for url, field in (("/api/process-definitions", "files[]"), ("/api/attachments", "file")):
        response = lived.client.post(url, data={field: (io.BytesIO(b"%PDF-1.4 x"), "a.pdf")},
                                     content_type="multipart/form-data")
        assert_problem(response, 401)
        empty = lived.client.post(url, data={}, content_type="multipart/form-data")
        assert_problem(empty, 401)


def test_public_operations_need_no_token(lived: World, doc: dict[str, Any]) -> None:
    public = {str(op) for op in operations(doc) if op.public}
    assert public == {"GET /healthz", "POST /api/tokens", "GET /metrics",
                      "GET /api/organisations/{organisation_id}/keys",  # credential verifiers need no account
                      "GET /api/privacy-notice"}  # read before signing in
    assert lived.client.get("/healthz").status_code == 200
    assert lived.client.get("/api/privacy-notice").status_code == 200
    assert lived.client.get(f"/api/organisations/{lived.sending_org}/keys").status_code == 200
    assert lived.client.get("/metrics").status_code == 200
    assert lived.client.post("/api/tokens", json={"email": lived.admin.person.email,
                                                  "password": lived.admin.person.password}).status_code == 201


# --------------------------------------------------------------------------------------------------
# what only the database refuses
# --------------------------------------------------------------------------------------------------


def test_a_value_the_database_refuses_is_422_and_rolls_back(db: Database) -> None:
    """The net under the edge: an id hidden in free-form data (a form's attachment-id, a hand-made cursor)
    that the database cannot hold is a 422, and what the unit of work wrote before it is rolled back."""
    too_big = [2**63] if db.is_sqlite else [2**31, 2**53 - 1, 2**63]  # SQLite integers have 64 bits
    for value in too_big:
        with pytest.raises(Invalid) as refused:
            _write_then_read_id(db, value)
        assert refused.value.status == 422
        assert "range" in refused.value.message
    with db.transaction(write=False) as session:
        assert session.scalars(select(Organisation).where(Organisation.name == "Half done")).all() == []


def test_a_hand_made_cursor_beyond_the_range_is_not_a_500(lived: World) -> None:
    shapes = {
        "/api/organisations": ([2**63], [2**31], ["not an id"], [{"dt": "2020-01-01T00:00:00"}], [True]),
        "/api/process-instances": ([5, "x"], [{"dt": "2020-01-01T00:00:00+00:00"}, 7], ["x", "y"]),
    }
    for url, cursors in shapes.items():
        for values in cursors:
            cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
            response = lived.admin.get(url, query_string={"cursor": cursor})
            assert response.status_code in (200, 422), (url, values, response.get_json())
            assert_no_traceback(response)


def _write_then_read_id(db: Database, value: int) -> None:
    """One unit of work that writes a row, then looks up an id the database cannot hold."""
    with db.transaction() as session:
        session.add(Organisation(name="Half done", country="DE"))
        session.flush()
        session.get(Organisation, value)
