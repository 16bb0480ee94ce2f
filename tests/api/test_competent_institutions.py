"""/api/competent-institutions: admins keep the registry, every signed-in user reads it."""
from __future__ import annotations

from tests.api.conftest import World, assert_problem
from tests.support.factories import make_org


def test_admins_register_competent_institutions(world: World) -> None:
    """The registry the national models rely on (which organisation approves or recognises where) is kept
    over HTTP by admins; refusals change nothing; every signed-in user reads it."""
    chamber = make_org(world.db, name="IHK Köln", country="DE")
    body = {"organisation_id": chamber.id, "country": "de", "function": "mou_approval", "notes": "Crafts too"}
    bad_org = {**body, "organisation_id": 999999}
    for caller, payload, status in ((world.sender, body, 403), (world.admin, {**body, "function": "x"}, 422),
                                    (world.admin, {**body, "country": "DEU"}, 422), (world.admin, bad_org, 422)):
        assert_problem(caller.post("/api/competent-institutions", json=payload), status)
    assert_problem(world.client.post("/api/competent-institutions", json=body), 401)
    assert world.sender.get("/api/competent-institutions").get_json() == []
    created = world.admin.post("/api/competent-institutions", json=body)
    assert created.status_code == 201, created.get_json()
    row = created.get_json()
    assert (row["organisation_id"], row["country"], row["function"], row["notes"]) == (
        chamber.id, "DE", "mou_approval", "Crafts too")
    assert_problem(world.admin.post("/api/competent-institutions", json=body), 409)
    assert world.admin.post("/api/competent-institutions", json={**body, "function": "recognition"}).status_code == 201
    listed = world.host.get("/api/competent-institutions?country=DE").get_json()
    assert [(r["organisation_id"], r["function"]) for r in listed] == [(chamber.id, "mou_approval"),
                                                                       (chamber.id, "recognition")]
    assert world.host.get("/api/competent-institutions?function=recognition").get_json()[0]["id"] != row["id"]
    assert world.host.get("/api/competent-institutions?country=ES").get_json() == []
