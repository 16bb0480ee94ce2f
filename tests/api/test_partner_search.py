"""/api/partner-search: filters as query parameters, problems for bad codes, and the comparison."""
from __future__ import annotations

from flask import Flask

from engine.db import Database
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.support.ecvet_factories import Party
from tests.support.factories import PASSWORD, Person
from tests.support.partner_search import make_directory


def caller(app: Flask, party: Party) -> Caller:
    return sign_in(app.test_client(), Person(party.actor.user_id, party.actor.email, PASSWORD))


def test_search_and_compare_over_http(app: Flask, db: Database) -> None:
    directory = make_directory(db)
    school = caller(app, directory.school)
    found = school.get("/api/partner-search?country=ES&sector=hospitality&unit=salads").get_json()["results"]
    assert [(m["name"], m["matched_units"]) for m in found] == [("Hotel Sol de Valencia",
                                                                ["C-01 Cold dishes and salads"])]
    compared = school.get(f"/api/partner-search/{directory.hotel.org_id}/comparison"
                          f"?qualification_id={directory.cook_id}").get_json()
    assert [p["match"] for p in compared["pairs"]] == ["similar", "similar", "not_offered"]
    assert_problem(school.get("/api/partner-search?sector=handwerk"), 422)
    assert_problem(school.get("/api/partner-search?country=Spain"), 422)
    assert_problem(school.get(f"/api/partner-search/{directory.hotel.org_id}/comparison"), 422)
    assert_problem(school.get("/api/partner-search/999999/comparison?qualification_id=999999"), 404)
    assert_problem(school.client.get("/api/partner-search"), 401)
