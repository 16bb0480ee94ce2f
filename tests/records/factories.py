"""Partnership parties and MoU texts for tests: organisations per national model, members signed in."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.db import Database
from engine.parties import Actor
from records import national_models
from records.models import CompetenceFunction
from tests.engine.conftest import actor_for
from tests.factories import make_org, make_user

SIGNER = {"name": "Anna Schmidt", "position": "VET coordinator", "email": "anna@school.example"}


@dataclass
class Party:
    """An organisation and one member acting for it."""

    org_id: int
    actor: Actor
    user_id: int
    email: str


def make_party(db: Database, country: str, name: str | None = None) -> Party:
    traits: dict[str, Any] = {"country": country}
    if name:
        traits["name"] = name
    org = make_org(db, **traits)
    person = make_user(db, organisation_ids=[org.id])
    return Party(org.id, actor_for(db, person.id), person.id, person.email)


def register(db: Database, org_id: int, country: str, function: str = CompetenceFunction.MOU_APPROVAL) -> None:
    """Make the organisation the competent institution for `function` in `country`."""
    with db.transaction() as s:
        national_models.register_competence(s, actor=None, organisation_id=org_id, country=country,
                                            function=function)


def mou_content(*signing: Party, countries: tuple[str, ...] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete MoU text (European template fields) signed by the given parties, sending first."""
    content: dict[str, Any] = {
        "file_code": "MoU-2027-001",
        "objectives": {"mutual_acceptance": ["assessment", "validation", "recognition"],
                       "other": "Regular exchanges of cooks in training"},
        "signing_organisations": [
            {
                "organisation_id": party.org_id,
                "role": "sending" if i == 0 else "hosting",
                "country": (countries[i] if countries else None) or "DE",
                "name": f"Organisation {party.org_id}",
                "address": "Main street 1",
                "website": "https://example.org",
                "contact_person": {"name": f"Contact {i}", "position": "Coordinator", "phone": "+49 1",
                                   "email": f"contact{i}@example.org"},
            }
            for i, party in enumerate(signing)
        ],
        "other_organisations": [],
        "qualifications": [{
            "title": "Cook", "country": "DE", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
            "units": [{"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "eqf_level": 4}],
        }],
        "arrangements": {
            "assessment": {"how": "Practical task observed by the host mentor",
                           "organisation_ids": [signing[-1].org_id]},
            "documentation": {"how": "Learner's Personal Transcript", "organisation_ids": [signing[-1].org_id]},
            "validation": {"how": "Comparison with the LA", "organisation_ids": [signing[0].org_id]},
            "recognition": {"how": "Units awarded at home", "organisation_ids": [signing[0].org_id]},
        },
        "mobility_duration_weeks": {"min": 3, "max": 12},
        "valid_until": "2099-12-31",
        "evaluation_and_review": "Yearly review meeting of the partners",
    }
    for key, value in overrides.items():
        content[key] = value
    return copy.deepcopy(content)
