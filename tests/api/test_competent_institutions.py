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


def test_the_registry_is_scoped_by_region_and_sector_and_records_supporting_actors(world: World) -> None:
    """Several institutions per function, each for its region or sector; supporting actors recorded;
    a region of another country or a free-text sector is 422."""
    valencia = make_org(world.db, name="Conselleria", country="ES")
    catalonia = make_org(world.db, name="Generalitat", country="ES")
    agency = make_org(world.db, name="SEPIE", country="ES")
    for org, region in ((valencia, "ES-VC"), (catalonia, "es-ct")):
        created = world.admin.post("/api/competent-institutions", json={
            "organisation_id": org.id, "country": "ES", "function": "mou_approval", "region": region})
        assert created.status_code == 201, created.get_json()
    assert world.admin.post("/api/competent-institutions", json={
        "organisation_id": agency.id, "country": "ES", "function": "national_agency"}).status_code == 201
    for bad in ({"region": "DE-NW"}, {"sector": "handwerk"}, {"region": "Valencia"}):
        assert_problem(world.admin.post("/api/competent-institutions", json={
            "organisation_id": valencia.id, "country": "ES", "function": "la_approval", **bad}), 422)
    listed = world.host.get("/api/competent-institutions?country=ES&region=ES-CT").get_json()
    assert sorted((r["organisation_id"], r["function"], r["region"]) for r in listed) == sorted([
        (catalonia.id, "mou_approval", "ES-CT"), (agency.id, "national_agency", None)])

    codes = world.sender.get("/api/national-models/codes").get_json()
    assert "crafts" in [s["code"] for s in codes["sectors"]]
    assert codes["supporting_functions"] == ["national_agency", "national_europass_centre"]
    decided = world.sender.get("/api/national-models/decision?country=ES&region=es-vc&sector=hospitality"
                               "&qualification_system=dual").get_json()
    assert (decided["model"], decided["region"], decided["qualification_system"]) == (
        "regional_authority", "ES-VC", "dual")
    refused = assert_problem(world.sender.get("/api/national-models/decision?country=DE&sector=handwerk"), 422)
    assert "crafts" in refused["errors"]["sector"][0]
