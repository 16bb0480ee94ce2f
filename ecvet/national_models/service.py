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
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    """The answer of the table for one (country, sector, EQF level), plus where the answer came from."""

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
    session: Session | None = None,
    dmn_bytes: bytes | None = None,
) -> NationalModel:
    """Evaluate the national model for a country (and sector, EQF level where the table cares).

    ``dmn_bytes`` evaluates a given table (previews, tests); otherwise the deployed table is read
    through ``session``, falling back to the shipped file when nothing is deployed. The country is an
    ISO alpha-2 code (upper-cased), the sector is lower-cased, so the table compares plain values.
    """
    country = (country or "").strip().upper()
    if not is_country_code(country):
        raise Invalid("A country is an ISO 3166-1 alpha-2 code", errors={"country": [f"'{country}' is not one"]})
    sector = (sector.strip().lower() or None) if sector else None
    if eqf_level is not None and not (isinstance(eqf_level, int) and EQF_LOWEST <= eqf_level <= EQF_HIGHEST):
        raise Invalid("An EQF level is 1 to 8", errors={"eqf_level": [f"{eqf_level!r} is not one"]})
    table = Table(dmn_bytes, "given") if dmn_bytes is not None else current_table(session)
    try:
        result = decisions.evaluate(
            table.content, decision_id=DECISION_ID, filename=FILENAME,
            inputs={"country": country, "sector": sector, "eqf_level": eqf_level},
        )
    except Invalid as exc:
        raise Invalid(f"The national models table cannot answer for {country}: {exc.message}",
                      errors=exc.errors) from exc
    if not result:
        raise Invalid(f"No row of the national models table matches {country}; add a default row",
                      errors={"table": ["no matching row"]})
    return _checked(result, country, sector, eqf_level, table)


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
    notes: str | None = None,
) -> OrganisationCompetence:
    """Record that an organisation is the competent institution for a function in a country.

    The national model says *whether* e.g. MoU approval needs a competent institution; this registry
    says *which* organisation that is. Administrators only (``actor=None`` from trusted code)."""
    if actor is not None:
        require_admin(actor)
    country = (country or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = [f"No organisation {organisation_id}"]
    if not is_country_code(country):
        errors["country"] = ["An ISO 3166-1 alpha-2 code"]
    if function not in CompetenceFunction.ALL:
        errors["function"] = [f"One of {', '.join(CompetenceFunction.ALL)}"]
    if errors:
        raise Invalid("The competence is not valid", errors=errors)
    exists = session.scalar(select(OrganisationCompetence.id).where(
        OrganisationCompetence.organisation_id == organisation_id,
        OrganisationCompetence.country == country,
        OrganisationCompetence.function == function,
    ))
    if exists is not None:
        raise Conflict("This competence is already registered")
    competence = OrganisationCompetence(organisation_id=organisation_id, country=country, function=function,
                                        notes=notes)
    session.add(competence)
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="competence.registered",
                 organisation_id=organisation_id, country=country, function=function)
    return competence


def list_competences(
    session: Session,
    *,
    actor: Actor,
    country: str | None = None,
    function: str | None = None,
) -> list[OrganisationCompetence]:
    """The registry of competent institutions (which organisation acts for which function where).

    Public knowledge about institutions, like the national models table: any signed-in user reads it,
    so a sending organisation can see who will have to approve before it starts a partnership."""
    del actor  # authenticated by the caller; every signed-in user may read the registry
    stmt = select(OrganisationCompetence).order_by(OrganisationCompetence.country, OrganisationCompetence.function,
                                                   OrganisationCompetence.organisation_id)
    if country:
        stmt = stmt.where(OrganisationCompetence.country == country.strip().upper())
    if function:
        stmt = stmt.where(OrganisationCompetence.function == function)
    return list(session.scalars(stmt))
