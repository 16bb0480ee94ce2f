"""Property: whatever a client sends to any operation of the OpenAPI document, the answer is never a 5xx.

schemathesis generates requests from /api/openapi.json (valid ones and ones that break the schema:
wrong types, out-of-range ids, odd strings) and sends them through the WSGI app, signed in as the
administrator of the demo (organisations, deployed processes, MoUs, mobilities, instances and tasks
exist), half of the time with the path ids of real records, so the requests reach real code and not
only 404s. Every error must also be a problem document without a traceback.

Bounded for `make test` (ECVET_FUZZ_EXAMPLES per operation and generation mode, derandomised so a
run is repeatable); raise ECVET_FUZZ_EXAMPLES and set ECVET_FUZZ_SEED to explore further.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

import demo.seed
from engine.db import Database
from tests.api.edge_support import TRACE_MARKERS

EXAMPLES = int(os.environ.get("ECVET_FUZZ_EXAMPLES", "2"))
SEED = os.environ.get("ECVET_FUZZ_SEED")


class Admin:
    """The demo's administrator; signs in again when a generated DELETE /api/tokens/{id} revoked the token."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.token = ""
        self.renew()

    def renew(self) -> None:
        response = self.client.post("/api/tokens", json={"email": "admin@example.org",
                                                         "password": demo.seed.DEMO_PASSWORD})
        assert response.status_code == 201, response.get_json()
        self.token = response.get_json()["token"]

    def get(self, url: str) -> Any:
        response = self.client.get(url, headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, (url, response.get_json())
        return response.get_json()


def real_path_values(admin: Admin) -> dict[str, Any]:
    """Path parameter values that name records of the demo (ids absent here fall back to 1)."""
    instances = admin.get("/api/process-instances?limit=200")["items"]
    tasks = [t["id"] for i in instances for t in admin.get(f"/api/process-instances/{i['id']}")["ready_tasks"]
             if t["id"]]
    definitions = admin.get("/api/process-definitions")["items"]
    mobility = admin.get("/api/mobilities")["items"][0]
    assert instances
    assert tasks
    assert definitions
    return {
        "instance_id": instances[0]["id"], "task_id": tasks[0], "key": definitions[0]["key"],
        "version": definitions[0]["version"], "filename": definitions[0]["files"][0], "kind": "mou",
        "record_id": mobility["mou_id"], "mou_id": mobility["mou_id"], "mobility_id": mobility["id"],
        "learner_id": mobility["learner_id"], "number": 1,
    }


def _bound(check: Callable[[Any, Any], None], operation: Any) -> Callable[[Any], None]:
    """check(operation, case) as a one-argument test for hypothesis (which takes no defaults or partials)."""

    def send(case: Any) -> None:
        check(operation, case)

    return send


@pytest.fixture
def seeded(db: Database) -> Database:
    demo.seed.seed(db)
    return db


def test_no_request_gets_a_5xx(app: Flask, seeded: Database) -> None:
    admin = Admin(app)
    real = real_path_values(admin)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # Err fails here
    assert len(operations) >= 60

    def check(operation: Any, case: Any) -> None:
        public = operation.definition.raw.get("security") == []
        if not public:  # the generated Authorization would only ever test the 401
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {admin.token}"}
        response = case.call()
        statuses[response.status_code] += 1
        where = f"{operation.method.upper()} {operation.path}: {case.as_curl_command()[:800]}"
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {where}\n  {response.text[:300]}")
        elif response.status_code >= 400:
            headers = {name.lower(): value for name, value in response.headers.items()}
            content_type = headers.get("content-type", [""])
            content_type = content_type[0] if isinstance(content_type, list) else content_type
            if not content_type.startswith("application/problem+json"):
                failures.append(f"{response.status_code} not a problem document: {where}")
            if any(marker in response.text for marker in TRACE_MARKERS):
                failures.append(f"{response.status_code} leaks a traceback: {where}")
        if response.status_code == 401 and not public:
            admin.renew()

    for operation in operations:
        names = [parameter.name for parameter in operation.path_parameters]
        fixed = {name: real.get(name, 1) for name in names}
        strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
        if names:
            strategies += [operation.as_strategy(generation_mode=mode, path_parameters=fixed)
                           for mode in GenerationMode]
        run = given(case=st.one_of(strategies))(_bound(check, operation))
        run = settings(max_examples=EXAMPLES * len(strategies), deadline=None, database=None,
                       derandomize=SEED is None, phases=[Phase.explicit, Phase.generate],
                       suppress_health_check=list(HealthCheck))(run)
        if SEED is not None:
            run = seed(int(SEED))(run)
        run()

    print(f"{sum(statuses.values())} requests: {dict(sorted(statuses.items()))}")
    assert not failures, "\n".join(failures[:20])
    # the requests reached real code: successes and client errors of many kinds, not only 404s
    assert statuses[200] + statuses[201] >= len(operations), statuses
    assert {400, 404, 409, 422} <= set(statuses), statuses
