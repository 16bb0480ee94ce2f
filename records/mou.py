"""Memoranda of Understanding: drafting, versions, approvals bound to a content hash, activation.

The mechanics follow what the Erasmus Without Paper network proved in practice:

* An approval binds to the SHA-256 of the exact text approved (canonical JSON: sorted keys, no
  whitespace), so "what did they sign?" always has one answer. An approval quoting another hash
  than the current one is refused (409): the approver read an older text.
* Any edit is a new version with a new hash; earlier approvals stay as evidence but stop counting.
* A MoU is in force (``active``) only when every required party has approved the *same* current
  version: every signing partner, plus the competent institutions that the national model of a
  partner's country requires (:mod:`records.national_models`, a DMN table process owners edit).
* A rejection needs a comment and returns the draft to the sending organisation.
* Implicit approval (a competent institution that raised no objection within the period its national
  model gives) is recorded as such, by the deadline timer of the lifecycle process.

Every change is written to the audit trail in the caller's unit of work.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from jsonschema.validators import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import FileBlob, Organisation, utcnow
from engine.parties import EMAIL_RE, Actor

from . import national_models, signing
from .models import (
    ApprovalMode,
    ApprovalRole,
    CompetenceFunction,
    Decision,
    Mou,
    MouApproval,
    MouStatus,
    MouVersion,
    OrganisationCompetence,
)

STALE_MESSAGE = "stale: the MoU changed since you read it"

# --------------------------------------------------------------------------------------------------
# Content: the European MoU template as JSON
# --------------------------------------------------------------------------------------------------

_TEXT = {"type": "string", "maxLength": 10_000}
_SHORT = {"type": "string", "maxLength": 300}
_IDS = {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True}
_CONTACT = {
    "type": "object",
    "properties": {"name": _SHORT, "position": _SHORT, "phone": _SHORT, "email": _SHORT},
}
_ORGANISATION = {
    "type": "object",
    "properties": {
        "organisation_id": {"type": "integer", "minimum": 1},
        "role": {"type": "string", "maxLength": 100, "description": "e.g. sending, hosting"},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "name": _SHORT,
        "address": _TEXT,
        "website": _SHORT,
        "contact_person": _CONTACT,
    },
}
_UNIT = {
    "type": "object",
    "properties": {
        "unit_id": {"type": "integer", "minimum": 1},
        "code": _SHORT,
        "title": _SHORT,
        "ecvet_points": {"type": "number", "minimum": 0},
        "eqf_level": {"type": "integer", "minimum": 1, "maximum": 8},
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
        "sector": {"type": "string", "maxLength": 100, "description": "selects sector rows of the national model"},
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
        "other_organisations": {"type": "array", "items": _ORGANISATION},
        "competent_institutions": {
            "type": "array",
            "description": "competent institutions named for the countries whose national model requires one",
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
_VALIDATOR = Draft202012Validator(CONTENT_SCHEMA)

REQUIRED_FIELDS = (
    "objectives",
    "signing_organisations",
    "qualifications",
    "arrangements",
    "mobility_duration_weeks",
    "valid_until",
    "evaluation_and_review",
)
CONTENT_FIELDS = tuple(CONTENT_SCHEMA["properties"])


def canonical_json(content: Any) -> str:
    """One text per content: sorted keys, no whitespace, UTF-8 as is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(content: Any) -> str:
    """SHA-256 of the canonical JSON: what an approval quotes, independent of key order or spacing."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _plain(content: Any) -> dict[str, Any]:
    """The content as plain JSON (a dict), or 422: only JSON can be hashed and stored faithfully."""
    if not isinstance(content, dict):
        raise Invalid("The MoU content must be a JSON object", errors={"content": ["not an object"]})
    try:
        return json.loads(canonical_json(content))
    except (TypeError, ValueError) as exc:
        raise Invalid("The MoU content must be plain JSON", errors={"content": [str(exc)]}) from exc


def _error_path(error: Any) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "content"


def _check_structure(session: Session, content: dict[str, Any]) -> None:
    """Types and shapes (drafts may be incomplete) and organisation ids that exist."""
    errors: dict[str, list[str]] = {}
    for error in sorted(_VALIDATOR.iter_errors(content), key=lambda e: list(e.absolute_path)):
        errors.setdefault(_error_path(error), []).append(error.message)
    if errors:
        raise Invalid("The MoU content is not valid", errors=errors)
    ids: dict[str, int] = {}
    for i, org in enumerate(content.get("signing_organisations", [])):
        if "organisation_id" in org:
            ids[f"signing_organisations.{i}.organisation_id"] = org["organisation_id"]
    for i, ci in enumerate(content.get("competent_institutions", [])):
        ids[f"competent_institutions.{i}.organisation_id"] = ci["organisation_id"]
    for name in ARRANGEMENTS:
        for j, org_id in enumerate(content.get("arrangements", {}).get(name, {}).get("organisation_ids", [])):
            ids[f"arrangements.{name}.organisation_ids.{j}"] = org_id
    known = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(set(ids.values()) or {-1}))))
    for path, org_id in ids.items():
        if org_id not in known:
            errors.setdefault(path, []).append(f"No organisation {org_id}")
    if "valid_until" in content:
        try:
            date.fromisoformat(content["valid_until"])
        except ValueError:
            errors.setdefault("valid_until", []).append("Not an ISO date (YYYY-MM-DD)")
    duration = content.get("mobility_duration_weeks", {})
    if "min" in duration and "max" in duration and duration["min"] > duration["max"]:
        errors.setdefault("mobility_duration_weeks", []).append("min is more than max")
    if errors:
        raise Invalid("The MoU content is not valid", errors=errors)


def _check_complete(mou: Mou, content: dict[str, Any]) -> None:
    """What the template requires before anyone is asked to sign."""
    errors: dict[str, list[str]] = {}
    for name in REQUIRED_FIELDS:
        if content.get(name) in (None, "", [], {}):
            errors[name] = ["Required before the MoU is submitted for approval"]
    signing = content.get("signing_organisations") or []
    ids = [o.get("organisation_id") for o in signing]
    if signing:
        if any(i is None for i in ids):
            errors.setdefault("signing_organisations", []).append(
                "Every signing organisation must be a registered organisation (organisation_id)")
        if len(set(ids)) != len(ids):
            errors.setdefault("signing_organisations", []).append("An organisation signs once")
        if len({i for i in ids if i is not None}) < 2:
            errors.setdefault("signing_organisations", []).append("A MoU needs at least two signing organisations")
        if mou.sending_organisation_id not in ids:
            errors.setdefault("signing_organisations", []).append("The sending organisation must sign the MoU")
        for i, org in enumerate(signing):
            contact = org.get("contact_person") or {}
            if not contact.get("name") or not EMAIL_RE.match(contact.get("email") or ""):
                errors[f"signing_organisations.{i}.contact_person"] = ["A contact person with name and e-mail"]
    for i, qualification in enumerate(content.get("qualifications") or []):
        if not qualification.get("title") or not qualification.get("units"):
            errors[f"qualifications.{i}"] = ["A qualification needs a title and the units concerned"]
    arrangements = content.get("arrangements") or {}
    for name in ARRANGEMENTS:
        if arrangements and not (arrangements.get(name) or {}).get("how"):
            errors[f"arrangements.{name}"] = ["Say how it is done and who does it"]
    if content.get("valid_until"):
        try:
            if date.fromisoformat(content["valid_until"]) <= utcnow().date():
                errors["valid_until"] = ["The validity date has passed"]
        except ValueError:
            errors["valid_until"] = ["Not an ISO date (YYYY-MM-DD)"]
    if errors:
        raise Invalid("The MoU is not complete enough to be approved", errors=errors)


# --------------------------------------------------------------------------------------------------
# Who must approve
# --------------------------------------------------------------------------------------------------


class Requirement(NamedTuple):
    """One approval the MoU needs: this organisation, in this role (compares equal to a plain tuple)."""

    organisation_id: int
    role: str


@dataclass
class Plan:
    """Required approvals of one version, how each is given, and what stops the MoU being approvable."""

    requirements: list[Requirement] = field(default_factory=list)
    modes: dict[Requirement, tuple[str, int]] = field(default_factory=dict)  # (explicit|implicit, days)
    countries: dict[Requirement, str] = field(default_factory=dict)
    models: dict[str, national_models.NationalModel] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _signing_ids(content: dict[str, Any]) -> list[int]:
    seen: list[int] = []
    for org in content.get("signing_organisations") or []:
        org_id = org.get("organisation_id")
        if isinstance(org_id, int) and org_id not in seen:
            seen.append(org_id)
    return seen


def _highest_eqf(content: dict[str, Any]) -> int | None:
    levels = [q["eqf_level"] for q in content.get("qualifications") or [] if isinstance(q.get("eqf_level"), int)]
    return max(levels) if levels else None


def _competent_institution(
    session: Session, content: dict[str, Any], country: str
) -> tuple[int | None, str | None]:
    """The organisation approving MoUs for `country`: the one named in the content, else the only one
    registered; anything else is a problem for the sending organisation to fix before submitting."""
    registered = list(session.scalars(
        select(OrganisationCompetence.organisation_id).where(
            OrganisationCompetence.country == country,
            OrganisationCompetence.function == CompetenceFunction.MOU_APPROVAL,
        ).order_by(OrganisationCompetence.organisation_id)
    ))
    named = [ci["organisation_id"] for ci in content.get("competent_institutions") or []]
    chosen = [org_id for org_id in registered if org_id in named]
    if len(chosen) == 1:
        return chosen[0], None
    if len(chosen) > 1:
        return None, f"name only one competent institution for MoU approval in {country}"
    if len(registered) == 1:
        return registered[0], None
    if not registered:
        return None, f"the national model of {country} requires MoU approval by a competent institution, " \
                     f"but none is registered for {country}"
    return None, f"several competent institutions approve MoUs in {country}: name one in competent_institutions"


def _pinned_table(session: Session, mou: Mou | None) -> bytes | None:
    if mou is None or not mou.national_models_sha256:
        return None
    blob = session.get(FileBlob, mou.national_models_sha256)
    return bytes(blob.content) if blob is not None else None


def plan_for(session: Session, content: dict[str, Any], *, mou: Mou | None = None) -> Plan:
    """Every signing partner, then per partner country the competent institution its national model
    requires (evaluated with the MoU's sector and highest EQF level from the table pinned on `mou` by
    :func:`pin_national_models`, else from the newest deployed DMN table)."""
    table = _pinned_table(session, mou)
    plan = Plan()
    signing = _signing_ids(content)
    for org_id in signing:
        requirement = Requirement(org_id, ApprovalRole.PARTNER)
        plan.requirements.append(requirement)
        plan.modes[requirement] = (ApprovalMode.EXPLICIT, 0)
    organisations = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(signing or [-1])))}
    countries: list[str] = []
    for org_id in signing:
        org = organisations.get(org_id)
        if org is not None and org.country not in countries:
            countries.append(org.country)
    for country in countries:
        model = national_models.decide(country, content.get("sector"), _highest_eqf(content), session=session,
                                       dmn_bytes=table)
        plan.models[country] = model
        if model.mou_approval == "none":
            continue
        org_id, problem = _competent_institution(session, content, country)
        if org_id is None:
            plan.problems.append(problem or f"no competent institution for {country}")
            continue
        requirement = Requirement(org_id, ApprovalRole.COMPETENT_INSTITUTION)
        if requirement not in plan.modes:
            plan.requirements.append(requirement)
            plan.modes[requirement] = (model.mou_approval, model.mou_approval_days)
            plan.countries[requirement] = country
    return plan


def pin_national_models(session: Session, *, mou: Mou, table_sha256: str, actor_id: int | None) -> None:
    """Decide this MoU's approvals with one deployed national models table from now on (the one the
    submitting process version carries), so that a table redeployed later does not change the gates
    of a partnership already under way, only those of new ones."""
    if mou.national_models_sha256 == table_sha256:
        return
    if session.get(FileBlob, table_sha256) is None:
        raise Invalid("No deployed national models table has this SHA-256", errors={"table": [table_sha256]})
    old = mou.national_models_sha256
    mou.national_models_sha256 = table_sha256
    session.flush()
    audit.record(session, actor_id=actor_id, action="mou.national_models_pinned", mou_id=mou.id,
                 table_sha256=table_sha256, previous=old)


def _session_of(mou: Mou) -> Session:
    session = object_session(mou)
    if session is None:
        raise RuntimeError("The MoU is not attached to a session")
    return session


def current_version(mou: Mou) -> MouVersion:
    version = _session_of(mou).get(MouVersion, mou.current_version_id)
    assert version is not None, "a MoU always has a current version"
    return version


def in_force_version(mou: Mou) -> MouVersion | None:
    """The version in force: the one last approved by everyone, also while an amendment is in approval
    (the amendment replaces it only once approved); None before the first approval and once closed."""
    if mou.status in MouStatus.CLOSED or mou.active_version_id is None:
        return None
    return _session_of(mou).get(MouVersion, mou.active_version_id)


def expires_at(version: MouVersion) -> datetime | None:
    """When a version stops being valid: the end (UTC) of its validity date, ``valid_until``."""
    raw = version.content.get("valid_until")
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


def required_approvals(mou: Mou) -> list[Requirement]:
    """(organisation_id, role) for every signing partner and every required competent institution.

    A competent institution the national model requires but nobody registered cannot be listed;
    :func:`submit` refuses such a MoU and :func:`is_active` stays False (see ``plan_for().problems``).
    """
    session = _session_of(mou)
    return plan_for(session, current_version(mou).content, mou=mou).requirements


def _latest_decisions(session: Session, version: MouVersion) -> dict[Requirement, MouApproval]:
    """Per (organisation, role), the last decision given for exactly this version and hash."""
    rows = session.scalars(
        select(MouApproval)
        .where(MouApproval.mou_version_id == version.id, MouApproval.content_hash == version.content_hash)
        .order_by(MouApproval.id)
    )
    return {Requirement(a.organisation_id, a.role): a for a in rows}


def _all_approved(session: Session, version: MouVersion, plan: Plan) -> bool:
    if plan.problems or not plan.requirements:
        return False
    decisions = _latest_decisions(session, version)
    return all(
        (d := decisions.get(r)) is not None and d.decision == Decision.APPROVED for r in plan.requirements
    )


def is_active(mou: Mou) -> bool:
    """True only when every required approval holds for the same, current version and hash."""
    if mou.status in MouStatus.CLOSED:
        return False
    session = _session_of(mou)
    version = current_version(mou)
    return _all_approved(session, version, plan_for(session, version.content, mou=mou))


# --------------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------------


def _is_sender(actor: Actor, mou: Mou) -> bool:
    return actor.is_admin or mou.sending_organisation_id in actor.organisation_ids


def party_ids(session: Session, mou: Mou) -> set[int]:
    """Organisations that may see the MoU: the sending one, the signing ones and the required
    competent institutions (of the current version)."""
    content = current_version(mou).content
    ids = {mou.sending_organisation_id, *_signing_ids(content)}
    try:
        ids.update(r.organisation_id for r in plan_for(session, content, mou=mou).requirements)
    except Invalid:
        pass  # a broken national model table must not hide the MoU from its partners
    return ids


def _visible(session: Session, actor: Actor, mou: Mou) -> bool:
    return actor.is_admin or bool(party_ids(session, mou) & actor.organisation_ids)


def get(session: Session, *, actor: Actor, mou_id: int) -> Mou:
    """The MoU, for its parties and administrators; to anyone else it does not exist (404)."""
    mou = session.get(Mou, mou_id)
    if mou is None or not _visible(session, actor, mou):
        raise NotFound(f"No MoU {mou_id}")
    return mou


def _locked(session: Session, mou_id: int) -> Mou:
    """Lock the MoU row so concurrent approvals serialise and the last one sees all the others."""
    mou = session.scalars(
        select(Mou).where(Mou.id == mou_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if mou is None:
        raise NotFound(f"No MoU {mou_id}")
    return mou


# --------------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------------


def create_draft(
    session: Session,
    *,
    actor: Actor,
    sending_organisation_id: int,
    content: dict[str, Any],
    business_key: str | None = None,
) -> Mou:
    """Start a MoU as version 1, in draft. Only the sending organisation's members (or an admin)
    draft for it, because the draft is theirs until they submit it."""
    if session.get(Organisation, sending_organisation_id) is None:
        raise Invalid("Unknown sending organisation",
                      errors={"sending_organisation_id": [f"No organisation {sending_organisation_id}"]})
    if not (actor.is_admin or sending_organisation_id in actor.organisation_ids):
        raise Forbidden("Only members of the sending organisation draft its MoUs")
    content = _plain(content)
    _check_structure(session, content)
    if business_key is not None:
        business_key = business_key.strip() or None
    if business_key and session.scalar(select(Mou.id).where(Mou.business_key == business_key)) is not None:
        raise Conflict(f"A MoU with business key '{business_key}' already exists")
    now = utcnow()
    mou = Mou(business_key=business_key, sending_organisation_id=sending_organisation_id, status=MouStatus.DRAFT,
              created_by=actor.user_id, created_at=now, updated_at=now)
    session.add(mou)
    session.flush()
    version = MouVersion(mou_id=mou.id, number=1, content=content, content_hash=content_hash(content),
                         created_by=actor.user_id, created_at=now)
    session.add(version)
    session.flush()
    mou.current_version_id = version.id
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mou.created", mou_id=mou.id, version=1,
                 content_hash=version.content_hash, sending_organisation_id=sending_organisation_id)
    return mou


def revise(session: Session, *, actor: Actor, mou_id: int, content: dict[str, Any]) -> MouVersion:
    """Save a new text as version n+1; earlier approvals stay as records but no longer count.

    A draft stays a draft. A MoU in approval, or an active one being amended, is (back) in approval
    for the new text, so the text must be complete; the version last in force stays recorded
    (``active_version_id``) until the amendment is approved by everyone. Identical content makes
    no new version: nothing changed that anyone would need to sign again.
    """
    mou = _visible_locked(session, actor, mou_id)
    if not _is_sender(actor, mou):
        raise Forbidden("Only the sending organisation revises its MoU")
    if mou.status in MouStatus.CLOSED:
        raise Conflict(f"The MoU is {mou.status}; it can no longer be revised")
    content = _plain(content)
    _check_structure(session, content)
    current = current_version(mou)
    digest = content_hash(content)
    if digest == current.content_hash:
        return current
    if mou.status in (MouStatus.IN_APPROVAL, MouStatus.ACTIVE):
        _check_complete(mou, content)
        problems = plan_for(session, content, mou=mou).problems
        if problems:
            raise Invalid("The MoU cannot be approved as written", errors={"competent_institutions": problems})
    number = (session.scalar(select(func.max(MouVersion.number)).where(MouVersion.mou_id == mou.id)) or 0) + 1
    now = utcnow()
    version = MouVersion(mou_id=mou.id, number=number, content=content, content_hash=digest,
                         created_by=actor.user_id, created_at=now)
    session.add(version)
    session.flush()
    old_status = mou.status
    mou.current_version_id = version.id
    mou.updated_at = now
    if old_status in (MouStatus.IN_APPROVAL, MouStatus.ACTIVE):
        mou.status = MouStatus.IN_APPROVAL
        mou.submitted_at = now  # approval periods restart for the new text
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mou.revised", mou_id=mou.id, version=number,
                 content_hash=digest, previous_hash=current.content_hash, old_status=old_status, status=mou.status)
    return version


def submit(session: Session, *, actor: Actor, mou_id: int) -> Mou:
    """Put the current draft up for approval by every required party (complete texts only)."""
    mou = _visible_locked(session, actor, mou_id)
    if not _is_sender(actor, mou):
        raise Forbidden("Only the sending organisation submits its MoU")
    if mou.status != MouStatus.DRAFT:
        raise Conflict(f"The MoU is {mou.status}; only a draft can be submitted")
    version = current_version(mou)
    _check_complete(mou, version.content)
    plan = plan_for(session, version.content, mou=mou)
    if plan.problems:
        raise Invalid("The MoU cannot be approved as written", errors={"competent_institutions": plan.problems})
    now = utcnow()
    mou.status = MouStatus.IN_APPROVAL
    mou.submitted_at = now
    mou.updated_at = now
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mou.submitted", mou_id=mou.id, version=version.number,
                 content_hash=version.content_hash,
                 required=[list(r) for r in plan.requirements])
    _activate_if_complete(session, mou, version, plan, actor_id=actor.user_id)
    return mou


def _choose_organisation(
    plan: Plan, actor: Actor, role: str, organisation_id: int | None
) -> Requirement:
    """The requirement the caller answers for: their organisation in the role they claim."""
    candidates = [r for r in plan.requirements if r.role == role and r.organisation_id in actor.organisation_ids]
    if organisation_id is not None:
        candidates = [r for r in candidates if r.organisation_id == organisation_id]
    if not candidates:
        if role == ApprovalRole.PARTNER:
            raise Forbidden("Only members of a signing organisation approve as partner")
        raise Forbidden("Only members of a competent institution this MoU requires approve in that role")
    if len(candidates) > 1:
        raise Invalid("You belong to several organisations that approve this MoU: say which",
                      errors={"organisation_id": [f"One of {sorted(r.organisation_id for r in candidates)}"]})
    return candidates[0]


def _check_role(as_role: str) -> None:
    if as_role not in ApprovalRole.ALL:
        raise Invalid("Unknown approval role", errors={"as_role": [f"One of {', '.join(ApprovalRole.ALL)}"]})


def _visible_locked(session: Session, actor: Actor, mou_id: int) -> Mou:
    mou = _locked(session, mou_id)
    if not _visible(session, actor, mou):
        raise NotFound(f"No MoU {mou_id}")
    return mou


def _decide_checks(
    session: Session, actor: Actor, mou: Mou, given_hash: str, as_role: str, organisation_id: int | None
) -> tuple[MouVersion, Plan, Requirement]:
    """What approving and rejecting share: role, freshness of the text, state."""
    _check_role(as_role)
    version = current_version(mou)
    plan = plan_for(session, version.content, mou=mou)
    requirement = _choose_organisation(plan, actor, as_role, organisation_id)
    if given_hash != version.content_hash:
        raise Conflict(STALE_MESSAGE, errors={"content_hash": [
            f"You quoted {given_hash!r}; the current text is version {version.number} ({version.content_hash})"
        ]})
    if mou.status != MouStatus.IN_APPROVAL:
        raise Conflict(f"The MoU is {mou.status}, not in approval")
    existing = _latest_decisions(session, version).get(requirement)
    if existing is not None and existing.decision == Decision.APPROVED:
        raise Conflict("Your organisation has already approved this version")
    return version, plan, requirement


def approve(
    session: Session,
    *,
    actor: Actor,
    mou_id: int,
    content_hash: str,
    signer: dict[str, Any] | None = None,
    as_role: str = ApprovalRole.PARTNER,
    organisation_id: int | None = None,
) -> MouApproval:
    """Sign the current text for the caller's organisation, as the signed-in person (:mod:`records.signing`:
    `signer` may only give position and place; a name or e-mail that is not the caller's is refused, 422).
    The quoted hash must be the current one: an approval of a text the approver did not read would be
    worthless (409, nothing stored)."""
    mou = _visible_locked(session, actor, mou_id)
    version, plan, requirement = _decide_checks(session, actor, mou, content_hash, as_role, organisation_id)
    signed = signing.for_organisation(session, actor=actor, organisation_id=requirement.organisation_id,
                                      submitted=signer)
    approval = _record(session, mou, version, requirement, decision=Decision.APPROVED, mode=ApprovalMode.EXPLICIT,
                       signer=signed, comment=None, actor_id=actor.user_id)
    _activate_if_complete(session, mou, version, plan, actor_id=actor.user_id)
    return approval


def reject(
    session: Session,
    *,
    actor: Actor,
    mou_id: int,
    content_hash: str,
    comment: str,
    as_role: str = ApprovalRole.PARTNER,
    signer: dict[str, Any] | None = None,
    organisation_id: int | None = None,
) -> MouApproval:
    """Refuse the current text with a reason and hand the draft back to the sending organisation.

    The comment is required: the author needs to know what to change."""
    mou = _visible_locked(session, actor, mou_id)
    if not (comment or "").strip():
        raise Invalid("A rejection needs a comment", errors={"comment": ["Say what has to change"]})
    version, _plan, requirement = _decide_checks(session, actor, mou, content_hash, as_role, organisation_id)
    # A rejection is a decision of the organisation too: it says who gave it, the position may be unknown.
    signed = signing.for_organisation(session, actor=actor, organisation_id=requirement.organisation_id,
                                      submitted=signer, position_required=False)
    approval = _record(session, mou, version, requirement, decision=Decision.REJECTED, mode=ApprovalMode.EXPLICIT,
                       signer=signed, comment=comment.strip(), actor_id=actor.user_id)
    old = mou.status
    mou.status = MouStatus.DRAFT
    mou.submitted_at = None
    mou.updated_at = utcnow()
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="mou.status_changed", mou_id=mou.id, old=old,
                 new=mou.status, reason="rejected")
    return approval


def implicit_approval(
    session: Session,
    *,
    mou_id: int,
    organisation_id: int,
    actor: Actor | None = None,
) -> MouApproval:
    """Record that a competent institution approved by raising no objection within its period.

    Called by the lifecycle's deadline timer (no person acts, so ``actor`` is usually None). Refused
    when the national model does not provide implicit approval for that institution, when the period
    has not run out yet, or when the institution already decided on this version.
    """
    mou = _locked(session, mou_id)
    if actor is not None and not actor.is_admin:
        raise Forbidden("Implicit approvals are recorded by the platform's deadline timers")
    if mou.status != MouStatus.IN_APPROVAL:
        raise Conflict(f"The MoU is {mou.status}, not in approval")
    version = current_version(mou)
    plan = plan_for(session, version.content, mou=mou)
    requirement = Requirement(organisation_id, ApprovalRole.COMPETENT_INSTITUTION)
    if requirement not in plan.modes:
        raise Invalid("This organisation is not a competent institution the MoU requires",
                      errors={"organisation_id": [str(organisation_id)]})
    mode, days = plan.modes[requirement]
    if mode != ApprovalMode.IMPLICIT:
        raise Conflict(f"The national model of {plan.countries[requirement]} requires an explicit approval")
    assert mou.submitted_at is not None
    deadline = mou.submitted_at + timedelta(days=days)
    if utcnow() < deadline:
        raise Conflict(f"The objection period runs until {deadline.isoformat()}")
    if _latest_decisions(session, version).get(requirement) is not None:
        raise Conflict("The competent institution has already decided on this version")
    approval = _record(session, mou, version, requirement, decision=Decision.APPROVED, mode=ApprovalMode.IMPLICIT,
                       signer=None, comment=f"No objection within {days} days",
                       actor_id=actor.user_id if actor else None)
    _activate_if_complete(session, mou, version, plan, actor_id=actor.user_id if actor else None)
    return approval


def expire(session: Session, *, mou_id: int, actor: Actor | None = None) -> Mou:
    """End the MoU (its validity date passed, or the partners ended it); it can then only be read."""
    mou = _locked(session, mou_id)
    if actor is not None:
        if not _visible(session, actor, mou):
            raise NotFound(f"No MoU {mou_id}")
        if not _is_sender(actor, mou):
            raise Forbidden("Only the sending organisation ends its MoU")
    if mou.status in MouStatus.CLOSED:
        raise Conflict(f"The MoU is already {mou.status}")
    old = mou.status
    mou.status = MouStatus.EXPIRED
    mou.updated_at = utcnow()
    session.flush()
    audit.record(session, actor_id=actor.user_id if actor else None, action="mou.status_changed", mou_id=mou.id,
                 old=old, new=mou.status, reason="expired")
    return mou


def _record(
    session: Session,
    mou: Mou,
    version: MouVersion,
    requirement: Requirement,
    *,
    decision: str,
    mode: str,
    signer: signing.Signer | None,
    comment: str | None,
    actor_id: int | None,
) -> MouApproval:
    """One decision row; `signer` None for an approval by silence (no person signed)."""
    approval = MouApproval(
        mou_id=mou.id, mou_version_id=version.id, organisation_id=requirement.organisation_id,
        role=requirement.role, decision=decision, comment=comment,
        signed_at=signer.signed_at if signer else utcnow(), mode=mode, content_hash=version.content_hash,
        recorded_by=actor_id, **(signer.columns() if signer else {}),
    )
    session.add(approval)
    session.flush()
    audit.record(session, actor_id=actor_id, action=f"mou.{decision}", mou_id=mou.id, version=version.number,
                 content_hash=version.content_hash, organisation_id=requirement.organisation_id,
                 role=requirement.role, mode=mode, approval_id=approval.id, comment=comment,
                 signer_user_id=approval.signer_user_id)
    return approval


def _activate_if_complete(
    session: Session, mou: Mou, version: MouVersion, plan: Plan, *, actor_id: int | None
) -> None:
    if mou.status == MouStatus.IN_APPROVAL and _all_approved(session, version, plan):
        mou.status = MouStatus.ACTIVE
        mou.active_version_id = version.id
        mou.updated_at = utcnow()
        session.flush()
        audit.record(session, actor_id=actor_id, action="mou.status_changed", mou_id=mou.id,
                     old=MouStatus.IN_APPROVAL, new=MouStatus.ACTIVE, version=version.number,
                     content_hash=version.content_hash)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def get_version(session: Session, *, actor: Actor, mou_id: int, number: int) -> MouVersion:
    """One version as it was approved or refused (parties and admins only)."""
    mou = get(session, actor=actor, mou_id=mou_id)
    version = session.scalar(select(MouVersion).where(MouVersion.mou_id == mou.id, MouVersion.number == number))
    if version is None:
        raise NotFound(f"MoU {mou_id} has no version {number}")
    return version


def approvals_of(session: Session, mou: Mou) -> list[MouApproval]:
    return list(session.scalars(select(MouApproval).where(MouApproval.mou_id == mou.id).order_by(MouApproval.id)))


def _approval_view(approval: MouApproval, numbers: dict[int, int], current: MouVersion) -> dict[str, Any]:
    return {
        "id": approval.id, "version": numbers.get(approval.mou_version_id),
        "organisation_id": approval.organisation_id, "role": approval.role, "decision": approval.decision,
        "comment": approval.comment, "mode": approval.mode,
        "signer": signing.view(approval),
        "signed_at": approval.signed_at, "content_hash": approval.content_hash,
        "counts": approval.mou_version_id == current.id and approval.content_hash == current.content_hash,
    }


def describe_approval(session: Session, approval: MouApproval) -> dict[str, Any]:
    """An approval as the API shows it: with its version number and whether it counts."""
    version = session.get(MouVersion, approval.mou_version_id)
    mou = session.get(Mou, approval.mou_id)
    assert version is not None and mou is not None
    return _approval_view(approval, {version.id: version.number}, current_version(mou))


def detail(session: Session, *, actor: Actor, mou_id: int) -> dict[str, Any]:
    """Everything a party needs to decide: current text and hash, who must approve and how, every
    approval ever given (with whether it still counts), and what blocks approval, if anything."""
    mou = get(session, actor=actor, mou_id=mou_id)
    version = current_version(mou)
    try:
        plan = plan_for(session, version.content, mou=mou)
    except Invalid as exc:
        plan = Plan(problems=[exc.message])
    decisions = _latest_decisions(session, version)
    numbers = dict(session.execute(select(MouVersion.id, MouVersion.number).where(MouVersion.mou_id == mou.id)).all())
    approvals = [_approval_view(a, numbers, version) for a in approvals_of(session, mou)]
    required = []
    for r in plan.requirements:
        mode, days = plan.modes[r]
        latest = decisions.get(r)
        required.append({"organisation_id": r.organisation_id, "role": r.role, "mode": mode, "days": days,
                         "decision": latest.decision if latest else None})
    signing = _signing_ids(version.content)
    parties = [{"organisation_id": i, "roles": ["partner"]} for i in signing]
    for r in plan.requirements:
        if r.role == ApprovalRole.COMPETENT_INSTITUTION:
            entry = next((p for p in parties if p["organisation_id"] == r.organisation_id), None)
            if entry is None:
                parties.append({"organisation_id": r.organisation_id, "roles": [r.role]})
            else:
                entry["roles"].append(r.role)
    return {
        "id": mou.id,
        "business_key": mou.business_key,
        "status": mou.status,
        "sending_organisation_id": mou.sending_organisation_id,
        "version": version.number,
        "content": version.content,
        "content_hash": version.content_hash,
        "active_version": numbers.get(mou.active_version_id) if mou.active_version_id else None,
        "submitted_at": mou.submitted_at,
        "created_at": mou.created_at,
        "updated_at": mou.updated_at,
        "is_active": mou.status == MouStatus.ACTIVE and _all_approved(session, version, plan),
        "parties": parties,
        "required_approvals": required,
        "national_models": {c: m.as_dict() for c, m in plan.models.items()},
        "national_models_table": mou.national_models_sha256,
        "approvals": approvals,
        "problems": plan.problems,
    }


# --------------------------------------------------------------------------------------------------
# Nominating learners under a MoU in force
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationTerms:
    """What a nomination under a MoU may choose, read from the version in force: the hosting
    partners, the qualifications covered, the planned duration of mobilities and the validity date."""

    mou: Mou
    version: MouVersion
    hosting: list[Organisation]
    qualifications: list[dict[str, Any]]
    min_weeks: int | None
    max_weeks: int | None
    valid_until: str | None

    @property
    def file_code(self) -> str:
        return str(self.version.content.get("file_code") or f"MoU {self.mou.id}")


def nominable(session: Session, *, actor: Actor) -> list[Mou]:
    """The MoUs in force that the caller's organisation sends learners under (administrators: every
    MoU in force), newest first: where "Nominate a learner" may start."""
    stmt = select(Mou).where(Mou.active_version_id.is_not(None), Mou.status.not_in(MouStatus.CLOSED))
    if not actor.is_admin:
        stmt = stmt.where(Mou.sending_organisation_id.in_(actor.organisation_ids or {-1}))
    return [mou for mou in session.scalars(stmt.order_by(Mou.id.desc())) if in_force_version(mou) is not None]


def nomination_terms(session: Session, *, actor: Actor, mou_id: int) -> NominationTerms:
    """The choices a nomination under this MoU has (404 to non-parties, 403 to parties that are not its
    sending organisation, 409 when no version is in force), as :func:`records.mobility.nominate` checks them."""
    mou = get(session, actor=actor, mou_id=mou_id)
    if not _is_sender(actor, mou):
        raise Forbidden("Only members of the MoU's sending organisation nominate learners under it")
    version = in_force_version(mou)
    if version is None:
        raise Conflict(f"The MoU is {mou.status} and has no version in force")
    content = version.content
    hosting_ids = [i for i in _signing_ids(content) if i != mou.sending_organisation_id]
    found = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(hosting_ids or [-1])))}
    duration = content.get("mobility_duration_weeks") or {}
    return NominationTerms(
        mou=mou, version=version, hosting=[found[i] for i in hosting_ids if i in found],
        qualifications=[q for q in content.get("qualifications") or [] if isinstance(q.get("title"), str)],
        min_weeks=duration.get("min") if isinstance(duration.get("min"), int) else None,
        max_weeks=duration.get("max") if isinstance(duration.get("max"), int) else None,
        valid_until=content.get("valid_until") if isinstance(content.get("valid_until"), str) else None,
    )
