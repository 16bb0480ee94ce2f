"""National ECVET models as data: which approvals a country requires and who recognises credit.

The rules differ by country, sector and level, change over time, and belong to process owners, not
to programmers; so they live in a DMN decision table (``processes/national_models.dmn``, decision id
``national_model``) that is deployed like any other process file. :func:`decide` evaluates the
table that is *deployed* (the newest stored ``national_models.dmn``), so editing and redeploying the
table changes every answer without a code change. Only when none is deployed yet does it read the
file shipped in ``processes/``.

The table is evaluated by the engine (:func:`engine.decisions.evaluate`), exactly as a business rule
task in a process would evaluate it.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from typing import Annotated, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.national_models import codes
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.qualification.models import EQF_HIGHEST, EQF_LOWEST
from engine import audit, decisions
from engine.config import ROOT
from engine.errors import Conflict, Invalid
from engine.models import DefinitionFile, FileBlob, Organisation, ProcessDefinition
from engine.parties import Actor, require_admin

FILENAME = "national_models.dmn"
DECISION_ID = "national_model"
SHIPPED_TABLE = ROOT / "processes" / FILENAME

COUNTRY_CODE_LENGTH = 2
APPROVAL_MODES = ("none", "explicit", "implicit")
RECOGNISERS = ("sending", "competent_institution")


def is_country_code(text: str) -> bool:
    """An ISO 3166-1 alpha-2 code as the table compares it: two upper-case letters."""
    return len(text) == COUNTRY_CODE_LENGTH and text.isalpha() and text.isupper()


@dataclass(frozen=True)
class NationalModel:
    """The answer of the table for one (country, region, sector, EQF level, qualification system), plus
    where the answer came from."""

    model: str
    mou_approval: Annotated[str, "none | explicit | implicit"]
    mou_approval_days: int
    la_approval: Annotated[str, "none | explicit | implicit"]
    la_approval_days: int
    recognition_by: Annotated[str, "sending | competent_institution"]
    validation_recognition_merged: bool
    country: str
    sector: str | None
    eqf_level: int | None
    #: "deployed: <process key> v<version>" or "shipped: processes/national_models.dmn"
    source: Annotated[str, "which table answered: deployed (key, version) or shipped"]
    table_sha256: str
    # Defaults: answers stored before these inputs existed (mobilities keep theirs) still load.
    region: str | None = None
    qualification_system: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Table:
    """The DMN file the answer is taken from."""

    content: bytes
    source: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def deployed_table(session: Session) -> Table | None:
    """The newest deployed ``national_models.dmn`` (a DMN is stored with each process that uses it)."""
    row = session.execute(
        select(FileBlob.content, ProcessDefinition.key, ProcessDefinition.version)
        .join(DefinitionFile, DefinitionFile.sha256 == FileBlob.sha256)
        .join(ProcessDefinition, ProcessDefinition.id == DefinitionFile.definition_id)
        .where(DefinitionFile.filename == FILENAME)
        .order_by(ProcessDefinition.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    content, key, version = row
    return Table(bytes(content), f"deployed: {key} v{version}")


def current_table(session: Session | None) -> Table:
    """The deployed table if there is one, else the file shipped in processes/."""
    table = deployed_table(session) if session is not None else None
    if table is not None:
        return table
    return Table(SHIPPED_TABLE.read_bytes(), f"shipped: processes/{FILENAME}")


def decide(
    country: str,
    sector: str | None = None,
    eqf_level: int | None = None,
    *,
    region: str | None = None,
    qualification_system: str | None = None,
    session: Session | None = None,
    dmn_bytes: bytes | None = None,
) -> NationalModel:
    """Evaluate the national model for a country (and region, sector, EQF level, qualification system
    where the table cares).

    ``dmn_bytes`` evaluates a given table (previews, tests); otherwise the deployed table is read
    through ``session``, falling back to the shipped file when nothing is deployed. The country is an
    ISO alpha-2 code (upper-cased), the region an ISO 3166-2 or NUTS code of that country, the sector
    and the qualification system codes of :mod:`ecvet.national_models.codes` (lower-cased): an unknown
    value is refused (422) with the allowed ones, never matched as free text.
    """
    country = (country or "").strip().upper()
    if not is_country_code(country):
        raise Invalid("A country is an ISO 3166-1 alpha-2 code", errors={"country": [f"'{country}' is not one"]})
    sector, region, system = _checked_inputs(country, sector, region, qualification_system, eqf_level)
    table = Table(dmn_bytes, "given") if dmn_bytes is not None else current_table(session)
    try:
        result = decisions.evaluate(
            table.content, decision_id=DECISION_ID, filename=FILENAME,
            inputs={"country": country, "region": region, "sector": sector, "eqf_level": eqf_level,
                    "qualification_system": system},
        )
    except Invalid as exc:
        raise Invalid(f"The national models table cannot answer for {country}: {exc.message}",
                      errors=exc.errors) from exc
    if not result:
        raise Invalid(f"No row of the national models table matches {country}; add a default row",
                      errors={"table": ["no matching row"]})
    return replace(_checked(result, country, sector, eqf_level, table), region=region,
                   qualification_system=system)


def _checked_inputs(
    country: str, sector: str | None, region: str | None, system: str | None, eqf_level: int | None
) -> tuple[str | None, str | None, str | None]:
    """The inputs as the table compares them, or 422 naming every one that is not in its code list."""
    errors: dict[str, list[str]] = {}
    sector = (sector.strip().lower() or None) if sector else None
    if sector is not None and sector not in codes.sector_codes():
        errors["sector"] = [f"'{sector}' is not a sector code; one of {', '.join(codes.sector_codes())}"]
    system = (system.strip().lower() or None) if system else None
    if system is not None and system not in codes.qualification_system_codes():
        errors["qualification_system"] = [
            f"'{system}' is not a qualification system; one of {', '.join(codes.qualification_system_codes())}"]
    region = codes.normal_region(region)
    if region is not None and (problem := codes.region_problem(country, region)):
        errors["region"] = [problem]
    if eqf_level is not None and not (isinstance(eqf_level, int) and EQF_LOWEST <= eqf_level <= EQF_HIGHEST):
        errors["eqf_level"] = [f"{eqf_level!r} is not an EQF level (1 to 8)"]
    if errors:
        raise Invalid("The national model cannot be decided for these inputs", errors=errors)
    return sector, region, system


def _checked(
    result: dict[str, Any], country: str, sector: str | None, eqf_level: int | None, table: Table
) -> NationalModel:
    """Refuse an answer the services cannot act on, naming the output column at fault."""
    problems: dict[str, list[str]] = {}

    def text(name: str, allowed: tuple[str, ...] | None = None) -> str:
        value = result.get(name)
        if not isinstance(value, str) or not value or (allowed and value not in allowed):
            expected = f"one of {', '.join(allowed)}" if allowed else "a text"
            problems[name] = [f"{value!r} is not {expected}"]
            return ""
        return value

    def days(name: str) -> int:
        value = result.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems[name] = [f"{value!r} is not a whole number of days"]
            return 0
        return value

    merged = result.get("validation_recognition_merged")
    if not isinstance(merged, bool):
        problems["validation_recognition_merged"] = [f"{merged!r} is not True or False"]
    model = NationalModel(
        model=text("model"),
        mou_approval=text("mou_approval", APPROVAL_MODES),
        mou_approval_days=days("mou_approval_days"),
        la_approval=text("la_approval", APPROVAL_MODES),
        la_approval_days=days("la_approval_days"),
        recognition_by=text("recognition_by", RECOGNISERS),
        validation_recognition_merged=bool(merged),
        country=country,
        sector=sector,
        eqf_level=eqf_level,
        source=table.source,
        table_sha256=table.sha256,
    )
    if problems:
        raise Invalid(f"The national models table gave an answer for {country} that cannot be used",
                      errors=problems)
    return model


def register_competence(
    session: Session,
    *,
    actor: Actor | None,
    organisation_id: int,
    country: str,
    function: str,
    region: str | None = None,
    sector: str | None = None,
    notes: str | None = None,
) -> OrganisationCompetence:
    """Record that an organisation holds a function in a country, optionally only in one region
    (ISO 3166-2 or NUTS) and for one sector (a code). Several organisations may hold one function in
    one place (e.g. two regional chambers), and supporting actors (National Agency, National Europass
    Centre) are recorded the same way, though nobody asks them to approve anything.

    The national model says *whether* e.g. MoU approval needs a competent institution; this registry
    says *which* organisation that is. Administrators only (``actor=None`` from trusted code)."""
    if actor is not None:
        require_admin(actor)
    country = (country or "").strip().upper()
    region = codes.normal_region(region)
    sector = (sector or "").strip().lower() or None
    errors: dict[str, list[str]] = {}
    if session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = [f"No organisation {organisation_id}"]
    if not is_country_code(country):
        errors["country"] = ["An ISO 3166-1 alpha-2 code"]
    elif region is not None and (problem := codes.region_problem(country, region)):
        errors["region"] = [problem]
    if sector is not None and sector not in codes.sector_codes():
        errors["sector"] = [f"One of {', '.join(codes.sector_codes())}"]
    if function not in CompetenceFunction.REGISTERED:
        errors["function"] = [f"One of {', '.join(CompetenceFunction.REGISTERED)}"]
    if errors:
        raise Invalid("The competence is not valid", errors=errors)
    exists = session.scalar(select(OrganisationCompetence.id).where(
        OrganisationCompetence.organisation_id == organisation_id,
        OrganisationCompetence.country == country,
        OrganisationCompetence.function == function,
        OrganisationCompetence.region.is_(None) if region is None else OrganisationCompetence.region == region,
        OrganisationCompetence.sector.is_(None) if sector is None else OrganisationCompetence.sector == sector,
    ))
    if exists is not None:
        raise Conflict("This competence is already registered")
    competence = OrganisationCompetence(organisation_id=organisation_id, country=country, function=function,
                                        region=region, sector=sector, notes=notes)
    session.add(competence)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="competence.registered",
                 organisation_id=organisation_id, country=country, function=function, region=region,
                 sector=sector)
    return competence


def list_competences(
    session: Session,
    *,
    actor: Actor,
    country: str | None = None,
    function: str | None = None,
    region: str | None = None,
    sector: str | None = None,
) -> list[OrganisationCompetence]:
    """The registry of competent institutions and supporting actors (who acts for which function where).

    Public knowledge about institutions, like the national models table: any signed-in user reads it,
    so a sending organisation can see who will have to approve before it starts a partnership. With a
    region or a sector, the rows that apply there: that region's (or sector's) and the country-wide ones."""
    del actor  # authenticated by the caller; every signed-in user may read the registry
    stmt = select(OrganisationCompetence).order_by(OrganisationCompetence.country, OrganisationCompetence.function,
                                                   OrganisationCompetence.organisation_id, OrganisationCompetence.id)
    if country:
        stmt = stmt.where(OrganisationCompetence.country == country.strip().upper())
    if function:
        stmt = stmt.where(OrganisationCompetence.function == function)
    if region:
        stmt = stmt.where((OrganisationCompetence.region == codes.normal_region(region))
                          | OrganisationCompetence.region.is_(None))
    if sector:
        stmt = stmt.where((OrganisationCompetence.sector == sector.strip().lower())
                          | OrganisationCompetence.sector.is_(None))
    return list(session.scalars(stmt))


def institutions_for(
    session: Session, *, country: str, function: str, region: str | None = None, sector: str | None = None
) -> list[int]:
    """The organisations holding `function` for a case in `country`/`region`/`sector`, most specific
    scope first: a row for that region and sector beats one for the region, which beats one for the
    sector, which beats a country-wide one. Only the most specific level found is returned (several
    organisations there share the function); a row for *another* region or sector never applies."""
    rows = session.scalars(select(OrganisationCompetence).where(
        OrganisationCompetence.country == country,
        OrganisationCompetence.function == function,
        OrganisationCompetence.region.is_(None) | (OrganisationCompetence.region == codes.normal_region(region)),
        OrganisationCompetence.sector.is_(None) | (OrganisationCompetence.sector == (sector or "").lower()),
    ).order_by(OrganisationCompetence.organisation_id)).all()
    if not rows:
        return []

    def level(row: OrganisationCompetence) -> int:
        return (2 if row.region is not None else 0) + (1 if row.sector is not None else 0)

    best = max(level(r) for r in rows)
    return list(dict.fromkeys(r.organisation_id for r in rows if level(r) == best))
