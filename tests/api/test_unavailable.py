"""A database that cannot be reached: every request gets 503 with Retry-After, never a 500, on a live server.

The app is served by a real HTTP server in a thread and pointed at PostgreSQL on a port nobody listens
on, or at an SQLite file in a folder that does not exist; each operation of its OpenAPI document is
called as a client would (with a token, with a body), plus the pages' sign-in and /metrics.
"""
from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api.app import create_app
from engine.config import load_settings
from engine.db import Database
from tests.api.edge_support import TRACE_MARKERS, operations


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens there


@pytest.fixture(params=["postgresql-closed-port", "sqlite-missing-folder"])
def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The base URL of a live server whose database cannot be reached."""
    if request.param.startswith("postgresql"):
        url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/ecvet"
    else:
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'ecvet.sqlite3'}"
    db = Database(url)
    app = create_app(load_settings(database_url=url), database=db)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="unreachable-db-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        db.dispose()


def send(opener: urllib.request.OpenerDirector, url: str, *, method: str = "GET", data: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def assert_unavailable(status: int, headers: dict[str, str], text: str, where: str) -> None:
    assert status == 503, f"{where}: {status} {text[:300]}"
    assert int(headers["Retry-After"]) > 0, where
    assert not any(marker in text for marker in TRACE_MARKERS), f"{where}: {text[:300]}"


def test_every_operation_answers_503_with_retry_after(unreachable: str) -> None:
    opener = urllib.request.build_opener()
    status, _, text = send(opener, unreachable + "/api/openapi.json")
    assert status == 200  # the document needs no database
    doc = json.loads(text)
    called = 0
    for operation in operations(doc):
        # a valid request: only the database is missing (query strings are checked before the database)
        required = [(p["name"], "1" if p.get("schema", {}).get("type") == "integer" else "DE")
                    for p in operation.spec.get("parameters", []) if p["in"] == "query" and p["required"]]
        url = unreachable + operation.url() + ("?" + "&".join(f"{n}={v}" for n, v in required) if required else "")
        headers = {"Authorization": "Bearer some-token"}
        data = None
        if "application/json" in operation.body_types:
            data = json.dumps({"email": "a@example.org", "password": "x"}).encode()
            headers["Content-Type"] = "application/json"
        elif "multipart/form-data" in operation.body_types:
            data = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\r\n"
                    b"--b--\r\n")
            headers["Content-Type"] = "multipart/form-data; boundary=b"
        status, response_headers, text = send(opener, url, method=operation.method.upper(), data=data,
                                               headers=headers)
        if operation.path == "/api/privacy-notice" and operation.method.upper() == "GET":
            assert status == 200, text[:300]  # the notice is catalogue text: readable without the database
            assert json.loads(text)["sections"], text[:300]
            continue
        if operation.path == "/metrics":
            assert status == 200, text[:300]
            assert re.search(r"^ecvet_database_up 0(\.0)?$", text, re.M), text[:300]
            continue
        assert_unavailable(status, response_headers, text, str(operation))
        body = json.loads(text)
        assert response_headers["Content-Type"] == "application/problem+json"
        assert body["status"] == 503
        assert "unreachable" in body["detail"]
        called += 1
    assert called >= 60


def test_healthz_says_unhealthy(unreachable: str) -> None:
    status, headers, text = send(urllib.request.build_opener(), unreachable + "/healthz")
    assert_unavailable(status, headers, text, "/healthz")
    assert json.loads(text)["title"] == "Service unavailable"


def test_signing_in_on_the_pages_is_a_503_page(unreachable: str) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    html = {"Accept": "text/html"}
    status, _, page = send(opener, unreachable + "/sign-in", headers=html)
    assert status == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:500]
    form = f"csrf_token={token.group(1)}&email=a%40example.org&password=x".encode()
    status, headers, text = send(opener, unreachable + "/sign-in", method="POST", data=form,
                                 headers={**html, "Content-Type": "application/x-www-form-urlencoded"})
    assert_unavailable(status, headers, text, "POST /sign-in")
    assert headers["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in text
