"""/profile: who you sign as (shown, not editable) and the position and place signing forms start with."""
from __future__ import annotations

from flask import Flask

from tests.api.conftest import World
from tests.api.web.conftest import Browser


def test_a_person_sets_the_position_and_place_their_signatures_start_with(
    app: Flask, world: World, pages: dict[str, Browser]
) -> None:
    host = pages["host"]
    me = world.host.get("/api/users/me").get_json()
    page = host.get("/profile").get_data(as_text=True)
    assert me["name"] in page
    assert me["email"] in page
    assert 'name="name"' not in page, "who signs is not edited here"
    assert 'name="email"' not in page, "who signs is not edited here"
    assert 'href="/profile"' in page, "the header links the signed-in name to the profile"

    saved = host.post("/profile", {"position": " Jefe de cocina ", "place": "València"})
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/profile"
    after = world.host.get("/api/users/me").get_json()
    assert (after["name"], after["email"], after["position"], after["place"]) == (
        me["name"], me["email"], "Jefe de cocina", "València")
    assert 'value="Jefe de cocina"' in host.get("/profile").get_data(as_text=True)


def test_a_refused_profile_shows_the_error_and_changes_nothing(world: World, pages: dict[str, Browser]) -> None:
    host = pages["host"]
    refused = host.post("/profile", {"position": "x" * 201, "place": "Sevilla"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="f-position-error"' in page
    assert "At most 200 characters" in page
    assert world.host.get("/api/users/me").get_json()["place"] is None
    assert host.post("/profile", {"position": "Chef"}, csrf=False).status_code == 400  # CSRF is required
    assert world.host.get("/api/users/me").get_json()["position"] is None
