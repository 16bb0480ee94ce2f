"""/api/organisations and members: validation of identifiers, admin-only changes, member-only reads."""
from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from tests.api.conftest import Caller, World, assert_problem, sign_in
from tests.support import images
from tests.support.factories import make_user

HOTEL = {"name": "Hotel Sol", "country": "es", "erasmus_oid": "E10234567", "pic": "912345678"}



def create(caller: Caller, **fields: Any) -> Any:
    return caller.post("/api/organisations", json=fields)


def all_ids(caller: Caller) -> list[int]:
    response = caller.get("/api/organisations", query_string={"limit": "200"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["next_cursor"] is None
    return [o["id"] for o in response.get_json()["items"]]


def test_admin_creates_an_organisation(world: World) -> None:
    response = create(world.admin, **HOTEL)
    assert response.status_code == 201, response.get_json()
    org = response.get_json()
    assert org["name"] == "Hotel Sol"
    assert org["country"] == "ES"  # normalised to upper case
    assert (org["erasmus_oid"], org["pic"]) == ("E10234567", "912345678")
    assert isinstance(org["id"], int)
    assert org["created_at"]

    fetched = world.admin.get(f"/api/organisations/{org['id']}")
    assert fetched.status_code == 200
    assert fetched.get_json() == org
    assert org["id"] in all_ids(world.admin)


def test_identifiers_are_optional(world: World) -> None:
    response = create(world.admin, name="Lycée Jean Moulin", country="FR")
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["erasmus_oid"], response.get_json()["pic"]) == (None, None)
    # two organisations without identifiers do not collide on the unique columns
    assert create(world.admin, name="Second", country="FR").status_code == 201


def test_invalid_identifiers_get_422_per_field(world: World) -> None:
    before = all_ids(world.admin)
    response = create(world.admin, name="Bad", country="XX", erasmus_oid="E1234", pic="12345678X")
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"country", "erasmus_oid", "pic"}
    assert "ISO 3166-1" in body["errors"]["country"][0]
    assert all(isinstance(m, str) for messages in body["errors"].values() for m in messages)
    assert all_ids(world.admin) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "DEU"),          # alpha-3 is not alpha-2
        ("country", "EU"),           # not a country
        ("country", ""),
        ("erasmus_oid", "e12345678"),
        ("erasmus_oid", "E123456789"),
        ("erasmus_oid", "12345678"),
        ("pic", "99999999"),
        ("pic", "9999999999"),
        ("pic", "abcdefghi"),
    ],
)
def test_each_bad_identifier_is_refused(world: World, field: str, value: str) -> None:
    body = assert_problem(create(world.admin, **{**HOTEL, field: value}), 422)
    assert list(body["errors"]) == [field]


def test_missing_or_empty_fields_are_refused_by_the_schema(world: World) -> None:
    body = assert_problem(create(world.admin), 422)
    assert set(body["errors"]) == {"name", "country"}
    body = assert_problem(create(world.admin, name="", country="DE"), 422)
    assert list(body["errors"]) == ["name"]
    body = assert_problem(create(world.admin, name="x" * 201, country="DE"), 422)
    assert list(body["errors"]) == ["name"]
    body = assert_problem(create(world.admin, name="Ok", country="DE", id=5), 422)
    assert "id" in body["errors"]


def test_duplicate_oid_or_pic_is_a_conflict(world: World) -> None:
    assert create(world.admin, **HOTEL).status_code == 201
    before = all_ids(world.admin)
    body = assert_problem(create(world.admin, **{**HOTEL, "name": "Copy", "pic": None}), 409)
    assert "OID" in body["detail"]
    assert_problem(create(world.admin, **{**HOTEL, "name": "Copy", "erasmus_oid": None}), 409)
    assert all_ids(world.admin) == before
    # the failed attempts left the database usable
    assert create(world.admin, name="Other", country="IT", erasmus_oid="E99999999").status_code == 201


def test_non_admin_cannot_create(world: World) -> None:
    before = all_ids(world.admin)
    body = assert_problem(create(world.sender, **HOTEL), 403)
    assert "administrator" in body["detail"]
    assert all_ids(world.admin) == before


def test_member_lists_and_reads_only_own_organisations(world: World) -> None:
    create(world.admin, **HOTEL)
    assert all_ids(world.sender) == [world.sending_org]
    assert all_ids(world.host) == [world.hosting_org]
    assert len(all_ids(world.admin)) == 4

    assert world.sender.get(f"/api/organisations/{world.sending_org}").status_code == 200
    body = assert_problem(world.sender.get(f"/api/organisations/{world.hosting_org}"), 404)
    # another party's organisation looks exactly like one that does not exist
    missing = assert_problem(world.sender.get("/api/organisations/987654"), 404)
    assert body.keys() == missing.keys()
    assert_problem(world.admin.get("/api/organisations/987654"), 404)

    lonely = sign_in(world.client, make_user(world.db))
    page = lonely.get("/api/organisations").get_json()
    assert page == {"items": [], "next_cursor": None}


def test_admin_adds_lists_and_removes_members(world: World) -> None:
    org = create(world.admin, **HOTEL).get_json()
    person = make_user(world.db, email="mentor@hotelsol.example")
    mentor = sign_in(world.client, person)
    assert all_ids(mentor) == []
    members_url = f"/api/organisations/{org['id']}/members"

    added = world.admin.post(members_url, json={"user_id": person.id})
    assert added.status_code == 201, added.get_json()
    assert added.get_json() == {"id": person.id, "email": "mentor@hotelsol.example", "name": "mentor"}
    # adding again is idempotent
    assert world.admin.post(members_url, json={"user_id": person.id}).status_code in (200, 201)

    listed = world.admin.get(members_url)
    assert listed.status_code == 200
    assert [m["id"] for m in listed.get_json()] == [person.id]
    for member in listed.get_json():
        assert "password" not in member
        assert "password_hash" not in member

    # the new member sees the organisation at once, with the same token
    assert all_ids(mentor) == [org["id"]]
    assert mentor.get(f"/api/organisations/{org['id']}").status_code == 200
    assert [m["id"] for m in mentor.get(members_url).get_json()] == [person.id]

    removed = world.admin.delete(f"{members_url}/{person.id}")
    assert removed.status_code == 204
    assert removed.data == b""
    assert world.admin.get(members_url).get_json() == []
    assert all_ids(mentor) == []
    assert_problem(mentor.get(f"/api/organisations/{org['id']}"), 404)
    assert_problem(world.admin.delete(f"{members_url}/{person.id}"), 404)


def test_member_management_errors(world: World) -> None:
    members_url = f"/api/organisations/{world.sending_org}/members"
    body = assert_problem(world.admin.post(members_url, json={"user_id": 987654}), 422)
    assert "user_id" in body["errors"]
    assert list(assert_problem(world.admin.post(members_url, json={}), 422)["errors"]) == ["user_id"]
    assert_problem(world.admin.post("/api/organisations/987654/members", json={"user_id": world.host.person.id}), 404)
    assert_problem(world.admin.get("/api/organisations/987654/members"), 404)

    # non-admins: cannot change membership, may read their own organisation's members only
    assert_problem(world.sender.post(members_url, json={"user_id": world.outsider.person.id}), 403)
    assert_problem(world.sender.delete(f"{members_url}/{world.sender.person.id}"), 403)
    assert [m["id"] for m in world.sender.get(members_url).get_json()] == [world.sender.person.id]
    assert_problem(world.host.get(members_url), 404)
    assert [m["id"] for m in world.admin.get(members_url).get_json()] == [world.sender.person.id]


def test_pagination_with_limit_1_walks_every_organisation_once(world: World) -> None:
    for n in range(3):
        assert create(world.admin, name=f"Extra {n}", country="PT").status_code == 201
    expected = all_ids(world.admin)
    assert len(expected) == 6

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        response = world.admin.get("/api/organisations", query_string=params)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) == 1
        seen.extend(o["id"] for o in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert pages <= len(expected)
    assert seen == expected
    assert pages == len(expected)


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "many"}, {"cursor": "%%%"}])
def test_bad_paging_arguments_are_422(world: World, params: dict[str, str]) -> None:
    assert_problem(world.admin.get("/api/organisations", query_string=params), 422)


def test_an_organisation_has_a_region_of_its_own_country(world: World) -> None:
    response = create(world.admin, name="CIPFP Valencia", country="ES", region="es-vc")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["region"] == "ES-VC"
    assert create(world.admin, name="NUTS", country="ES", region="ES52").get_json()["region"] == "ES52"
    for region in ("DE-NW", "ES-XX", "Valencia"):
        body = assert_problem(create(world.admin, name="Wrong", country="ES", region=region), 422)
        assert "region" in body["errors"]


def test_public_keys_are_open_to_anyone(app: Flask, world: World) -> None:
    anyone = app.test_client()
    response = anyone.get(f"/api/organisations/{world.sending_org}/keys")
    assert response.status_code == 200
    assert response.get_json() == {"keys": []}  # made when the organisation signs its first credential
    assert_problem(anyone.get("/api/organisations/999999/keys"), 404)


# --- the letterhead (PUT/GET /api/organisations/{id}/letterhead, GET .../letterhead/logo) ---------------------


def put_letterhead(caller: Caller, org_id: int, logo: bytes | None, address: str = "Rheinallee 1\n50667 Köln") -> Any:
    data: dict[str, Any] = {"address": address}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo), "logo.png")
    return caller.put(f"/api/organisations/{org_id}/letterhead", data=data, content_type="multipart/form-data")


def test_a_member_saves_the_letterhead_and_reads_the_re_encoded_logo(world: World) -> None:
    saved = put_letterhead(world.sender, world.sending_org, images.png(90, 30, text={"x": "<script>"}))
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert (body["address"], body["has_logo"], body["logo_width"]) == ("Rheinallee 1\n50667 Köln", True, 90)
    logo = world.sender.get(f"/api/organisations/{world.sending_org}/letterhead/logo")
    assert (logo.mimetype, logo.headers["X-Content-Type-Options"]) == ("image/png", "nosniff")
    assert b"script" not in logo.data
    assert_problem(world.outsider.get(f"/api/organisations/{world.sending_org}/letterhead"), 404)
    assert_problem(put_letterhead(world.outsider, world.sending_org, None), 403)


@pytest.mark.parametrize(("upload", "said"), [
    (b"%PDF-1.4 not an image", "PNG or JPEG"),
    (images.SVG_WITH_SCRIPT, "SVG"),
    (images.png() + b"\0" * (600 * 1024), "KB"),
    (images.png_claiming(4000, 4000), "pixels"),
    (images.png_header_then_html(), "readable"),
], ids=["non-image", "svg-with-script", "huge-file", "huge-dimensions", "polyglot"])
def test_hostile_logos_get_422_and_nothing_is_saved(world: World, upload: bytes, said: str) -> None:
    problem = assert_problem(put_letterhead(world.sender, world.sending_org, upload), 422)
    assert said in " ".join(problem["errors"]["logo"])
    assert world.sender.get(f"/api/organisations/{world.sending_org}/letterhead").get_json()["saved_at"] is None
    assert_problem(world.sender.get(f"/api/organisations/{world.sending_org}/letterhead/logo"), 404)
