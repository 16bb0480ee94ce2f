"""The text of a Learning Agreement version: the fields of the official templates as JSON, checked.

Every field below is part of the content that parties sign (its SHA-256), so what the document prints
is what was signed. The fields follow the Erasmus+ ECVET Learning Agreement (June 2014) and the
Erasmus+ 2021-27 VET Learning Agreement (Mobility ID, project code, contact persons of both
organisations, learning outcomes per unit, the people responsible for validation and recognition).

Learning outcomes are required per unit: a unit the text leaves without any takes those the MoU lists
for it, or else those of the qualification's unit the MoU refers to; a unit with none anywhere is
refused (422), so nobody signs a unit without knowing what is to be learnt.
"""
from __future__ import annotations

import copy
from typing import Any

from jsonschema.validators import Draft202012Validator
from sqlalchemy.orm import Session

from ecvet.mobility import service
from ecvet.mobility.models import Mobility
from ecvet.qualification import service as qualification_service
from ecvet.qualification.models import LEARNING_OUTCOME_SCHEMA, Unit
from engine.errors import Invalid

_TEXT = {"type": "string", "maxLength": 10_000}
_SHORT = {"type": "string", "maxLength": 300}
LEARNING_OUTCOME = LEARNING_OUTCOME_SCHEMA
_UNIT = {
    "type": "object",
    "required": ["code"],
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 50},
        "title": _SHORT,
        "ecvet_points": {"type": "number", "minimum": 0},
        "learning_outcomes": {"type": "array", "items": LEARNING_OUTCOME},
        "parts": {"type": "array", "items": _TEXT,
                  "description": "parts of the unit / groups of learning outcomes achieved abroad"},
        "learning_activities": {
            "type": "object",
            "properties": {"location": _SHORT, "tasks": _TEXT},
        },
    },
}
_ASSESSOR = {"type": "object", "properties": {"name": _SHORT, "organisation": _SHORT, "role": _SHORT}}
CONTACT = {"type": "object", "properties": {"name": _SHORT, "position": _SHORT, "phone": _SHORT, "email": _SHORT}}
GENDERS = ("female", "male", "diverse", "not_stated")
RESPONSIBLE_FUNCTIONS = ("validation", "recognition", "validation_and_recognition")
_RESPONSIBLE = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 300}, "organisation": _SHORT,
                   "role": _SHORT, "function": {"enum": list(RESPONSIBLE_FUNCTIONS)}},
}

#: What version content holds. Units are required (they are what the learner is to achieve abroad),
#: each with its learning outcomes; the rest is checked for structure only.
CONTENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Learning Agreement (ECVET)",
    "type": "object",
    "additionalProperties": False,
    "required": ["units"],
    "properties": {
        "mobility_identifier": {**_SHORT, "description": "Erasmus+ Mobility ID (Beneficiary Module)"},
        "project_code": {**_SHORT, "description": "Erasmus+ project code (grant agreement number)"},
        "learner_contact": {
            "type": "object",
            "description": "the learner's contact as the agreement states it",
            "properties": {"gender": {"enum": list(GENDERS)}, "address": _TEXT, "phone": _SHORT},
        },
        "contact_persons": {"type": "object", "properties": {"sending": CONTACT, "hosting": CONTACT}},
        "qualification_details": {
            "type": "object",
            "properties": {"nqf_level": {"type": "string", "maxLength": 20},
                           "title_in_partnership_language": _SHORT,
                           "partnership_language": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"}},
        },
        "units": {"type": "array", "items": _UNIT, "minItems": 1},
        "assessment": {
            "type": "object",
            "properties": {
                "assessors": {"type": "array", "items": _ASSESSOR},
                "method": _TEXT,
                "criteria": _TEXT,
                "when": _SHORT,
                "where": _SHORT,
                "documentation": _TEXT,
            },
        },
        "validation_and_recognition": {
            "type": "object",
            "properties": {"who": _SHORT, "how": _TEXT, "effect": _TEXT,
                           "responsible": {"type": "array", "items": _RESPONSIBLE}},
        },
        "annexes": {
            "type": "object",
            "description": "documents annexed to the agreement",
            "properties": {"europass_cv": {"type": "boolean"}, "language_passport": {"type": "boolean"},
                           "units_already_acquired": {"type": "boolean"}, "other": _TEXT},
        },
        "duration": {
            "type": "object",
            "properties": {"start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"},
                           "weeks": {"type": "integer", "minimum": 1}},
        },
        "intermediary": _SHORT,
        "learner_progress": _TEXT,
        # Written by the platform from the mobility's records (whatever a form sends is replaced).
        "intermediary_organisation": {"type": "object"},
        "group": {"type": "object"},
        "periods": {"type": "array"},
    },
}
_VALIDATOR = Draft202012Validator(CONTENT_SCHEMA)
#: Parts of the text other than units that a change may replace as a whole (with a reason).
SECTIONS = ("assessment", "validation_and_recognition", "duration", "intermediary", "learner_progress",
            "mobility_identifier", "project_code", "learner_contact", "contact_persons", "qualification_details",
            "annexes")


def check(content: Any) -> dict[str, Any]:
    """A copy of `content` when it has the structure of :data:`CONTENT_SCHEMA` (422 per field otherwise)."""
    if not isinstance(content, dict):
        raise Invalid("The Learning Agreement content is an object", errors={"content": ["Not an object"]})
    errors: dict[str, list[str]] = {}
    for error in _VALIDATOR.iter_errors(content):
        key = ".".join(str(p) for p in error.absolute_path) or "content"
        errors.setdefault(key, []).append(error.message)
    codes = [u.get("code") for u in content.get("units") or [] if isinstance(u, dict)]
    if len(codes) != len(set(codes)):
        errors.setdefault("units", []).append("Each unit appears once")
    if errors:
        raise Invalid("The Learning Agreement content is not valid", errors=errors)
    return copy.deepcopy(content)


def _known_outcomes(session: Session, known: dict[str, Any]) -> list[Any]:
    """The learning outcomes the MoU lists for a unit, else those of the qualification's unit it names."""
    listed = [o for o in known.get("learning_outcomes") or [] if o]
    if listed:
        return copy.deepcopy(listed)
    unit = session.get(Unit, known["unit_id"]) if isinstance(known.get("unit_id"), int) else None
    return [qualification_service.outcome_entry(o) for o in unit.outcomes] if unit is not None else []


def _fill_unit(session: Session, unit: dict[str, Any], known: dict[str, Any], where: str,
               errors: dict[str, list[str]], *, carried: bool) -> None:
    if "title" not in unit and known.get("title"):
        unit["title"] = known["title"]
    points = known.get("ecvet_points")
    if points is not None:
        if "ecvet_points" not in unit:
            unit["ecvet_points"] = points
        elif unit["ecvet_points"] != points:
            errors[f"{where}.ecvet_points"] = [f"The MoU gives unit {unit['code']} {points} ECVET points"]
    if not unit.get("learning_outcomes"):
        outcomes = _known_outcomes(session, known)
        if outcomes:
            unit["learning_outcomes"] = outcomes
        elif not carried:
            errors[f"{where}.learning_outcomes"] = [
                f"Name the learning outcomes of unit {unit['code']} to be achieved abroad: neither the text nor "
                "the MoU lists any"]


def units_from_mou(session: Session, mobility: Mobility, content: dict[str, Any],
                   carried: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Units must be ones the MoU in force covers for the mobility's qualification; their title, ECVET
    points and learning outcomes come from the MoU (or its qualification) when the text leaves them
    out, and the points may not contradict it. A unit ends with at least one learning outcome, except
    one `carried` unchanged from a version signed before outcomes were required (its text stays)."""
    offered = service.mou_units(session, mobility)
    errors: dict[str, list[str]] = {}
    for i, unit in enumerate(content.get("units") or []):
        known = offered.get(unit["code"])
        if known is None:
            errors[f"units.{i}.code"] = [f"The MoU does not cover unit {unit['code']!r} for "
                                         f"{mobility.qualification_title}; it covers {sorted(offered)}"]
            continue
        _fill_unit(session, unit, known, f"units.{i}", errors, carried=unit["code"] in carried)
    if errors:
        raise Invalid("The Learning Agreement names units the MoU does not cover as written", errors=errors)
    return content

