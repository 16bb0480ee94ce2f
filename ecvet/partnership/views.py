"""What a party of a partnership reads: the partnership, its profiles, role map, attachments, MoU and
approvals, each described once here (the API's schemas only declare the types; documents reuse them).

Who may read is decided by the services these views call (404 for anyone who is not a party).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.partnership import deadlines, profiles, roles, service
from ecvet.partnership.approvers import Plan, all_approved, latest_decisions, plan_for, signing_ids
from ecvet.partnership.models import (
    ApprovalRole,
    Attachment,
    Mou,
    MouApproval,
    MouStatus,
    MouVersion,
    PartnerProfile,
    RoleMap,
)
from ecvet.partnership.mou import approvals_of, current_version, get
from engine.errors import Invalid
from engine.parties import Actor


def partnership(session: Session, *, actor: Actor, partnership_id: int) -> dict[str, Any]:
    """The partnership with its current profiles, role map and MoU summary (parties and admins)."""
    found = service.get(session, actor=actor, partnership_id=partnership_id)
    home, host = service.countries(session, found)
    current_map = roles.current(session, found.id)
    return {
        "id": found.id,
        "instance_id": found.instance_id,
        "sending_organisation_id": found.sending_organisation_id,
        "hosting_organisation_id": found.hosting_organisation_id,
        "home_country": home,
        "host_country": host,
        "parties": sorted(service.party_ids(session, found)),
        "created_at": found.created_at,
        "profiles": [profile(session, p) for p in profiles.current_profiles(session, found)],
        "role_map": role_map(session, current_map) if current_map is not None else None,
        "mou": _mou_summary(session, found.mou_id),
    }


def _mou_summary(session: Session, mou_id: int | None) -> dict[str, Any] | None:
    formalised_by = session.get(Mou, mou_id) if mou_id is not None else None
    if formalised_by is None:
        return None
    version = current_version(formalised_by)
    return {"id": formalised_by.id, "status": formalised_by.status, "version": version.number,
            "content_hash": version.content_hash, "valid_until": version.content.get("valid_until")}


def attachment(row: Attachment) -> dict[str, Any]:
    """An attachment's metadata (its bytes are a download of their own)."""
    return {
        "id": row.id, "sha256": row.sha256, "filename": row.filename, "media_type": row.media_type,
        "size": row.size, "organisation_id": row.organisation_id, "uploaded_by": row.uploaded_by,
        "created_at": row.created_at,
    }


def profile(session: Session, row: PartnerProfile) -> dict[str, Any]:
    """A profile with the metadata of the attachments it refers to (ids alone mean little to a reader)."""
    ids = [i for _, i in profiles.attachment_ids(row.content) if isinstance(i, int)]
    found = {a.id: attachment(a) for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids or [-1])))}
    return {
        "id": row.id, "partnership_id": row.partnership_id, "organisation_id": row.organisation_id,
        "side": row.side, "content": row.content, "content_hash": row.content_hash,
        "created_by": row.created_by, "created_at": row.created_at,
        "attachments": [found[i] for i in dict.fromkeys(ids) if i in found],
    }


def role_map(session: Session, row: RoleMap) -> dict[str, Any]:
    """The map with, per entry, whether the platform's registry knows that organisation as competent
    for that function in that country (None when the entry names no registered organisation)."""
    named = [e.organisation_id for e in row.entries if e.organisation_id is not None]
    registered = {
        (c.organisation_id, c.country, c.function)
        for c in session.scalars(select(OrganisationCompetence).where(
            OrganisationCompetence.organisation_id.in_(named or [-1])))
    }
    return {
        "id": row.id,
        "partnership_id": row.partnership_id,
        "notes": row.notes,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "entries": [
            {"function": e.function, "side": e.side, "country": e.country, "organisation_id": e.organisation_id,
             "organisation_name": e.organisation_name, "notes": e.notes,
             "registered": None if e.organisation_id is None
             else (e.organisation_id, e.country, e.function) in registered}
            for e in row.entries
        ],
    }


def approval(row: MouApproval, numbers: dict[int, int], shown: MouVersion) -> dict[str, Any]:
    """One approval or rejection, with the number of the version it was given for and whether it
    ``counts`` for `shown` (given for exactly that version and hash)."""
    return {
        "id": row.id, "version": numbers.get(row.mou_version_id),
        "organisation_id": row.organisation_id, "role": row.role, "decision": row.decision,
        "comment": row.comment, "mode": row.mode,
        "signer": signing.view(row),
        "signed_at": row.signed_at, "content_hash": row.content_hash,
        "counts": row.mou_version_id == shown.id and row.content_hash == shown.content_hash,
    }


def recorded_approval(session: Session, row: MouApproval) -> dict[str, Any]:
    """An approval just recorded, as the API answers it: whether it counts for the current version."""
    version = session.get(MouVersion, row.mou_version_id)
    memorandum = session.get(Mou, row.mou_id)
    assert version is not None
    assert memorandum is not None
    return approval(row, {version.id: version.number}, current_version(memorandum))


def version_numbers(session: Session, mou_id: int) -> dict[int, int]:
    """Version id -> number, for every version of the MoU."""
    rows = session.execute(select(MouVersion.id, MouVersion.number).where(MouVersion.mou_id == mou_id)).all()
    return {version_id: number for version_id, number in rows}


def _parties(plan: Plan, signing_organisations: list[int]) -> list[dict[str, Any]]:
    """Every organisation of the MoU with the roles it approves in (partner, competent institution)."""
    parties: list[dict[str, Any]] = [{"organisation_id": i, "roles": ["partner"]} for i in signing_organisations]
    for r in plan.requirements:
        if r.role != ApprovalRole.COMPETENT_INSTITUTION:
            continue
        entry = next((p for p in parties if p["organisation_id"] == r.organisation_id), None)
        if entry is None:
            parties.append({"organisation_id": r.organisation_id, "roles": [r.role]})
        else:
            entry["roles"].append(r.role)
    return parties


def _supporting_actors(session: Session, countries: list[str]) -> list[dict[str, Any]]:
    """The National Agencies and National Europass Centres of the MoU's countries (recorded in the
    registry; they inform and fund, and are never asked to approve)."""
    rows = session.scalars(select(OrganisationCompetence).where(
        OrganisationCompetence.country.in_(countries or [""]),
        OrganisationCompetence.function.in_(CompetenceFunction.SUPPORTING),
    ).order_by(OrganisationCompetence.country, OrganisationCompetence.function, OrganisationCompetence.organisation_id))
    return [{"organisation_id": r.organisation_id, "country": r.country, "function": r.function} for r in rows]


def mou(session: Session, *, actor: Actor, mou_id: int) -> dict[str, Any]:
    """Everything a party needs to decide: current text and hash, who must approve and how, every
    approval ever given (with whether it still counts), and what blocks approval, if anything."""
    found = get(session, actor=actor, mou_id=mou_id)
    version = current_version(found)
    try:
        plan = plan_for(session, version.content, mou=found)
    except Invalid as exc:
        plan = Plan(problems=[exc.message])
    decisions = latest_decisions(session, version)
    numbers = version_numbers(session, found.id)
    required = []
    for r in plan.requirements:
        mode, days = plan.modes[r]
        latest = decisions.get(r)
        required.append({"organisation_id": r.organisation_id, "role": r.role, "mode": mode, "days": days,
                         "decision": latest.decision if latest else None,
                         "due_at": deadlines.due_at(found, plan, r), "if_silent": deadlines.if_silent(plan, r)})
    return {
        "id": found.id,
        "business_key": found.business_key,
        "status": found.status,
        "sending_organisation_id": found.sending_organisation_id,
        "version": version.number,
        "content": version.content,
        "content_hash": version.content_hash,
        "active_version": numbers.get(found.active_version_id) if found.active_version_id else None,
        "submitted_at": found.submitted_at,
        "created_at": found.created_at,
        "updated_at": found.updated_at,
        "is_active": found.status == MouStatus.ACTIVE and all_approved(session, version, plan),
        "parties": _parties(plan, signing_ids(version.content)),
        "required_approvals": required,
        "national_models": {c: m.as_dict() for c, m in plan.models.items()},
        "supporting_actors": _supporting_actors(session, list(plan.models)),
        "national_models_table": found.national_models_sha256,
        "approvals": [approval(a, numbers, version) for a in approvals_of(session, found)],
        "problems": plan.problems,
    }
