"""Partner profiles: what each partner of a partnership tells the others about itself.

A profile holds the organisation's data (name, country, type, contact person, Erasmus+ OID, PIC),
the qualifications it offers (EQF/NQF level, ECVET points, units with their learning outcomes as
knowledge, skills and competence), a description of its country's VET system, and Europass
Certificate Supplements as attachments (:mod:`ecvet.partnership.attachments`). Every save is a new row
(append-only evidence); the newest of an organisation in a partnership is its current profile.

Who may write: members of the organisation the profile describes (admins with ``on_behalf`` through
the task). Who may read: the parties of the partnership and administrators.
"""
from __future__ import annotations

from typing import Any

from jsonschema.validators import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecvet.evidence import content_hash
from ecvet.national_models import codes
from ecvet.partnership import attachments, service
from ecvet.partnership.models import PartnerProfile, Partnership, PartnershipSide
from ecvet.qualification.models import OutcomeKind
from engine import audit
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Organisation
from engine.parties import Actor

RECORD_TYPE = "partner_profile"

_SHORT = {"type": "string", "maxLength": 300}
_TEXT = {"type": "string", "maxLength": 10_000}
_ATTACHMENT = {"type": "integer", "format": attachments.FORMAT, "minimum": 1}
_OUTCOME = {
    "type": "object",
    "required": ["kind", "text"],
    "properties": {"kind": {"enum": list(OutcomeKind.ALL)}, "text": {"type": "string", "minLength": 1,
                                                                      "maxLength": 2000}},
}
_UNIT = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "code": {"type": "string", "maxLength": 50},
        "title": {"type": "string", "minLength": 1, "maxLength": 300},
        "ecvet_points": {"type": "number", "minimum": 0},
        "learning_outcomes": {"type": "array", "items": _OUTCOME},
    },
}

#: The content of one profile; the forms ``partnership_profile_*.json`` present the same fields.
CONTENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["organisation", "qualifications_offered", "vet_system"],
    "properties": {
        "organisation": {
            "type": "object",
            "required": ["name", "country", "contact_person"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 300},
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "type": {"type": "string", "maxLength": 200},
                "address": {"type": "string", "maxLength": 1000},
                "website": _SHORT,
                "erasmus_oid": {"type": "string", "pattern": "^E[0-9]{8}$"},
                "pic": {"type": "string", "pattern": "^[0-9]{9}$"},
                "contact_person": {
                    "type": "object",
                    "required": ["name", "email"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "position": {"type": "string", "maxLength": 200},
                        "phone": {"type": "string", "maxLength": 50},
                        "email": {"type": "string", "format": "email", "maxLength": 254},
                    },
                },
            },
        },
        "qualifications_offered": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["title"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 300},
                    "eqf_level": {"type": "integer", "minimum": 1, "maximum": 8},
                    "nqf_level": {"type": "string", "maxLength": 20},
                    "ecvet_points": {"type": "number", "minimum": 0},
                    "sector": {"enum": list(codes.sector_codes()),
                               "description": "a sector code (ecvet/national_models/data/sectors.csv): partner search"},
                    "units": {"type": "array", "items": _UNIT},
                },
            },
        },
        "vet_system": {"type": "string", "minLength": 1, "maxLength": 10_000},
        "vet_system_attachments": {"type": "array", "items": _ATTACHMENT, "uniqueItems": True},
        "europass_certificate_supplements": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "qualification": _SHORT,
                    "attachment_id": _ATTACHMENT,
                    "url": {"type": "string", "maxLength": 1000},
                    "reference": {"type": "string", "maxLength": 200},
                },
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(CONTENT_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check_content(content: Any) -> dict[str, Any]:
    if not isinstance(content, dict):
        raise Invalid("The partner profile must be an object", errors={"profile": ["Not an object"]})
    errors: dict[str, list[str]] = {}
    for error in sorted(_VALIDATOR.iter_errors(content), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path) or "profile"
        errors.setdefault(path, []).append(error.message)
    for i, supplement in enumerate(content.get("europass_certificate_supplements") or []):
        if isinstance(supplement, dict) and not any(supplement.get(k) for k in ("attachment_id", "url", "reference")):
            errors[f"europass_certificate_supplements.{i}"] = ["Attach the supplement, or give its link or reference"]
    if errors:
        raise Invalid("The partner profile is not valid", errors=errors)
    return content


def attachment_ids(content: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, id) of every attachment the profile refers to."""
    return attachments.ids_in(content, CONTENT_SCHEMA)


def save(
    session: Session,
    *,
    actor: Actor,
    partnership: Partnership,
    organisation_id: int,
    content: Any,
) -> PartnerProfile:
    """Store a new version of an organisation's profile in this partnership, with its attachments."""
    if organisation_id == partnership.sending_organisation_id:
        side = PartnershipSide.SENDING
    elif organisation_id == partnership.hosting_organisation_id:
        side = PartnershipSide.HOSTING
    else:
        raise Invalid("Only the sending and the hosting organisation describe themselves in a partnership",
                      errors={"organisation_id": [f"Organisation {organisation_id} is not a partner"]})
    if not (actor.is_admin or organisation_id in actor.organisation_ids):
        raise Forbidden("Only members of an organisation write its profile")
    content = _check_content(content)
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    if content["organisation"]["country"] != organisation.country:
        raise Invalid("The profile names another country than the organisation is registered in",
                      errors={"organisation.country": [f"Registered in {organisation.country}"]})
    refs = attachment_ids(content)
    errors = attachments.check_usable(session, actor=actor, ids=refs)
    if errors:
        raise Invalid("The profile refers to attachments that cannot be used", errors=errors)
    digest = content_hash(content)
    profile = PartnerProfile(partnership_id=partnership.id, organisation_id=organisation_id, side=side,
                             content=content, content_hash=digest, created_by=actor.user_id)
    session.add(profile)
    session.flush()
    attachments.reference(session, attachment_ids=[i for _, i in refs], partnership=partnership,
                          record_type=RECORD_TYPE, record_id=profile.id)
    audit.record(session, actor_id=actor.user_id, action="partner_profile.saved",
                 instance_id=partnership.instance_id, partnership_id=partnership.id, profile_id=profile.id,
                 organisation_id=organisation_id, side=side, content_hash=digest,
                 attachment_ids=[i for _, i in refs])
    return profile


def current_profiles(session: Session, partnership: Partnership) -> list[PartnerProfile]:
    """The newest profile of each partner (sending first)."""
    newest = (select(func.max(PartnerProfile.id))
              .where(PartnerProfile.partnership_id == partnership.id)
              .group_by(PartnerProfile.organisation_id))
    rows = list(session.scalars(select(PartnerProfile).where(PartnerProfile.id.in_(newest))))
    return sorted(rows, key=lambda p: (p.side != PartnershipSide.SENDING, p.id))


def history(session: Session, *, actor: Actor, partnership_id: int) -> list[PartnerProfile]:
    """Every profile saved in the partnership, oldest first (parties and admins)."""
    partnership = service.get(session, actor=actor, partnership_id=partnership_id)
    return list(session.scalars(select(PartnerProfile).where(PartnerProfile.partnership_id == partnership.id)
                                .order_by(PartnerProfile.id)))


def get(session: Session, *, actor: Actor, profile_id: int) -> PartnerProfile:
    """One profile, for the parties of its partnership and administrators; 404 for anyone else."""
    profile = session.get(PartnerProfile, profile_id)
    if profile is None:
        raise NotFound(f"No partner profile {profile_id}")
    partnership = session.get(Partnership, profile.partnership_id)
    if partnership is None or not service.is_party(session, actor, partnership):
        raise NotFound(f"No partner profile {profile_id}")
    return profile
