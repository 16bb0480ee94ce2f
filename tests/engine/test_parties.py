"""Organisations and people (engine/parties.py): the organisation directory used to choose partners."""
from __future__ import annotations

from engine import parties
from engine.db import Database
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
