"""Partner search (ecvet/partnership/search.py): filters by country, sector, qualification and unit over
the newest profiles, without anyone's contact person; the comparison pairs home units with the host's."""
from __future__ import annotations

import pytest

from ecvet.partnership import search
from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from engine.parties import Actor
from tests.support.partner_search import Directory, make_directory


@pytest.fixture
def directory(db: Database) -> Directory:
    return make_directory(db)


def names(db: Database, directory: Directory, **filters: str) -> list[str]:
    with db.transaction(write=False) as s:
        return [m["name"] for m in search.search(s, actor=directory.school.actor, **filters)]


def test_each_filter_narrows_the_partners(db: Database, directory: Directory) -> None:
    assert names(db, directory, country="ES") == ["Escuela de Mecánica", "Hotel Sol de Valencia"]
    assert names(db, directory, sector="hospitality") == ["Horeca College Amstel", "Hotel Sol de Valencia"]
    assert names(db, directory, country="ES", sector="hospitality") == ["Hotel Sol de Valencia"]
    assert names(db, directory, qualification="cook") == ["Horeca College Amstel", "Hotel Sol de Valencia"]
    assert names(db, directory, unit="haccp") == ["Hotel Sol de Valencia"]  # words of a learning outcome
    assert names(db, directory, unit="U2") == ["Horeca College Amstel"]  # a unit code
    assert names(db, directory, sector="industry", unit="salads") == []


def test_results_never_show_contact_persons_or_the_searchers_own(db: Database, directory: Directory) -> None:
    with db.transaction(write=False) as s:
        found = search.search(s, actor=directory.school.actor, unit="salads")
    assert [m["name"] for m in found] == ["Hotel Sol de Valencia"]
    assert found[0]["matched_units"] == ["C-01 Cold dishes and salads"]
    assert "Private Person" not in repr(found)
    assert directory.hotel.email not in repr(found)
    assert "Berufskolleg Rhein" not in names(db, directory)


@pytest.mark.parametrize(("filters", "field"), [({"country": "es"}, "country"), ({"country": "XX"}, "country"),
                                                    ({"sector": "handwerk"}, "sector")])
def test_unknown_codes_are_refused(db: Database, directory: Directory, filters: dict[str, str], field: str) -> None:
    with db.transaction(write=False) as s, pytest.raises(Invalid) as error:
        search.search(s, actor=directory.school.actor, **filters)
    assert field in (error.value.errors or {})


def test_the_comparison_pairs_home_units_with_the_hosts(db: Database, directory: Directory) -> None:
    with db.transaction(write=False) as s:
        compared = search.compare(s, actor=directory.school.actor, organisation_id=directory.hotel.org_id,
                                  qualification_id=directory.cook_id)
    assert compared["host_qualification"] == "Técnico en Cocina y Gastronomía (cook)"
    pairs = {p["home"]["code"]: (p["match"], p["host"]["code"] if p["host"] else None) for p in compared["pairs"]}
    assert pairs == {"U1": ("similar", "C-01"), "U2": ("similar", "C-02"), "U3": ("not_offered", None)}
    assert [u["code"] for u in compared["host_only"]] == ["C-09"]
    assert (compared["covered_units"], compared["covered_ecvet_points"], compared["total_ecvet_points"]) == (
        2, 16, 24)
    with db.transaction(write=False) as s:
        college = search.compare(s, actor=directory.school.actor, organisation_id=directory.college.org_id,
                                 qualification_id=directory.cook_id)
    assert [(p["home"]["code"], p["match"]) for p in college["pairs"]] == [
        ("U1", "not_offered"), ("U2", "same_code"), ("U3", "not_offered")]
    with db.transaction(write=False) as s, pytest.raises(NotFound):
        search.compare(s, actor=directory.school.actor, organisation_id=999999, qualification_id=directory.cook_id)


def test_a_person_of_no_organisation_cannot_search_or_compare(db: Database, directory: Directory) -> None:
    """A learner has no partners to find: the directory is for organisations (and administrators)."""
    learner = Actor(0, "learner@example.org", False, frozenset())
    with db.transaction(write=False) as s, pytest.raises(Forbidden):
        search.search(s, actor=learner, country="ES")
    with db.transaction(write=False) as s, pytest.raises(Forbidden):
        search.compare(s, actor=learner, organisation_id=directory.hotel.org_id, qualification_id=directory.cook_id)
