"""/api/tokens: signing in, listing and revoking tokens, and that no token is ever stored in clear."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from engine import clock, throttle
from engine.clock import FrozenClock
from engine.models import ApiToken, AuditEvent, Base, utcnow
from tests.api.conftest import Caller, World, assert_problem, sign_in
from tests.support.factories import PASSWORD, make_user


def assert_unauthorized(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


def test_sign_in_returns_a_token_that_authenticates(world: World) -> None:
    person = make_user(world.db, email="Learner.One@Example.org")
    response = world.client.post("/api/tokens", json={"email": "  learner.one@EXAMPLE.org ", "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    token = body["token"]
    assert isinstance(token, str)
    assert token.startswith("ecv_")
    assert len(token) >= 40
    assert body["prefix"] == token[:12]
    assert isinstance(body["id"], int)
    assert body["revoked_at"] is None
    assert body["expires_at"] > body["created_at"]
    assert "password" not in body
    assert PASSWORD not in response.get_data(as_text=True)

    me = world.client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == person.id
    # the scheme name is case-insensitive (RFC 9110)
    again = world.client.get("/api/users/me", headers={"Authorization": f"bearer {token}"})
    assert again.status_code == 200


def test_each_sign_in_gives_a_distinct_token(world: World) -> None:
    person = world.sender.person
    tokens = {sign_in(world.client, person).token for _ in range(3)}
    assert len(tokens) == 3


def test_wrong_password_and_unknown_email_look_the_same(world: World) -> None:
    wrong = world.client.post("/api/tokens", json={"email": world.sender.person.email, "password": "not-the-password"})
    unknown = world.client.post("/api/tokens", json={"email": "nobody@example.org", "password": PASSWORD})
    wrong_body = assert_unauthorized(wrong)
    unknown_body = assert_unauthorized(unknown)
    assert wrong_body == unknown_body
    assert wrong_body["detail"] == "E-mail or password is wrong"
    assert "token" not in wrong_body


def test_sign_in_needs_email_and_password(world: World) -> None:
    response = world.client.post("/api/tokens", json={"email": world.sender.person.email})
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"password"}
    response = world.client.post("/api/tokens", json={})
    assert set(assert_problem(response, 422)["errors"]) == {"email", "password"}


def test_revoked_token_is_refused_and_other_tokens_keep_working(world: World) -> None:
    first = sign_in(world.client, world.sender.person)
    second = sign_in(world.client, world.sender.person)
    first_id = next(t["id"] for t in second.get("/api/tokens").get_json() if t["prefix"] == first.token[:12])

    revoked = first.delete(f"/api/tokens/{first_id}")
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["id"] == first_id
    assert revoked.get_json()["revoked_at"] is not None

    body = assert_unauthorized(first.get("/api/users/me"))
    assert body["detail"] == "The bearer token is unknown, expired or revoked"
    assert_unauthorized(first.get("/api/tokens"))

    assert second.get("/api/users/me").status_code == 200
    listed = {t["id"]: t for t in second.get("/api/tokens").get_json()}
    assert listed[first_id]["revoked_at"] == revoked.get_json()["revoked_at"]

    # revoking twice is harmless and keeps the first revocation time
    again = second.delete(f"/api/tokens/{first_id}")
    assert again.status_code == 200
    assert again.get_json()["revoked_at"] == revoked.get_json()["revoked_at"]


def test_expired_token_is_refused(world: World) -> None:
    caller = sign_in(world.client, world.host.person)
    assert caller.get("/api/users/me").status_code == 200
    digest = hashlib.sha256(caller.token.encode()).hexdigest()
    with world.db.transaction() as session:
        session.execute(
            update(ApiToken).where(ApiToken.token_hash == digest).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_unauthorized(caller.get("/api/users/me"))


def test_token_list_shows_only_own_tokens_without_secrets(world: World) -> None:
    extra = sign_in(world.client, world.sender.person)
    response = world.sender.get("/api/tokens")
    assert response.status_code == 200
    items = response.get_json()
    assert [t["prefix"] for t in items] == [world.sender.token[:12], extra.token[:12]]
    for item in items:
        assert set(item) == {"id", "prefix", "created_at", "expires_at", "revoked_at"}
    text = response.get_data(as_text=True)
    for token in (world.sender.token, extra.token, world.host.token, world.admin.token):
        assert token not in text
    assert world.host.token[:12] not in text

    host_items = world.host.get("/api/tokens").get_json()
    assert [t["prefix"] for t in host_items] == [world.host.token[:12]]


def test_someone_elses_token_id_is_not_found(world: World) -> None:
    host_token_id = world.host.get("/api/tokens").get_json()[0]["id"]
    body = assert_problem(world.sender.delete(f"/api/tokens/{host_token_id}"), 404)
    assert str(host_token_id) in body["detail"]
    assert_problem(world.sender.delete("/api/tokens/999999"), 404)
    # the host's token was not touched
    assert world.host.get("/api/users/me").status_code == 200
    assert world.host.get("/api/tokens").get_json()[0]["revoked_at"] is None


def test_admin_may_revoke_any_token(world: World) -> None:
    host_token_id = world.host.get("/api/tokens").get_json()[0]["id"]
    assert world.admin.delete(f"/api/tokens/{host_token_id}").status_code == 200
    assert_unauthorized(world.host.get("/api/users/me"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer ecv_" + "A" * 43},
    ],
    ids=["none", "empty", "scheme-only", "blank", "basic", "other-scheme", "garbage", "well-formed-unknown"],
)
def test_missing_or_garbage_authorization_is_401(world: World, headers: dict[str, str]) -> None:
    for method, url in [("get", "/api/tokens"), ("get", "/api/users/me"), ("get", "/api/tasks"),
                        ("post", "/api/process-instances"), ("delete", "/api/tokens/1")]:
        kwargs: dict[str, Any] = {"headers": headers}
        if method == "post":
            kwargs["json"] = {"process_key": "two_lane_review", "parties": {}}
        response = getattr(world.client, method)(url, **kwargs)
        assert_unauthorized(response)
        assert "token" not in response.get_json()


def test_token_is_stored_only_as_its_sha256(world: World) -> None:
    caller: Caller = sign_in(world.client, world.outsider.person)
    token = caller.token
    with world.db.transaction(write=False) as session:
        rows = list(session.scalars(select(ApiToken).where(ApiToken.user_id == caller.person.id)))
        assert len(rows) == 2  # the world's sign-in and this one
        row = next(r for r in rows if r.prefix == token[:12])
        assert row.token_hash != token
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert len(row.token_hash) == 64

        # the clear token appears nowhere in the database, in no column of any table
        secret_part = token[len("ecv_"):]
        for table in Base.metadata.sorted_tables:
            for record in session.execute(select(table)):
                for value in record:
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    assert secret_part not in text, f"clear token found in {table.name}"


@pytest.mark.parametrize("known", [True, False], ids=["known-address", "unknown-address"])
def test_repeated_failures_lock_the_address_then_it_unlocks(world: World, known: bool) -> None:
    person = make_user(world.db) if known else None
    email = person.email if person else "ghost@example.org"
    frozen = FrozenClock(utcnow())
    previous = clock.use(frozen)
    try:
        for _ in range(throttle.MAX_FAILURES):
            assert_unauthorized(world.client.post("/api/tokens", json={"email": email, "password": "wrong-password"}))
        # locked: even the right password is refused, and the answer says when to come back
        locked = world.client.post("/api/tokens", json={"email": email, "password": PASSWORD})
        body = assert_problem(locked, 429)
        assert 0 < int(locked.headers["Retry-After"]) <= throttle.LOCK.total_seconds()
        assert "try again" in body["detail"]
        with world.db.transaction(write=False) as s:
            failed = s.scalars(select(AuditEvent).where(AuditEvent.action == "signin.failed")
                               .order_by(AuditEvent.id)).all()
        assert [e.detail["locked"] for e in failed] == [False] * (throttle.MAX_FAILURES - 1) + [True]
        assert {e.detail["email"] for e in failed} == {email}
        # other addresses are not affected
        assert sign_in(world.client, world.sender.person).token
        frozen.advance(throttle.LOCK + timedelta(seconds=1))
        after = world.client.post("/api/tokens", json={"email": email, "password": PASSWORD})
        assert after.status_code == (201 if known else 401), after.get_json()
    finally:
        clock.use(previous)


def test_a_success_resets_the_failure_count(world: World) -> None:
    person = world.sender.person
    for _round in range(3):
        for _ in range(throttle.MAX_FAILURES - 1):
            assert_unauthorized(world.client.post("/api/tokens", json={"email": person.email, "password": "nope-nope"}))
        assert sign_in(world.client, person).token
