"""Errors as application/problem+json everywhere, the OpenAPI document, the docs page and /healthz."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from api.app import create_app
from api.deps import authenticated
from engine import parties
from engine.config import load_settings
from engine.db import Database
from tests.api.conftest import World, assert_problem

TRACE_MARKERS = ("Traceback", 'File "', "site-packages", "sqlalchemy.exc", "werkzeug.exceptions")


# --------------------------------------------------------------------------------------------------
# client errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"process_key": "a",}', b"\xff\xfe\x00", b'{"a": 1} trailing', b""],
    ids=["unquoted", "trailing-comma", "not-utf8", "trailing-data", "empty"],
)
def test_malformed_json_is_400(world: World, raw: bytes) -> None:
    for url in ("/api/process-instances", "/api/tokens"):
        response = world.sender.post(url, data=raw, content_type="application/json")
        if raw == b"":
            # an empty body is no JSON at all: either malformed (400) or missing fields (422)
            assert response.status_code in (400, 422)
            assert_problem(response, response.status_code)
            continue
        body = assert_problem(response, 400)
        assert body["detail"]


def test_wrong_types_in_a_body_are_422_per_field(world: World) -> None:
    response = world.sender.post("/api/process-instances", json={
        "process_key": 5, "version": "latest", "variables": [1, 2], "parties": "sending",
    })
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"process_key", "version", "variables", "parties"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())

    missing = assert_problem(world.sender.post("/api/process-instances", json={}), 422)
    assert set(missing["errors"]) == {"process_key", "parties"}

    not_object = assert_problem(world.sender.post("/api/process-instances", json=[1, 2, 3]), 422)
    assert not_object["errors"]

    task = assert_problem(world.sender.post(f"/api/tasks/{uuid.uuid4()}/complete",
                                            json={"data": "text", "on_behalf": "perhaps"}), 422)
    assert set(task["errors"]) == {"data", "on_behalf"}

    unknown_field = assert_problem(world.sender.post("/api/process-instances", json={
        "process_key": "x", "parties": {}, "surprise": True,
    }), 422)
    assert "surprise" in unknown_field["errors"]


def test_wrong_types_in_a_query_are_422(world: World) -> None:
    for params in ({"limit": "ten"}, {"limit": "0"}, {"state": "sleeping"}, {"cursor": "not-a-cursor"}):
        body = assert_problem(world.sender.get("/api/tasks", query_string=params), 422)
        assert body["detail"]


def test_unknown_ids_are_404(world: World) -> None:
    for url in (
        f"/api/process-instances/{uuid.uuid4()}",
        "/api/process-instances/not-even-a-uuid",
        f"/api/tasks/{uuid.uuid4()}",
        "/api/organisations/424242",
        "/api/users/424242",
        "/api/process-definitions/nothing-here",
    ):
        body = assert_problem(world.admin.get(url), 404)
        assert body["detail"]
    completed = world.admin.post(f"/api/tasks/{uuid.uuid4()}/complete", json={"data": {}, "on_behalf": True})
    assert_problem(completed, 404)


def test_unknown_route_is_404_problem(world: World) -> None:
    for url in ("/api/nothing", "/api/tasks/a/b/c", "/no/such/page"):
        assert_problem(world.client.get(url), 404)
        assert_problem(world.sender.get(url), 404)


def test_wrong_method_is_405_problem_with_allow(world: World) -> None:
    response = world.client.put("/api/tokens", json={})
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "PUT" not in response.headers["Allow"]

    response = world.sender.delete("/api/process-instances")
    assert_problem(response, 405)
    response = world.client.patch(f"/api/tasks/{uuid.uuid4()}/complete")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert_problem(world.client.post("/healthz"), 405)


# --------------------------------------------------------------------------------------------------
# unexpected errors
# --------------------------------------------------------------------------------------------------


SECRET = "internal-detail-7c1f"


@pytest.fixture(autouse=True)
def failing_routes(app: Flask) -> None:
    """Routes that fail on purpose; registered before any request, as Flask requires."""

    def explode() -> Any:
        raise RuntimeError(f"boom: {SECRET} at /srv/app/secret.py")

    def half_done() -> Any:
        with authenticated() as (session, actor):
            parties.create_organisation(session, actor=actor, name="Half done", country="DE")
            raise ValueError("after the write")

    app.add_url_rule("/api/_test/explode", "test_explode", explode)
    app.add_url_rule("/api/_test/half-done", "test_half_done", half_done, methods=["POST"])


def test_unexpected_exception_is_500_problem_without_details(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    client = app.test_client()
    with caplog.at_level("ERROR", logger="ecvet.api"):
        response = client.get("/api/_test/explode")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert SECRET not in text
    assert "RuntimeError" not in text
    assert "secret.py" not in text
    assert body["title"] == "Internal server error"
    # ...but the operator gets the whole story in the log
    assert any(SECRET in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_unexpected_exception_inside_a_unit_of_work_rolls_back(world: World) -> None:
    """An error after a write has been made leaves nothing behind and still answers problem+json."""
    before = world.admin.get("/api/organisations").get_json()["items"]
    assert_problem(world.admin.post("/api/_test/half-done"), 500)
    after = world.admin.get("/api/organisations").get_json()["items"]
    assert after == before
    assert "Half done" not in str(after)


# --------------------------------------------------------------------------------------------------
# OpenAPI and docs
# --------------------------------------------------------------------------------------------------


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def openapi(client: Any) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_openapi_document_is_valid_openapi_3(world: World) -> None:
    doc = openapi(world.client)  # no token needed
    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert doc["info"]["title"]
    assert doc["info"]["version"]

    validate(doc)  # openapi-spec-validator: the document is OpenAPI 3 a generator or client accepts

    paths = doc["paths"]
    assert {"post"} <= set(paths["/api/tasks/{task_id}/complete"])
    assert {"get", "post"} <= set(paths["/api/process-instances"])
    assert {"get", "post"} <= set(paths["/api/tokens"])
    assert "delete" in paths["/api/tokens/{token_id}"]
    assert "post" in paths["/api/process-definitions"]
    assert "get" in paths["/healthz"]
    http_methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    for path, item in paths.items():
        assert path.startswith("/")
        templated = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            if method not in http_methods:
                continue
            assert operation["responses"], f"{method} {path} documents no response"
            for code in operation["responses"]:
                assert code == "default" or re.fullmatch(r"[1-5]\d\d", code), (path, code)
            declared = {p["name"] for p in item.get("parameters", []) + operation.get("parameters", [])
                        if p.get("in") == "path"}
            assert templated == declared, f"{method} {path}: path parameters {templated} vs {declared}"

    complete = paths["/api/tasks/{task_id}/complete"]["post"]
    body_schema = complete["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/CompleteTask"}
    assert "200" in complete["responses"]
    token_post = paths["/api/tokens"]["post"]
    assert token_post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/TokenRequest")
    assert "201" in token_post["responses"]

    schemas = doc["components"]["schemas"]
    for name in ("CompleteTask", "StartInstance", "TokenRequest", "NewToken", "TokenInfo", "Task", "TaskDetail",
                 "TaskPage", "InstanceDetail", "InstanceSummary", "InstancePage", "Organisation", "User",
                 "Definition", "DefinitionDetail", "DeployResult", "Health"):
        assert name in schemas, f"{name} missing from components.schemas"
        assert schemas[name].get("type") == "object"
        assert schemas[name]["properties"]
    assert {"process_key", "parties"} <= set(schemas["StartInstance"]["required"])
    # load_only fields are accepted but never described as part of a response
    assert "password" in schemas["TokenRequest"]["properties"]
    assert "password" not in schemas["User"]["properties"] or schemas["User"]["properties"]["password"].get(
        "writeOnly") is True

    # every reference resolves
    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None, ref

    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]


def test_openapi_says_which_operations_are_public(world: World) -> None:
    """Only /healthz, /metrics (without ECVET_METRICS_TOKEN) and POST /api/tokens need no token, and the
    document says so; every other operation keeps the bearer requirement and documents its 401."""
    doc = openapi(world.client)
    public, protected = set(), set()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if operation.get("security") == []:
                public.add(f"{method.upper()} {path}")
            else:
                assert "security" not in operation, f"{method} {path}: {operation['security']}"
                assert operation["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}, path
                protected.add(f"{method.upper()} {path}")
    assert public == {"GET /healthz", "GET /metrics", "POST /api/tokens"}
    assert len(protected) >= 60
    # what the document says is what the server does
    assert world.client.get("/healthz").status_code == 200
    assert world.client.get("/metrics").status_code == 200
    assert_problem(world.client.get("/api/tokens"), 401)


def test_openapi_says_metrics_needs_its_token_when_one_is_configured(
        db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECVET_METRICS_TOKEN", "scrape-secret")
    guarded = create_app(load_settings(database_url=db.url), database=db).test_client()
    doc = openapi(guarded)
    validate(doc)
    assert doc["paths"]["/metrics"]["get"]["security"] == [{"metrics_token": []}]
    assert doc["components"]["securitySchemes"]["metrics_token"]["scheme"] == "bearer"
    assert_problem(guarded.get("/metrics"), 401)
    assert guarded.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200


def test_openapi_documents_errors_as_problem_json(world: World) -> None:
    """What the API sends on errors (RFC 9457 problem+json) is what the document says it sends."""
    doc = openapi(world.client)
    schemas = doc["components"]["schemas"]
    problem_names = [n for n, s in schemas.items()
                     if {"type", "title", "status", "detail", "errors"} <= set(s.get("properties", {}))]
    assert problem_names, f"no problem+json schema among {sorted(schemas)}"

    error_responses = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue  # path-level parameters, not an operation
            for code, declared in operation.get("responses", {}).items():
                if code == "default" or code.startswith(("4", "5")):
                    response = _resolve(doc, declared["$ref"]) if "$ref" in declared else declared
                    error_responses.append((f"{method} {path} {code}", response))
    assert error_responses
    for where, response in error_responses:
        content = response.get("content", {})
        assert "application/problem+json" in content, f"{where}: documented as {sorted(content)}"
        ref = content["application/problem+json"]["schema"].get("$ref", "")
        assert ref.rsplit("/", 1)[-1] in problem_names, f"{where}: schema {ref}"


def test_docs_page_uses_only_local_assets(world: World) -> None:
    response = world.client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "swagger-ui" in html.lower()
    assert "/api/openapi.json" in html

    sources = re.findall(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']""", html, re.I)
    assert sources, html
    for source in sources:
        assert not re.match(r"(?i)^(https?:)?//", source), f"external asset {source}"
        assert source.startswith("/api/docs/assets/"), source
        asset = world.client.get(source)
        assert asset.status_code == 200, source
        assert asset.data
    assert not re.search(r"""(?i)(src|href)\s*=\s*["'](https?:)?//""", html)


def test_swagger_assets_are_served_locally(world: World) -> None:
    bundle = world.client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert "javascript" in (bundle.mimetype or "")
    assert b"SwaggerUIBundle" in bundle.data
    css = world.client.get("/api/docs/assets/swagger-ui.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert_problem(world.client.get("/api/docs/assets/no-such-file.js"), 404)
    assert_problem(world.client.get("/api/docs/assets/../../../../etc/passwd"), 404)
    assert_problem(world.client.get("/api/docs/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd"), 404)


# --------------------------------------------------------------------------------------------------
# health
# --------------------------------------------------------------------------------------------------


def test_healthz_reports_ok_without_a_token(world: World) -> None:
    response = world.client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == world.db.engine.dialect.name
    assert body["schema_revision"]


def test_healthz_reports_an_unreachable_database_as_503(app: Flask, tmp_path: Any) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # exists once opened, never migrated
    try:
        app.extensions["ecvet_db"] = broken
        response = app.test_client().get("/healthz")
        body = assert_problem(response, 503)
        assert "not migrated" in body["detail"] or "unreachable" in body["detail"]
        assert int(response.headers["Retry-After"]) > 0
    finally:
        broken.dispose()
