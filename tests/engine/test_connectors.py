"""engine/connectors.py: the built-in http connector and spiff-arena's connector proxy, against a local
HTTP server of the test (no internet)."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from engine import connectors, execution, instances, jobs
from engine.connectors import ConnectorError
from engine.db import Database
from engine.models import Incident, ProcessInstance
from engine.parties import Actor
from tests.support.bpmn import wrap
from tests.support.engine import deploy, row, spec_of
from tests.support.settings import environment

SEEN: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        return None

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        posted = json.loads(self.rfile.read(length)) if length else None
        SEEN.append({"method": self.command, "path": self.path, "auth": self.headers.get("Authorization"),
                     "posted": posted})
        routes = {
            "/fail": (500, {"detail": "database down"}, None),
            "/redirect": (302, {}, {"Location": "http://elsewhere.invalid/steal"}),
            "/v1/do/http/GetRequestV2": (200, {"command_response": {"body": json.dumps({"eqf": 4}), "http_status": 200,
                                                                    "mimetype": "application/json"}, "error": None},
                                         None),
            "/v1/do/broken": (500, {"error": {"message": "the registry refused"}}, None),
        }
        status, body, headers = routes.get(self.path.split("?")[0], (200, {"path": self.path, "posted": posted}, None))
        self._reply(status, body, headers)

    do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 - BaseHTTPRequestHandler's names


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    SEEN.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allowed(monkeypatch: pytest.MonkeyPatch, server: str) -> str:
    environment(monkeypatch, ECVET_HTTP_ALLOWED_HOSTS="127.0.0.1, *.example.org",
                ECVET_CONNECTOR_SECRETS=json.dumps({"registry_token": "Bearer s3cret"}))
    return server


def test_http_calls_an_allowed_host_with_secret_headers_and_parses_json(allowed: str) -> None:
    answer = connectors.http(url=f"{allowed}/learners", params={"eqf": 4},
                             headers={"Authorization": "secret:registry_token"})
    assert answer["status"] == 200
    assert answer["body"] == {"path": "/learners?eqf=4", "posted": None}
    assert SEEN[-1]["auth"] == "Bearer s3cret"
    assert "s3cret" not in json.dumps(answer)
    posted = connectors.http(url=f"{allowed}/learners", method="put", json={"name": "Ana"})
    assert (SEEN[-1]["method"], posted["body"]["posted"]) == ("PUT", {"name": "Ana"})


def test_http_refuses_what_is_not_allowed(allowed: str) -> None:
    with pytest.raises(ConnectorError, match="host 'registry.invalid' is not in ECVET_HTTP_ALLOWED_HOSTS"):
        connectors.http(url="https://registry.invalid/x")
    with pytest.raises(ConnectorError, match="only http and https"):
        connectors.http(url="file:///etc/passwd")
    with pytest.raises(ConnectorError, match="method must be one of"):
        connectors.http(url=f"{allowed}/x", method="PATCH")
    with pytest.raises(ConnectorError, match="host 'elsewhere.invalid'"):
        connectors.http(url=f"{allowed}/redirect")  # a redirect is checked like the first URL
    with pytest.raises(ConnectorError, match="secret 'nope' is not configured"):
        connectors.http(url=f"{allowed}/x", headers={"Authorization": "secret:nope"})
    assert connectors.host_allowed("api.example.org")
    assert not connectors.host_allowed("example.org.evil.test")


def test_an_error_status_or_no_answer_fails_the_call(allowed: str) -> None:
    with pytest.raises(ConnectorError, match="answered 500: {'detail': 'database down'}"):
        connectors.http(url=f"{allowed}/fail")
    with pytest.raises(ConnectionError, match="no answer"):
        connectors.http(url="http://127.0.0.1:9/closed")


def test_the_connector_proxy_answers_operators_nobody_registered(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    environment(monkeypatch, ECVET_CONNECTOR_PROXY_URL=server,
                ECVET_CONNECTOR_SECRETS=json.dumps({"key": "k-1"}))
    call = connectors.proxy_connector("http/GetRequestV2", {"learner": "Ana"})
    assert call is not None
    result = call(url="https://registry.example.org/x", api_key="secret:key")
    assert result == {"body": {"eqf": 4}, "http_status": 200, "mimetype": "application/json"}
    assert SEEN[-1]["posted"] == {"url": "https://registry.example.org/x", "api_key": "k-1",
                                  "spiff__task_data": {"learner": "Ana"}}
    broken = connectors.proxy_connector("broken", {})
    assert broken is not None
    with pytest.raises(ConnectorError, match="'broken' failed \\(500\\): the registry refused"):
        broken()


def _service(operator: str) -> bytes:
    return wrap("fetch", f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:serviceTask id="call"><bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="response">
    <spiffworkflow:parameters>
      <spiffworkflow:parameter id="url" type="str" value="'https://registry.example.org/x'"/>
    </spiffworkflow:parameters>
  </spiffworkflow:serviceTaskOperator>
</bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
<bpmn:userTask id="after"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
<bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
<bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>""")


def test_a_spiff_arena_operator_runs_through_the_proxy_or_is_a_clear_incident(
        db: Database, admin: Actor, monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    deploy(db, {"fetch.bpmn": _service("http/GetRequestV2")})
    with db.transaction() as s:
        without = instances.start(s, actor=admin, process_key="fetch", parties={}).id
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        assert row(s, ProcessInstance, without).status == "error"
        incident = s.scalars(select(Incident).where(Incident.instance_id == without)).one()
    assert "no connector proxy is configured (ECVET_CONNECTOR_PROXY_URL)" in incident.message
    assert "http/GetRequestV2" in incident.message

    environment(monkeypatch, ECVET_CONNECTOR_PROXY_URL=server)
    with db.transaction() as s:
        with_proxy = instances.start(s, actor=admin, process_key="fetch", parties={}).id
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        assert row(s, ProcessInstance, with_proxy).status == "waiting"
    assert SEEN[-1]["path"] == "/v1/do/http/GetRequestV2"


def test_the_http_operator_runs_from_a_service_task(db: Database, admin: Actor, allowed: str) -> None:
    bpmn = _service("http").replace(b"'https://registry.example.org/x'", f"'{allowed}/learners'".encode())
    deploy(db, {"fetch.bpmn": bpmn})
    with db.transaction() as s:
        iid = instances.start(s, actor=admin, process_key="fetch", parties={}).id
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        instance = row(s, ProcessInstance, iid)
        assert instance.status == "waiting"
        workflow = execution.open_workflow(instance)
    (after,) = [t for t in workflow.get_tasks() if spec_of(t).bpmn_id == "after"]
    assert after.data["response"]["status"] == 200
    assert after.data["response"]["body"] == {"path": "/learners", "posted": None}
