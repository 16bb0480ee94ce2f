"""/profile: who you sign as (shown, not editable) and the position and place signing forms start with."""
from __future__ import annotations

import io

from flask import Flask

from tests.api.conftest import World
from tests.api.web.conftest import Browser
from tests.support import images


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


def test_a_member_saves_the_letterhead_and_a_hostile_logo_is_refused(world: World, pages: dict[str, Browser]) -> None:
    sender = pages["sender"]
    page = sender.get("/profile").get_data(as_text=True)
    assert f'id="letterhead-{world.sending_org}"' in page
    name = world.sender.get(f"/api/organisations/{world.sending_org}").get_json()["name"]
    assert f"Letterhead of {name}" in page
    saved = sender.post(f"/profile/letterhead/{world.sending_org}",
                        {"address": "Rheinallee 1\n50667 Köln", "logo": (io.BytesIO(images.png(60, 20)), "logo.png")},
                        content_type="multipart/form-data")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = sender.get("/profile").get_data(as_text=True)
    assert "Rheinallee 1" in page
    logo = sender.get(f"/profile/letterhead/{world.sending_org}/logo.png")
    assert (logo.status_code, logo.mimetype) == (200, "image/png")
    refused = sender.post(f"/profile/letterhead/{world.sending_org}",
                          {"address": "Elsewhere", "logo": (io.BytesIO(images.SVG_WITH_SCRIPT), "logo.png")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "SVG" in refused.get_data(as_text=True)
    assert world.sender.get(f"/api/organisations/{world.sending_org}/letterhead").get_json()["address"] == (
        "Rheinallee 1\n50667 Köln")
    outsider = pages["outsider"]
    assert outsider.post(f"/profile/letterhead/{world.sending_org}", {"address": "x"},
                         content_type="multipart/form-data").status_code == 403
    assert outsider.get(f"/profile/letterhead/{world.sending_org}/logo.png").status_code == 404
