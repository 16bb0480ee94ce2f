"""Qualifications of national VET systems, with their units and learning outcomes.

A MoU lists the qualifications and units it covers and a Learning Agreement the units a learner takes
abroad; both carry copies of titles and points, and refer back here by ``qualification_id`` and
``unit_id`` so the knowledge, skills and competence of each unit are written down once.
"""
from __future__ import annotations

import re
from typing import Any

import pycountry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.qualification.models import (
    EQF_HIGHEST,
    EQF_LOWEST,
    ESCO_SKILL_PATTERN,
    LearningOutcome,
    OutcomeKind,
    Qualification,
    Unit,
)
from engine import audit
from engine.errors import Conflict, Invalid
from engine.models import Organisation
from engine.parties import Actor, require_admin


def _level(value: Any, path: str, errors: dict[str, list[str]], *, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not EQF_LOWEST <= value <= EQF_HIGHEST:
        errors[path] = ["An EQF level is a whole number from 1 to 8"]
        return None
    return value


def _points(value: Any, path: str, errors: dict[str, list[str]]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors[path] = ["ECVET points are a whole number, 0 or more"]
        return None
    return value


def _units(raw: Any, errors: dict[str, list[str]]) -> list[Unit]:
    if not isinstance(raw, list) or not raw:
        errors["units"] = ["A qualification needs at least one unit of learning outcomes"]
        return []
    units: list[Unit] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path = f"units.{i}"
        if not isinstance(item, dict):
            errors[path] = ["A unit is an object with code, title, ecvet_points and learning_outcomes"]
            continue
        code = str(item.get("code") or "").strip()
        title = str(item.get("title") or "").strip()
        if not code:
            errors[f"{path}.code"] = ["Required"]
        elif code in seen:
            errors[f"{path}.code"] = [f"Unit {code} is listed twice"]
        seen.add(code)
        if not title:
            errors[f"{path}.title"] = ["Required"]
        outcomes: list[LearningOutcome] = []
        for j, outcome in enumerate(item.get("learning_outcomes") or []):
            kind = outcome.get("kind") if isinstance(outcome, dict) else None
            text = str(outcome.get("text") or "").strip() if isinstance(outcome, dict) else ""
            if kind not in OutcomeKind.ALL:
                errors[f"{path}.learning_outcomes.{j}.kind"] = [f"One of {', '.join(OutcomeKind.ALL)}"]
            if not text:
                errors[f"{path}.learning_outcomes.{j}.text"] = ["Required"]
            esco = outcome.get("esco_skill") if isinstance(outcome, dict) else None
            if esco is not None and not (isinstance(esco, str) and re.match(ESCO_SKILL_PATTERN, esco)):
                errors[f"{path}.learning_outcomes.{j}.esco_skill"] = [
                    "An ESCO skill URI: http://data.europa.eu/esco/skill/ followed by the concept's UUID"]
            outcomes.append(LearningOutcome(kind=kind or "", text=text,
                                            esco_skill=esco if isinstance(esco, str) else None))
        units.append(Unit(code=code[:50], title=title[:300], ecvet_points=_points(item.get("ecvet_points"),
                                                                                 f"{path}.ecvet_points", errors),
                          eqf_level=_level(item.get("eqf_level"), f"{path}.eqf_level", errors, required=False),
                          outcomes=outcomes))
    return units


def register(
    session: Session,
    *,
    actor: Actor | None,
    title: str,
    country: str,
    eqf_level: int,
    units: list[dict[str, Any]],
    nqf_level: str | None = None,
    ecvet_points: int | None = None,
    awarding_organisation_id: int | None = None,
) -> Qualification:
    """Record a qualification with its units and their learning outcomes (knowledge, skills,
    competence). Administrators only (``actor=None`` from trusted code: the CLI, the demo seed);
    422 with errors per field; 409 when the country already has a qualification of that title."""
    if actor is not None:
        require_admin(actor)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    country = (country or "").strip().upper()
    if not title:
        errors["title"] = ["Required"]
    if pycountry.countries.get(alpha_2=country) is None:
        errors["country"] = [f"'{country}' is not an ISO 3166-1 alpha-2 country code"]
    level = _level(eqf_level, "eqf_level", errors, required=True)
    points = _points(ecvet_points, "ecvet_points", errors)
    if awarding_organisation_id is not None and session.get(Organisation, awarding_organisation_id) is None:
        errors["awarding_organisation_id"] = [f"No organisation {awarding_organisation_id}"]
    unit_rows = _units(units, errors)
    if errors:
        raise Invalid("The qualification is not valid", errors=errors)
    if find(session, title=title, country=country) is not None:
        raise Conflict(f"{country} already has a qualification titled {title!r}")
    qualification = Qualification(title=title[:300], country=country, eqf_level=level, nqf_level=nqf_level or None,
                                  ecvet_points=points, awarding_organisation_id=awarding_organisation_id,
                                  units=unit_rows)
    session.add(qualification)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="qualification.registered",
                 qualification_id=qualification.id, title=qualification.title, country=country,
                 units=[u.code for u in unit_rows])
    return qualification


def find(session: Session, *, title: str, country: str) -> Qualification | None:
    """The qualification of `country` with this title (case and surrounding spaces ignored)."""
    return session.scalar(select(Qualification).where(
        func.lower(Qualification.title) == title.strip().lower(),
        Qualification.country == country.strip().upper()))


def outcome_entry(outcome: LearningOutcome) -> dict[str, Any]:
    """A learning outcome as MoUs and Learning Agreements write it: kind, text and the ESCO skill, if known."""
    esco = {"esco_skill": outcome.esco_skill} if outcome.esco_skill else {}
    return {"kind": outcome.kind, "text": outcome.text, **esco}


def mou_entry(qualification: Qualification, unit_codes: list[str] | None = None) -> dict[str, Any]:
    """The qualification as the MoU template lists it ("qualifications covered"), with the units
    concerned (all of them, or those of `unit_codes`) and their learning outcomes, each referring back
    to its row."""
    return {
        "qualification_id": qualification.id,
        "title": qualification.title,
        "country": qualification.country,
        "eqf_level": qualification.eqf_level,
        **({"nqf_level": qualification.nqf_level} if qualification.nqf_level else {}),
        **({"ecvet_points": qualification.ecvet_points} if qualification.ecvet_points is not None else {}),
        "units": [
            {"unit_id": u.id, "code": u.code, "title": u.title,
             **({"ecvet_points": u.ecvet_points} if u.ecvet_points is not None else {}),
             **({"eqf_level": u.eqf_level} if u.eqf_level is not None else {}),
             **({"learning_outcomes": [outcome_entry(o) for o in u.outcomes]} if u.outcomes else {})}
            for u in qualification.units if unit_codes is None or u.code in unit_codes
        ],
    }


def profile_entry(qualification: Qualification) -> dict[str, Any]:
    """The qualification as a partner profile offers it: units with their learning outcomes."""
    return {
        "title": qualification.title,
        "eqf_level": qualification.eqf_level,
        **({"nqf_level": qualification.nqf_level} if qualification.nqf_level else {}),
        **({"ecvet_points": qualification.ecvet_points} if qualification.ecvet_points is not None else {}),
        "units": [
            {"code": u.code, "title": u.title,
             **({"ecvet_points": u.ecvet_points} if u.ecvet_points is not None else {}),
             "learning_outcomes": [{"kind": o.kind, "text": o.text} for o in u.outcomes]}
            for u in qualification.units
        ],
    }
