"""/api/users: admins create people, everyone reads themself, and no password ever leaves the server."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World, assert_problem, sign_in
from tests.support.factories import Person

NEW_PASSWORD = "Xk9-unusual-passphrase-77"



def assert_no_secret(response: Any, password: str = NEW_PASSWORD) -> None:
    text = response.get_data(as_text=True)
    assert password not in text
    assert "password" not in text  # neither the field, its hash, nor a message echoing it
    assert "$argon2" not in text


def user_ids(world: World) -> list[int]:
    response = world.admin.get("/api/users", query_string={"limit": "200"})
    assert response.status_code == 200, response.get_json()
    return [u["id"] for u in response.get_json()["items"]]


def new_user(world: World, **fields: Any) -> Any:
    body = {"email": "Learner.Two@Example.org", "name": "Lea Learner", "password": NEW_PASSWORD, **fields}
    return world.admin.post("/api/users", json=body)


def test_admin_creates_a_user_who_can_sign_in(world: World) -> None:
    response = new_user(world, organisation_ids=[world.hosting_org])
    assert response.status_code == 201, response.get_json()
    assert_no_secret(response)
    user = response.get_json()
    assert set(user) == {"id", "email", "name", "is_admin", "is_active", "organisation_ids", "position", "place",
                         "language", "created_at"}
    assert user["email"] == "learner.two@example.org"  # stored lower-case
    assert (user["name"], user["is_admin"], user["is_active"]) == ("Lea Learner", False, True)
    assert user["organisation_ids"] == [world.hosting_org]

    caller = sign_in(world.client, Person(user["id"], "LEARNER.TWO@example.org", NEW_PASSWORD))
    me = caller.get("/api/users/me")
    assert me.status_code == 200
    assert_no_secret(me)
    assert me.get_json() == user
    assert [t["bpmn_id"] for t in caller.get("/api/tasks").get_json()["items"]] == []

    listed = world.admin.get("/api/users", query_string={"limit": "200"})
    assert_no_secret(listed)
    assert user["id"] in [u["id"] for u in listed.get_json()["items"]]
    fetched = world.admin.get(f"/api/users/{user['id']}")
    assert_no_secret(fetched)
    assert fetched.get_json() == user


def test_admin_can_create_another_admin(world: World) -> None:
    response = new_user(world, email="second.admin@example.org", is_admin=True)
    assert response.status_code == 201
    assert response.get_json()["is_admin"] is True
    other = sign_in(world.client, Person(response.get_json()["id"], "second.admin@example.org", NEW_PASSWORD))
    assert other.get("/api/users").status_code == 200


def test_short_password_is_refused(world: World) -> None:
    before = user_ids(world)
    response = new_user(world, password="short-pw1")
    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["password"]
    assert "10" in body["errors"]["password"][0]
    assert "short-pw1" not in response.get_data(as_text=True)
    assert user_ids(world) == before


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two words@example.org", "@example.org", ""])
def test_bad_email_is_refused(world: World, email: str) -> None:
    before = user_ids(world)
    response = new_user(world, email=email)
    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["email"]
    assert_no_secret(response)
    assert user_ids(world) == before


def test_several_problems_are_reported_together(world: World) -> None:
    body = assert_problem(new_user(world, email="nope", password="x"), 422)
    assert set(body["errors"]) == {"email", "password"}
    body = assert_problem(world.admin.post("/api/users", json={}), 422)
    assert set(body["errors"]) == {"email", "name", "password"}


def test_duplicate_email_is_a_conflict(world: World) -> None:
    assert new_user(world).status_code == 201
    before = user_ids(world)
    response = new_user(world, email="LEARNER.two@example.ORG", name="Someone else")
    body = assert_problem(response, 409)
    assert "learner.two@example.org" in body["detail"]
    assert_no_secret(response)
    existing = world.admin.post("/api/users", json={"email": world.sender.person.email, "name": "x",
                                                    "password": NEW_PASSWORD})
    assert_problem(existing, 409)
    assert user_ids(world) == before


def test_unknown_organisation_is_refused_and_no_user_is_left_behind(world: World) -> None:
    before = user_ids(world)
    response = new_user(world, organisation_ids=[world.sending_org, 987654])
    # nothing of the half-made user survives: not the user, not the first membership
    assert user_ids(world) == before
    assert [m["id"] for m in world.admin.get(f"/api/organisations/{world.sending_org}/members").get_json()] == [
        world.sender.person.id
    ]
    login = world.client.post("/api/tokens", json={"email": "learner.two@example.org", "password": NEW_PASSWORD})
    assert login.status_code == 401
    # a bad reference inside the body is a validation error of that field (as for party bindings and
    # for an unknown user_id when adding a member), not "the resource /api/users was not found"
    body = assert_problem(response, 422)
    assert "organisation_ids" in body["errors"]


def test_users_me_for_every_kind_of_caller(world: World) -> None:
    for caller, admin, orgs in [
        (world.admin, True, []),
        (world.sender, False, [world.sending_org]),
        (world.host, False, [world.hosting_org]),
    ]:
        response = caller.get("/api/users/me")
        assert response.status_code == 200
        me = response.get_json()
        assert (me["id"], me["email"], me["is_admin"], me["organisation_ids"]) == (
            caller.person.id, caller.person.email, admin, orgs,
        )
        assert_no_secret(response, caller.person.password)


def test_non_admin_cannot_list_or_create_users(world: World) -> None:
    body = assert_problem(world.sender.get("/api/users"), 403)
    assert "administrator" in body["detail"]
    before = user_ids(world)
    response = world.sender.post("/api/users", json={"email": "x@example.org", "name": "x",
                                                      "password": NEW_PASSWORD, "is_admin": True})
    assert_problem(response, 403)
    assert user_ids(world) == before


def test_non_admin_reads_only_themself(world: World) -> None:
    assert world.sender.get(f"/api/users/{world.sender.person.id}").status_code == 200
    assert_problem(world.sender.get(f"/api/users/{world.host.person.id}"), 404)
    assert_problem(world.sender.get(f"/api/users/{world.admin.person.id}"), 404)
    assert_problem(world.admin.get("/api/users/987654"), 404)


def test_user_list_paginates(world: World) -> None:
    for n in range(3):
        assert new_user(world, email=f"page{n}@example.org").status_code == 201
    expected = user_ids(world)
    assert len(expected) == 7
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = world.admin.get("/api/users", query_string=params)
        assert_no_secret(page)
        seen.extend(u["id"] for u in page.get_json()["items"])
        cursor = page.get_json()["next_cursor"]
        if not cursor:
            break
    assert seen == expected


def test_a_person_sets_their_signing_profile_but_not_their_identity(world: World) -> None:
    """Position and place are what a signature takes beyond the account; name and e-mail are not
    changed through the profile (a signature would otherwise carry a name the admin never gave)."""
    created = new_user(world, position="Learner", place="Köln")
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["position"], created.get_json()["place"]) == ("Learner", "Köln")
    me = world.host.get("/api/users/me").get_json()
    changed = world.host.patch("/api/users/me", json={"position": "  Company mentor ", "place": "València"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["position"], changed.get_json()["place"]) == ("Company mentor", "València")
    cleared = world.host.patch("/api/users/me", json={"place": None})
    assert (cleared.get_json()["position"], cleared.get_json()["place"]) == ("Company mentor", None)
    refused = assert_problem(world.host.patch("/api/users/me", json={"name": "Anna Schmidt",
                                                                      "email": "anna@school.example"}), 422)
    assert set(refused["errors"]) >= {"name", "email"}
    too_long = assert_problem(world.host.patch("/api/users/me", json={"position": "x" * 201}), 422)
    assert "position" in too_long["errors"]
    after = world.host.get("/api/users/me").get_json()
    assert (after["name"], after["email"], after["position"]) == (me["name"], me["email"], "Company mentor")
    assert_problem(world.client.patch("/api/users/me", json={"place": "x"}), 401)


def test_a_person_chooses_the_language_of_the_pages(world: World) -> None:
    """One of the languages the pages speak, or none (the browser decides); anything else is a 422."""
    chosen = world.host.patch("/api/users/me", json={"language": "it"})
    assert chosen.status_code == 200, chosen.get_json()
    assert chosen.get_json()["language"] == "it"
    refused = assert_problem(world.host.patch("/api/users/me", json={"language": "klingon"}), 422)
    assert "language" in refused["errors"]
    assert world.host.get("/api/users/me").get_json()["language"] == "it"
    cleared = world.host.patch("/api/users/me", json={"language": None})
    assert cleared.get_json()["language"] is None
