"""Recognised units as European Learning Model credentials (ecvet/mobility/credentials.py): one per unit,
with ECVET points, EQF level, learning outcomes, awarding body and the activity abroad; checked against
the ELM schema of the fields used; for the learner's parties only."""
from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from ecvet.mobility import credentials
from ecvet.mobility.models import Mobility
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import NotFound
from tests.support.ecvet_worlds import CZECH_SCHOOL, DANISH_HOTEL, LIFECYCLE_LEARNER, make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def test_each_recognised_unit_is_an_elm_credential(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        issued = credentials.for_learner(s, actor=life.learner, learner_id=learner_id)
    assert [c["credentialSubject"]["hasClaim"][0]["title"]["en"] for c in issued] == [
        "U1 Preparing cold dishes", "U2 Hygiene"]
    first = issued[0]
    assert credentials.problems(first) == []
    assert first["@context"] == credentials.CONTEXT
    assert first["credentialSubject"]["fullName"] == {"en": LIFECYCLE_LEARNER}
    claim = first["credentialSubject"]["hasClaim"][0]
    spec = claim["specifiedBy"]
    assert spec["creditPoint"][0]["point"] == "12"
    assert spec["eqfLevel"] == "http://data.europa.eu/snb/eqf/4"
    assert spec["learningOutcome"][0]["title"] == {"en": "Prepares cold starters to recipe"}
    assert claim["awardedBy"]["awardingBody"][0]["legalName"] == {"en": CZECH_SCHOOL}
    activity = claim["wasInfluencedBy"][0]
    assert activity["directedBy"][0]["legalName"] == {"en": DANISH_HOTEL}
    assert activity["temporal"] == {"type": "PeriodOfTime", "startDate": "2027-03-01", "endDate": "2027-04-08"}
    assert issued[1]["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"][0]["point"] == "2"


def test_the_schema_catches_a_credential_without_points_or_learner(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        good = credentials.for_learner(s, actor=life.sending.actor, learner_id=learner_id)[0]
    broken = copy.deepcopy(good)
    del broken["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"]
    broken["credentialSubject"]["hasClaim"][0]["specifiedBy"]["eqfLevel"] = "level four"
    del broken["credentialSubject"]["fullName"]
    found = credentials.problems(broken)
    assert any("creditPoint" in p for p in found)
    assert any("eqfLevel" in p for p in found)
    assert any("fullName" in p for p in found)


def test_credentials_only_for_the_learners_parties(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        with pytest.raises(NotFound):
            credentials.for_learner(s, actor=life.outsider.actor, learner_id=learner_id)
