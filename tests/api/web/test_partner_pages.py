"""/partners and /partners/<id>/comparison: the search form, its results, problems for bad codes, the comparison."""
from __future__ import annotations

from flask import Flask

from engine.db import Database
from tests.api.web.conftest import browser_for
from tests.support.ecvet_factories import Party
from tests.support.factories import PASSWORD, Person
from tests.support.partner_search import make_directory


def member(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def test_search_then_compare_in_the_browser(app: Flask, db: Database) -> None:
    directory = make_directory(db)
    school = browser_for(app, member(directory.school))
    page = school.get("/partners").get_data(as_text=True)
    assert 'href="/partners"' in page  # in the navigation
    found = school.get("/partners?country=es&sector=hospitality&unit=salads")
    html = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "Hotel Sol de Valencia" in html
    assert "Escuela de Mecánica" not in html
    assert "C-01 Cold dishes and salads" in html
    assert "Private Person" not in html
    link = f"/partners/{directory.hotel.org_id}/comparison?qualification_id={directory.cook_id}"
    assert link in html.replace("&amp;", "&")
    compared = school.get(link).get_data(as_text=True)
    assert "Cold dishes and salads" in compared
    assert "not offered" in compared
    assert "Room service" in compared  # what the host offers besides
    assert school.get("/partners?sector=handwerk").status_code == 422
    assert school.get(f"/partners/999999/comparison?qualification_id={directory.cook_id}").status_code == 404
