"""Partner search: registered organisations by what their newest partner profile offers (country, sector,
qualification, unit), and a side-by-side comparison of a home qualification's units with a host's offer.

What the search shows is the organisation's public side of its profile: name, country, region, type,
website and the qualifications it offers with their units and learning outcomes. Contact persons, the VET
system description and attachments stay with the partnerships the profile was written for (their parties
read them in full). Every signed-in person may search; your own organisations are left out.

The comparison pairs each unit of the home qualification (a registered qualification, with its units and
learning outcomes) with the host's unit that matches it best: the same code, else the most words in
common between titles and learning outcomes (Jaccard similarity of the word sets, at least
:data:`SIMILAR`); host units left over are listed as what the host offers besides.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, TypedDict

from babel import Locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.national_models import codes
from ecvet.partnership.models import PartnerProfile
from ecvet.qualification.models import Qualification
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Organisation
from engine.parties import Actor

#: The least word overlap (Jaccard) for a host unit to count as similar to a home unit.
SIMILAR = 0.2
MAX_RESULTS = 100
_WORD = re.compile(r"\w{3,}", re.UNICODE)


class OfferedUnit(TypedDict):
    code: str | None
    title: str
    ecvet_points: float | None
    learning_outcomes: Annotated[list[str], "as the profile states them (kind: text)"]


class OfferedQualification(TypedDict):
    title: str
    eqf_level: int | None
    nqf_level: str | None
    sector: Annotated[str | None, "a sector code"]
    units: list[OfferedUnit]


class PartnerMatch(TypedDict):
    """A registered organisation and what its newest partner profile offers."""

    organisation_id: int
    name: str
    country: str
    region: str | None
    type: str | None
    website: str | None
    profile_id: Annotated[int | None, "its newest partner profile; null when it has written none"]
    qualifications: list[OfferedQualification]
    matched_units: Annotated[list[str], "titles (code first) of the units that matched the unit searched for"]


class UnitPair(TypedDict):
    home: OfferedUnit
    host: OfferedUnit | None
    match: Annotated[str, "same_code | similar | not_offered"]
    similarity: Annotated[float, "0..1: the share of words the two units have in common"]


class Comparison(TypedDict):
    """The home qualification's units side by side with what the host offers."""

    qualification_id: int
    qualification_title: str
    host: PartnerMatch
    host_qualification: Annotated[str | None, "the host's offered qualification compared with"]
    pairs: list[UnitPair]
    host_only: Annotated[list[OfferedUnit], "units the host offers that no home unit matched"]
    covered_units: int
    covered_ecvet_points: Annotated[float, "ECVET points of the home units the host offers (same or similar)"]
    total_ecvet_points: float


def _outcome(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('kind')}: {value.get('text')}" if value.get("kind") else str(value.get("text"))
    return str(value)


def _unit(raw: dict[str, Any]) -> OfferedUnit:
    points = raw.get("ecvet_points")
    return {"code": raw.get("code") or None, "title": str(raw.get("title") or ""),
            "ecvet_points": points if isinstance(points, int | float) and not isinstance(points, bool) else None,
            "learning_outcomes": [_outcome(o) for o in raw.get("learning_outcomes") or []]}


def _offered(content: dict[str, Any]) -> list[OfferedQualification]:
    return [{"title": str(q.get("title") or ""), "eqf_level": q.get("eqf_level"), "nqf_level": q.get("nqf_level"),
             "sector": q.get("sector"), "units": [_unit(u) for u in q.get("units") or []]}
            for q in content.get("qualifications_offered") or []]


def _newest_profiles(session: Session) -> dict[int, PartnerProfile]:
    newest = select(func.max(PartnerProfile.id)).group_by(PartnerProfile.organisation_id)
    return {p.organisation_id: p for p in session.scalars(select(PartnerProfile).where(PartnerProfile.id.in_(newest)))}


def _match(org: Organisation, profile: PartnerProfile | None) -> PartnerMatch:
    content = profile.content if profile is not None else {}
    described = content.get("organisation") or {}
    return {"organisation_id": org.id, "name": org.name, "country": org.country, "region": org.region,
            "type": described.get("type"), "website": described.get("website"),
            "profile_id": profile.id if profile is not None else None, "qualifications": _offered(content),
            "matched_units": []}


def _contains(haystack: Iterable[str | None], needle: str) -> bool:
    return any(needle in (h or "").casefold() for h in haystack)


#: ISO 3166-1 alpha-2 codes as CLDR (through Babel) knows them; "ZZ" (unknown region) and "EU" are no countries.
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if re.fullmatch(r"[A-Z]{2}", str(code)) and code not in {"ZZ", "EU", "EZ", "UN"})


def check_filters(country: Any, sector: Any) -> None:
    """422 for a country that is no ISO 3166-1 alpha-2 code, or a sector not on the code list."""
    errors: dict[str, list[str]] = {}
    if country is not None and not (isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country)
                                    and country in COUNTRIES):
        errors["country"] = ["An ISO 3166-1 alpha-2 code in capitals, e.g. ES"]
    if sector is not None and sector not in codes.sector_codes():
        errors["sector"] = [f"One of {', '.join(codes.sector_codes())}"]
    if errors:
        raise Invalid("The search filters are not valid", errors=errors)


def require_member(actor: Actor) -> None:
    """Partner search is for people who act for an organisation (and administrators), not for learners."""
    if not (actor.is_admin or actor.organisation_ids):
        raise Forbidden("Partner search is for members of an organisation")


def search(session: Session, *, actor: Actor, country: str | None = None, sector: str | None = None,
           qualification: str | None = None, unit: str | None = None) -> list[PartnerMatch]:
    """Organisations other than yours whose newest profile matches every filter given: `country`,
    `sector` (of an offered qualification), `qualification` (words in an offered title) and `unit`
    (words in an offered unit's code, title or learning outcomes). By name, at most :data:`MAX_RESULTS`."""
    require_member(actor)
    check_filters(country, sector)
    profiles = _newest_profiles(session)
    query = select(Organisation).order_by(Organisation.name, Organisation.id)
    if country:
        query = query.where(Organisation.country == country)
    wanted_title = (qualification or "").strip().casefold()
    wanted_unit = (unit or "").strip().casefold()
    found: list[PartnerMatch] = []
    for org in session.scalars(query):
        if org.id in actor.organisation_ids:
            continue
        match = _match(org, profiles.get(org.id))
        offered = [q for q in match["qualifications"] if (not sector or q["sector"] == sector)
                   and (not wanted_title or wanted_title in q["title"].casefold())]
        if (sector or wanted_title) and not offered:
            continue
        if wanted_unit:
            hits = [u for q in (offered or match["qualifications"]) for u in q["units"]
                    if _contains([u["code"], u["title"], *u["learning_outcomes"]], wanted_unit)]
            if not hits:
                continue
            match["matched_units"] = [" ".join(p for p in (u["code"], u["title"]) if p) for u in hits]
        found.append(match)
        if len(found) >= MAX_RESULTS:
            break
    return found


def _words(unit: OfferedUnit) -> set[str]:
    return {w.casefold() for w in _WORD.findall(" ".join([unit["title"], *unit["learning_outcomes"]]))}


def similarity(a: OfferedUnit, b: OfferedUnit) -> float:
    """The share of words two units have in common (Jaccard), over titles and learning outcomes."""
    left, right = _words(a), _words(b)
    return round(len(left & right) / len(left | right), 3) if left and right else 0.0


def _home_units(qualification: Qualification) -> list[OfferedUnit]:
    return [{"code": u.code, "title": u.title, "ecvet_points": u.ecvet_points,
             "learning_outcomes": [f"{o.kind}: {o.text}" for o in u.outcomes]}
            for u in qualification.units]


def _host_offer(host: PartnerMatch, title: str) -> tuple[str | None, list[OfferedUnit]]:
    """The host's offered qualification closest in title to the home one, and its units (all units when
    no title shares a word)."""
    offered = host["qualifications"]
    if not offered:
        return None, []
    home = {w.casefold() for w in _WORD.findall(title)}
    best = max(offered, key=lambda q: len(home & {w.casefold() for w in _WORD.findall(q["title"])}))
    if home & {w.casefold() for w in _WORD.findall(best["title"])} and best["units"]:
        return best["title"], best["units"]
    return None, [u for q in offered for u in q["units"]]


def compare(session: Session, *, actor: Actor, organisation_id: int, qualification_id: int) -> Comparison:
    """The home qualification's units beside the host organisation's offer (404 for an unknown one). Reads
    only what :func:`search` shows, so every member of an organisation may compare."""
    require_member(actor)
    qualification = session.get(Qualification, qualification_id)
    if qualification is None:
        raise NotFound(f"No qualification {qualification_id}")
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(f"No organisation {organisation_id}")
    host = _match(org, _newest_profiles(session).get(org.id))
    host_title, offer = _host_offer(host, qualification.title)
    left = list(offer)
    pairs: list[UnitPair] = []
    for home in _home_units(qualification):
        same = next((u for u in left if u["code"] and home["code"]
                     and u["code"].casefold() == home["code"].casefold()), None)
        if same is not None:
            left.remove(same)
            pairs.append({"home": home, "host": same, "match": "same_code", "similarity": similarity(home, same)})
            continue
        scored = sorted(((similarity(home, u), i) for i, u in enumerate(left)), reverse=True)
        if scored and scored[0][0] >= SIMILAR:
            chosen = left.pop(scored[0][1])
            pairs.append({"home": home, "host": chosen, "match": "similar", "similarity": scored[0][0]})
        else:
            pairs.append({"home": home, "host": None, "match": "not_offered", "similarity": 0.0})
    covered = [p for p in pairs if p["host"] is not None]
    return {"qualification_id": qualification.id, "qualification_title": qualification.title, "host": host,
            "host_qualification": host_title, "pairs": pairs, "host_only": left, "covered_units": len(covered),
            "covered_ecvet_points": sum(p["home"]["ecvet_points"] or 0 for p in covered),
            "total_ecvet_points": sum(p["home"]["ecvet_points"] or 0 for p in pairs)}


def qualifications(session: Session) -> list[tuple[int, str, str]]:
    """(id, title, country) of every registered qualification: what a comparison starts from."""
    rows = session.execute(select(Qualification.id, Qualification.title, Qualification.country)
                           .order_by(Qualification.country, Qualification.title))
    return [(i, title, country) for i, title, country in rows]
