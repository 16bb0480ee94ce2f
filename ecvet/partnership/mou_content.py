"""The text of a MoU version: the European MoU template's fields as JSON Schema (structure only).

Every field is part of the content partners approve (its SHA-256), so what the document prints is what
was approved: each organisation with its telephone, Erasmus+ OID and PIC and the statement of its area
of competence in its country; the other organisations covered with their duties; the units concerned
with their description and learning outcomes.
"""
from __future__ import annotations

from typing import Any

from ecvet.national_models import codes
from ecvet.qualification.models import LEARNING_OUTCOME_SCHEMA

_TEXT = {"type": "string", "maxLength": 10_000}
_SHORT = {"type": "string", "maxLength": 300}
_IDS = {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True}
_CONTACT = {
    "type": "object",
    "properties": {"name": _SHORT, "position": _SHORT, "phone": _SHORT, "email": _SHORT},
}
_ORGANISATION_FIELDS: dict[str, Any] = {
    "organisation_id": {"type": "integer", "minimum": 1},
    "role": {"type": "string", "maxLength": 100,
             "description": "sending, hosting or both (required when more than two organisations sign)"},
    "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "name": _SHORT,
    "address": _TEXT,
    "website": _SHORT,
    "phone": {**_SHORT, "description": "the organisation's telephone"},
    "erasmus_oid": {"type": "string", "pattern": "^E[0-9]{8}$", "description": "Erasmus+ organisation ID"},
    "pic": {"type": "string", "pattern": "^[0-9]{9}$", "description": "Participant Identification Code"},
    "competence": {**_TEXT, "description": "its area of competence in its country (the functions it holds "
                                               "for qualifications, assessment, validation, recognition)"},
    "contact_person": _CONTACT,
}
_ORGANISATION = {"type": "object", "properties": _ORGANISATION_FIELDS}
#: An organisation the MoU covers that does not sign it, with what it does under the MoU.
_OTHER_ORGANISATION = {"type": "object", "properties": {**_ORGANISATION_FIELDS, "duties": _TEXT}}
_UNIT = {
    "type": "object",
    "properties": {
        "unit_id": {"type": "integer", "minimum": 1},
        "code": _SHORT,
        "title": _SHORT,
        "ecvet_points": {"type": "number", "minimum": 0},
        "eqf_level": {"type": "integer", "minimum": 1, "maximum": 8},
        "description": _TEXT,
        "learning_outcomes": {"type": "array", "items": LEARNING_OUTCOME_SCHEMA},
    },
}
_QUALIFICATION = {
    "type": "object",
    "properties": {
        "qualification_id": {"type": "integer", "minimum": 1},
        "title": _SHORT,
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "eqf_level": {"type": "integer", "minimum": 1, "maximum": 8},
        "nqf_level": {"type": "string", "maxLength": 20},
        "ecvet_points": {"type": "number", "minimum": 0},
        "units": {"type": "array", "items": _UNIT},
    },
}
_ARRANGEMENT = {
    "type": "object",
    "properties": {
        "how": _TEXT,
        "organisation_ids": {**_IDS, "description": "who does it"},
    },
}
ARRANGEMENTS = ("assessment", "documentation", "validation", "recognition")

#: The MoU template (European template; the content of one version). Structure is checked on every
#: save; completeness (see :data:`REQUIRED_FIELDS`) only when the MoU is put up for approval.
CONTENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Memorandum of Understanding (ECVET)",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file_code": _SHORT,
        "sector": {"enum": list(codes.sector_codes()),
                   "description": "a sector code (ecvet/national_models/data/sectors.csv); selects the national "
                                  "model's sector rows and the registry's sector-specific institutions"},
        "qualification_system": {"enum": list(codes.qualification_system_codes()),
                                 "description": "dual, school_based, ...: an input of the national model"},
        "objectives": {
            "type": "object",
            "properties": {
                "mutual_acceptance": {
                    "type": "array",
                    "items": {"enum": ["quality_assurance", "assessment", "validation", "recognition"]},
                    "uniqueItems": True,
                },
                "other": _TEXT,
            },
        },
        "signing_organisations": {"type": "array", "items": _ORGANISATION},
        "other_organisations": {"type": "array", "items": _OTHER_ORGANISATION},
        "competent_institutions": {
            "type": "array",
            "description": "competent institutions named for the countries whose national model requires one "
                           "(the first named per country), and further ones: each approves the MoU",
            "items": {"type": "object", "properties": {"organisation_id": {"type": "integer", "minimum": 1}},
                      "required": ["organisation_id"]},
        },
        "qualifications": {"type": "array", "items": _QUALIFICATION},
        "arrangements": {"type": "object", "properties": {name: _ARRANGEMENT for name in ARRANGEMENTS}},
        "mobility_duration_weeks": {
            "type": "object",
            "properties": {"min": {"type": "integer", "minimum": 1}, "max": {"type": "integer", "minimum": 1}},
        },
        "valid_until": {"type": "string", "description": "ISO date (YYYY-MM-DD)"},
        "evaluation_and_review": _TEXT,
    },
}

