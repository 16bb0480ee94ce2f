"""api/app.py: the app factory's OpenAPI document (valid, generated from the schemas, public operations
marked, errors as problem+json) and the docs page served from local assets."""
from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from api.app import create_app
from engine.config import load_settings
from tests.api.conftest import World, assert_problem


def openapi(client: Any) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


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
    """Only /healthz, /metrics (without ECVET_METRICS_TOKEN), POST /api/tokens, an organisation's
    public keys and the privacy notice need no token, and the document says so; every other operation
    keeps the bearer requirement and documents its 401."""
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
    assert public == {"GET /healthz", "GET /metrics", "POST /api/tokens",
                      "GET /api/organisations/{organisation_id}/keys",  # public keys of signed credentials
                      "GET /api/privacy-notice"}  # read before anyone signs in (GDPR Art. 13)
    assert len(protected) >= 60
    # what the document says is what the server does
    assert world.client.get("/healthz").status_code == 200
    assert world.client.get("/metrics").status_code == 200
    assert world.client.get("/api/privacy-notice").status_code == 200
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
