"""Qualifications with units and learning outcomes (ecvet/qualification/service.py), on both backends."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ecvet.partnership import mou
from ecvet.qualification import service
from ecvet.qualification.models import Qualification
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import AuditEvent
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user

UNITS: list[dict[str, Any]] = [
    {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "eqf_level": 4, "learning_outcomes": [
        {"kind": "knowledge", "text": "Knows the hygiene rules for cold food"},
        {"kind": "skills", "text": "Prepares cold starters following the recipe"},
        {"kind": "competence", "text": "Organises the station alone during service"}]},
    {"code": "U2", "title": "Hygiene and food safety", "ecvet_points": 4},
]


def test_register_keeps_units_and_outcomes_and_gives_mou_and_profile_entries(db: Database) -> None:
    chamber = make_org(db, country="DE")
    with db.transaction() as s:
        cook = service.register(s, actor=None, title="Cook", country="de", eqf_level=4, nqf_level="4",
                                       ecvet_points=180, awarding_organisation_id=chamber.id, units=UNITS)
        qualification_id = cook.id
    with db.transaction(write=False) as s:
        found = service.find(s, title=" cook ", country="DE")
        assert found is not None
        cook = found
        assert cook is not None
        assert cook.id == qualification_id
        assert [(u.code, u.ecvet_points) for u in cook.units] == [("U1", 12), ("U2", 4)]
        assert [o.kind for o in cook.units[0].outcomes] == ["knowledge", "skills", "competence"]
        entry = service.mou_entry(cook, ["U1"])
        assert entry["qualification_id"] == qualification_id
        assert entry["eqf_level"] == 4
        assert [u["code"] for u in entry["units"]] == ["U1"]
        assert entry["units"][0]["unit_id"] == cook.units[0].id
        # What the MoU template accepts: the entry is valid MoU content as it is.
        mou.check_structure(s, {"qualifications": [service.mou_entry(cook)]})
        profile = service.profile_entry(cook)
        assert profile["units"][0]["learning_outcomes"][1] == {"kind": "skills",
                                                               "text": "Prepares cold starters following the recipe"}
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "qualification.registered")) == 1


def test_invalid_qualifications_are_refused_with_errors_per_field_and_nothing_is_stored(db: Database) -> None:
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.register(s, actor=None, title=" ", country="XX", eqf_level=9, ecvet_points=-1, units=[
            {"code": "U1", "title": "", "learning_outcomes": [{"kind": "attitude", "text": ""}]},
            {"code": "U1", "title": "Again"}])
    assert set(refused.value.errors) == {
        "title", "country", "eqf_level", "ecvet_points", "units.0.title", "units.0.learning_outcomes.0.kind",
        "units.0.learning_outcomes.0.text", "units.1.code"}
    with pytest.raises(Invalid, match="not valid"), db.transaction() as s:
        service.register(s, actor=None, title="Cook", country="DE", eqf_level=4, units=[])
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(Qualification.id))) == 0


def test_only_administrators_register_and_a_title_is_registered_once_per_country(db: Database) -> None:
    member = actor_for(db, make_user(db, organisation_ids=[make_org(db).id]).id)
    admin = actor_for(db, make_user(db, is_admin=True).id)
    with pytest.raises(Forbidden), db.transaction() as s:
        service.register(s, actor=member, title="Cook", country="DE", eqf_level=4, units=UNITS)
    with db.transaction() as s:
        service.register(s, actor=admin, title="Cook", country="DE", eqf_level=4, units=UNITS)
    with pytest.raises(Conflict), db.transaction() as s:
        service.register(s, actor=admin, title="COOK", country="DE", eqf_level=4, units=UNITS)
    with db.transaction() as s:  # another country's qualification of the same name is another qualification
        service.register(s, actor=admin, title="Cook", country="NL", eqf_level=4, units=UNITS)
