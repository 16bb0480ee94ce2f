"""api/serving.py: one process on SQLite; on PostgreSQL gunicorn's threaded workers, one per core by default."""
from __future__ import annotations

import os
import re

from api import serving
from api.app import create_app
from engine import throttle
from engine.config import load_settings
from engine.db import Database
from tests.support.factories import PASSWORD, make_user

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/x"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
COOKIE = "ecvet_session"


def test_sqlite_is_served_by_one_process_whatever_is_asked() -> None:
    assert serving.processes(load_settings(database_url="sqlite:///x.sqlite3", server_processes=4)) == 1


def test_postgresql_gets_one_process_per_core_unless_told() -> None:
    assert serving.processes(load_settings(database_url=PG)) == len(os.sched_getaffinity(0))
    assert serving.processes(load_settings(database_url=PG, server_processes=3)) == 3


def test_each_gunicorn_worker_builds_its_own_app_with_threads_as_configured() -> None:
    options = serving.gunicorn_options(load_settings(database_url=PG, server_processes=2, server_threads=6),
                                       host="127.0.0.1", port=5001)
    assert options["bind"] == "127.0.0.1:5001"
    assert (options["workers"], options["worker_class"], options["threads"]) == (2, "gthread", 6)
    assert options["preload_app"] is False  # no pool or evaluator crosses a fork
    loaded = serving.MultiProcessServer(lambda: "the app", options)  # type: ignore[arg-type, return-value]
    assert loaded.cfg.workers == 2
    assert loaded.load() == "the app"


def test_two_api_processes_over_one_database_share_tokens_sessions_and_the_lock_out(db: Database) -> None:
    """Issue 15, several machines: nothing a request needs lives in one process. A token made by one
    app works on the other, a page session (a cookie signed with the shared key) too, and failed
    sign-ins on both count towards one lock-out (sign_in_throttle rows)."""
    settings = load_settings(database_url=db.url, secret_key="one-key-for-every-machine")
    other_app = create_app(settings, database=db)
    first, second = create_app(settings, database=db).test_client(), other_app.test_client()
    person = make_user(db)
    token = first.post("/api/tokens", json={"email": person.email, "password": PASSWORD}).get_json()["token"]
    me = second.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.status_code, me.get_json()["email"]) == (200, person.email)

    page = first.get("/sign-in").get_data(as_text=True)
    csrf = CSRF.search(page)
    assert csrf is not None
    signed_in = first.post("/sign-in", data={"email": person.email, "password": PASSWORD, "csrf_token": csrf.group(1)})
    assert signed_in.status_code == 302
    cookie = first.get_cookie(COOKIE)
    assert cookie is not None
    second.set_cookie(COOKIE, cookie.value)
    assert second.get("/tasks").status_code == 200  # the other process knows the session
    assert other_app.test_client().get("/tasks").status_code == 401  # without it: nobody

    victim = make_user(db)
    for n in range(throttle.max_failures()):
        client = (first, second)[n % 2]
        assert client.post("/api/tokens", json={"email": victim.email, "password": "wrong"}).status_code == 401
    for client in (first, second):
        assert client.post("/api/tokens", json={"email": victim.email, "password": PASSWORD}).status_code == 429
