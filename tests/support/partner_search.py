"""A small directory for partner-search tests: a German school with the registered qualification "Cook",
a Spanish hotel and a Dutch college whose profiles offer units under other codes and words, and a
Spanish school in another sector; all through the records' own services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecvet.partnership import profiles
from ecvet.partnership.models import Partnership
from ecvet.qualification import service as qualifications
from engine.db import Database
from tests.support.ecvet_factories import Party, make_party

COOK_UNITS = [
    {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "learning_outcomes": [
        {"kind": "skills", "text": "Prepares cold starters and salads following the recipe"}]},
    {"code": "U2", "title": "Kitchen hygiene", "ecvet_points": 4, "learning_outcomes": [
        {"kind": "knowledge", "text": "Knows the hygiene rules and keeps the temperature logs"}]},
    {"code": "U3", "title": "Patisserie", "ecvet_points": 8, "learning_outcomes": [
        {"kind": "skills", "text": "Bakes tarts and choux pastry"}]},
]


@dataclass
class Directory:
    school: Party
    hotel: Party
    college: Party
    other: Party
    cook_id: int


def offer(party: Party, country: str, title: str, sector: str, units: list[dict[str, Any]]) -> dict[str, Any]:
    return {"organisation": {"name": f"Organisation {party.org_id}", "country": country, "type": "Training company",
                             "website": "https://partner.example",
                             "contact_person": {"name": "Private Person", "email": party.email}},
            "qualifications_offered": [{"title": title, "eqf_level": 4, "sector": sector, "units": units}],
            "vet_system": "Described for partners."}


def make_directory(db: Database) -> Directory:
    school = make_party(db, "DE", "Berufskolleg Rhein")
    hotel = make_party(db, "ES", "Hotel Sol de Valencia", region="ES-VC")
    college = make_party(db, "NL", "Horeca College Amstel")
    other = make_party(db, "ES", "Escuela de Mecánica")
    hotel_units: list[dict[str, Any]] = [
        {"code": "C-01", "title": "Cold dishes and salads", "ecvet_points": 10, "learning_outcomes": [
            {"kind": "skills", "text": "Prepares cold starters and salads to the hotel's recipe"}]},
        {"code": "C-02", "title": "Hygiene in the kitchen", "learning_outcomes": [
            {"kind": "knowledge", "text": "Keeps the temperature logs and applies HACCP"}]},
        {"code": "C-09", "title": "Room service", "learning_outcomes": []},
    ]
    contents = [
        (hotel, offer(hotel, "ES", "Técnico en Cocina y Gastronomía (cook)", "hospitality", hotel_units)),
        (college, offer(college, "NL", "Kok (cook)", "hospitality", [
            {"code": "U2", "title": "Keukenhygiëne", "learning_outcomes": []}])),
        (other, offer(other, "ES", "Técnico en Electromecánica", "industry", [
            {"code": "M-1", "title": "Engines", "learning_outcomes": []}])),
    ]
    with db.transaction() as s:
        cook = qualifications.register(s, actor=None, title="Cook", country="DE", eqf_level=4, units=COOK_UNITS)
        cook_id = cook.id
        for party, content in contents:
            partnership = Partnership(sending_organisation_id=school.org_id, hosting_organisation_id=party.org_id)
            s.add(partnership)
            s.flush()
            profiles.save(s, actor=party.actor, partnership=partnership, organisation_id=party.org_id,
                          content=content)
    return Directory(school, hotel, college, other, cook_id)
