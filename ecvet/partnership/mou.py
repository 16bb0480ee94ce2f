"""Memoranda of Understanding: drafting, versions, approvals bound to a content hash, activation.

The mechanics follow what the Erasmus Without Paper network proved in practice:

* An approval binds to the SHA-256 of the exact text approved (canonical JSON: sorted keys, no
  whitespace), so "what did they sign?" always has one answer. An approval quoting another hash
  than the current one is refused (409): the approver read an older text.
* Any edit is a new version with a new hash; earlier approvals stay as evidence but stop counting.
* A MoU is in force (``active``) only when every required party has approved the *same* current
  version: every signing partner, plus the competent institutions that the national model of a
  partner's country requires (:mod:`ecvet.national_models.service`, a DMN table process owners edit).
* A rejection needs a comment and returns the draft to the sending organisation.
* Implicit approval (a competent institution that raised no objection within the period its national
  model gives) is recorded as such, by the deadline timer of the lifecycle process.

Every change is written to the audit trail in the caller's unit of work.
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from jsonschema.validators import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from ecvet.evidence import canonical_json, content_hash
from ecvet.national_models import codes
from ecvet.partnership.approvers import Requirement, all_approved, plan_for, signing_ids
from ecvet.partnership.models import Mou, MouApproval, MouStatus, MouVersion
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Organisation, utcnow
from engine.parties import EMAIL_RE, Actor

MIN_SIGNING_ORGANISATIONS = 2  # the sending organisation and at least one partner
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


def plain(content: Any) -> dict[str, Any]:
    """The content as plain JSON (a dict), or 422: only JSON can be hashed and stored faithfully."""
    if not isinstance(content, dict):
        raise Invalid("The MoU content must be a JSON object", errors={"content": ["not an object"]})
    try:
        return json.loads(canonical_json(content))
    except (TypeError, ValueError) as exc:
        raise Invalid("The MoU content must be plain JSON", errors={"content": [str(exc)]}) from exc


def _error_path(error: Any) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "content"


def _organisation_ids(content: dict[str, Any]) -> dict[str, int]:
    """Every organisation id the content names, by its path in the content."""
    ids: dict[str, int] = {}
    for i, org in enumerate(content.get("signing_organisations", [])):
        if "organisation_id" in org:
            ids[f"signing_organisations.{i}.organisation_id"] = org["organisation_id"]
    for i, ci in enumerate(content.get("competent_institutions", [])):
        ids[f"competent_institutions.{i}.organisation_id"] = ci["organisation_id"]
    for name in ARRANGEMENTS:
        for j, org_id in enumerate(content.get("arrangements", {}).get(name, {}).get("organisation_ids", [])):
            ids[f"arrangements.{name}.organisation_ids.{j}"] = org_id
    return ids


def _dates_and_duration(content: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "valid_until" in content:
        try:
            date.fromisoformat(content["valid_until"])
        except ValueError:
            errors.setdefault("valid_until", []).append("Not an ISO date (YYYY-MM-DD)")
    duration = content.get("mobility_duration_weeks", {})
    if "min" in duration and "max" in duration and duration["min"] > duration["max"]:
        errors.setdefault("mobility_duration_weeks", []).append("min is more than max")


def check_structure(session: Session, content: dict[str, Any]) -> None:
    """Types and shapes (drafts may be incomplete) and organisation ids that exist."""
    errors: dict[str, list[str]] = {}
    for error in sorted(_VALIDATOR.iter_errors(content), key=lambda e: list(e.absolute_path)):
        errors.setdefault(_error_path(error), []).append(error.message)
    if errors:
        raise Invalid("The MoU content is not valid", errors=errors)
    ids = _organisation_ids(content)
    known = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(set(ids.values()) or {-1}))))
    for path, org_id in ids.items():
        if org_id not in known:
            errors.setdefault(path, []).append(f"No organisation {org_id}")
    _dates_and_duration(content, errors)
    if errors:
        raise Invalid("The MoU content is not valid", errors=errors)


def _signing_organisations(mou: Mou, signing: list[dict[str, Any]], errors: dict[str, list[str]]) -> None:
    """Registered organisations, each once, at least two, the sending one among them, each with a contact."""
    ids = [o.get("organisation_id") for o in signing]
    problems = errors.setdefault("signing_organisations", [])
    if any(i is None for i in ids):
        problems.append("Every signing organisation must be a registered organisation (organisation_id)")
    if len(set(ids)) != len(ids):
        problems.append("An organisation signs once")
    if len({i for i in ids if i is not None}) < MIN_SIGNING_ORGANISATIONS:
        problems.append("A MoU needs at least two signing organisations")
    if mou.sending_organisation_id not in ids:
        problems.append("The sending organisation must sign the MoU")
    if not problems:
        del errors["signing_organisations"]
    for i, org in enumerate(signing):
        contact = org.get("contact_person") or {}
        if not contact.get("name") or not EMAIL_RE.match(contact.get("email") or ""):
            errors[f"signing_organisations.{i}.contact_person"] = ["A contact person with name and e-mail"]


def _qualifications_and_arrangements(content: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for i, qualification in enumerate(content.get("qualifications") or []):
        if not qualification.get("title") or not qualification.get("units"):
            errors[f"qualifications.{i}"] = ["A qualification needs a title and the units concerned"]
    arrangements = content.get("arrangements") or {}
    for name in ARRANGEMENTS:
        if arrangements and not (arrangements.get(name) or {}).get("how"):
            errors[f"arrangements.{name}"] = ["Say how it is done and who does it"]


def _still_valid(content: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if not content.get("valid_until"):
        return
    try:
        if date.fromisoformat(content["valid_until"]) <= utcnow().date():
            errors["valid_until"] = ["The validity date has passed"]
    except ValueError:
        errors["valid_until"] = ["Not an ISO date (YYYY-MM-DD)"]


def check_complete(mou: Mou, content: dict[str, Any]) -> None:
    """What the template requires before anyone is asked to sign."""
    errors: dict[str, list[str]] = {}
    for name in REQUIRED_FIELDS:
        if content.get(name) in (None, "", [], {}):
            errors[name] = ["Required before the MoU is submitted for approval"]
    signing = content.get("signing_organisations") or []
    if signing:
        _signing_organisations(mou, signing, errors)
    _qualifications_and_arrangements(content, errors)
    _still_valid(content, errors)
    if errors:
        raise Invalid("The MoU is not complete enough to be approved", errors=errors)


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


def is_active(mou: Mou) -> bool:
    """True only when every required approval holds for the same, current version and hash."""
    if mou.status in MouStatus.CLOSED:
        return False
    session = _session_of(mou)
    version = current_version(mou)
    return all_approved(session, version, plan_for(session, version.content, mou=mou))


# --------------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------------


def is_sender(actor: Actor, mou: Mou) -> bool:
    return actor.is_admin or mou.sending_organisation_id in actor.organisation_ids


def party_ids(session: Session, mou: Mou) -> set[int]:
    """Organisations that may see the MoU: the sending one, the signing ones and the required
    competent institutions (of the current version)."""
    content = current_version(mou).content
    ids = {mou.sending_organisation_id, *signing_ids(content)}
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


def locked(session: Session, mou_id: int) -> Mou:
    """Lock the MoU row so concurrent approvals serialise and the last one sees all the others."""
    mou = session.scalars(
        select(Mou).where(Mou.id == mou_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if mou is None:
        raise NotFound(f"No MoU {mou_id}")
    return mou


def visible_locked(session: Session, actor: Actor, mou_id: int) -> Mou:
    """The MoU locked for this unit of work, for its parties and administrators (404 for anyone else)."""
    mou = locked(session, mou_id)
    if not _visible(session, actor, mou):
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
    content = plain(content)
    check_structure(session, content)
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
    mou = visible_locked(session, actor, mou_id)
    if not is_sender(actor, mou):
        raise Forbidden("Only the sending organisation revises its MoU")
    if mou.status in MouStatus.CLOSED:
        raise Conflict(f"The MoU is {mou.status}; it can no longer be revised")
    content = plain(content)
    check_structure(session, content)
    current = current_version(mou)
    digest = content_hash(content)
    if digest == current.content_hash:
        return current
    if mou.status in (MouStatus.IN_APPROVAL, MouStatus.ACTIVE):
        check_complete(mou, content)
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


def expire(session: Session, *, mou_id: int, actor: Actor | None = None) -> Mou:
    """End the MoU (its validity date passed, or the partners ended it); it can then only be read."""
    mou = locked(session, mou_id)
    if actor is not None:
        if not _visible(session, actor, mou):
            raise NotFound(f"No MoU {mou_id}")
        if not is_sender(actor, mou):
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
