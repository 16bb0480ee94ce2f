"""Organisations and people (engine/parties.py): the organisation directory used to choose partners."""
from __future__ import annotations

import pytest

from engine import parties
from engine.db import Database
from engine.errors import Invalid
from engine.parties import Actor
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user


def test_directory_lists_every_organisation_by_country_and_name_for_any_member(db: Database,
                                                                                member: tuple[Actor, int]) -> None:
    actor, own = member
    hotel = make_org(db, name="Hotel Sol", country="ES")
    school = make_org(db, name="Horeca College", country="NL")
    chamber = make_org(db, name="Chamber", country="DE")
    outsider = actor_for(db, make_user(db).id)  # signed in, member of nothing
    with db.transaction(write=False) as s:
        listed = [(o.country, o.id) for o in parties.directory(s, actor=actor)]
        assert {own, hotel.id, school.id, chamber.id} <= {i for _, i in listed}
        assert listed == sorted(listed, key=lambda pair: pair[0])  # grouped by country
        assert [o.id for o in parties.directory(s, actor=outsider)] == [i for _, i in listed]
        # list_organisations stays what it was: a member sees only their own organisations.
        assert [o.id for o in parties.list_organisations(s, actor=actor, cursor=None, limit=50).items] == [own]


def test_an_organisation_region_is_a_subdivision_or_nuts_code_of_its_country(db: Database) -> None:
    assert parties.region_problem("ES", "ES-VC") is None
    assert parties.region_problem("GR", "EL30") is None, "NUTS writes Greece EL"
    assert "not of ES" in (parties.region_problem("ES", "FR-IDF") or "")
    with db.transaction() as s:
        org = parties.create_organisation(s, actor=None, name="CIPFP", country="es", region=" es-vc ")
        assert (org.country, org.region) == ("ES", "ES-VC")
        with pytest.raises(Invalid) as refused:
            parties.create_organisation(s, actor=None, name="Wrong", country="ES", region="DE-NW")
        assert set(refused.value.errors) == {"region"}
