"""What a party of a partnership reads: the partnership, its profiles, role map, attachments, MoU and
approvals, each described once here as a view (TypedDict: keys, types, descriptions) that the API's
schemas are made from (api/schemas.py ``schema_for``); documents reuse the dicts.

Who may read is decided by the services these views call (404 for anyone who is not a party).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.national_models.service import NationalModel
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
    Partnership,
    RoleMap,
)
from ecvet.partnership.mou import approvals_of, current_version, get
from engine.errors import Invalid
from engine.parties import Actor


class AttachmentView(TypedDict):
    id: int
    sha256: Annotated[str, "SHA-256 of the content"]
    filename: str
    media_type: Annotated[str, "recognised from the content, not from the upload"]
    size: Annotated[int, "bytes"]
    organisation_id: Annotated[int | None, "the uploader's organisation"]
    uploaded_by: int | None
    created_at: datetime


class ProfileView(TypedDict):
    id: int
    partnership_id: int
    organisation_id: int
    side: Annotated[str, "sending | hosting"]
    content: Annotated[dict[str, Any], (
        "organisation, qualifications_offered (units with learning outcomes), vet_system, attachments "
        "(see ecvet.partnership.profiles)")]
    content_hash: str
    created_by: int | None
    created_at: datetime
    attachments: list[AttachmentView]


class RoleMapEntryView(TypedDict):
    function: Annotated[str, "assessment | validation | recognition | award_of_credit | mou_approval | la_approval"]
    side: Annotated[str, "home | host"]
    country: str
    organisation_id: int | None
    organisation_name: str | None
    notes: str | None
    registered: Annotated[bool | None, (
        "whether the platform's registry of competent institutions knows this organisation for this function "
        "and country (null when the entry names no registered organisation)")]


class RoleMapConfirmationView(TypedDict):
    organisation_id: int
    jurisdiction: Annotated[str, "what of the role map lies within the organisation's jurisdiction"]
    beyond: Annotated[str | None, "what lies beyond it (for another body to confirm)"]
    signer: signing.SignerView
    signed_at: datetime


class RoleMapView(TypedDict):
    id: int
    partnership_id: int
    notes: str | None
    created_by: int | None
    created_at: datetime
    entries: list[RoleMapEntryView]
    confirmations: Annotated[list[RoleMapConfirmationView], "each party's signed confirmation of this map"]
    awaiting_confirmation: Annotated[list[int], "parties (organisation ids) that have not confirmed it yet"]


class MouSummaryView(TypedDict):
    id: int
    status: str
    version: int
    content_hash: str
    valid_until: str | None


class PartnershipView(TypedDict):
    """A partnership as listed (the list reads these keys from the rows themselves)."""

    id: int
    instance_id: Annotated[str | None, "the Partnership process instance"]
    sending_organisation_id: int
    hosting_organisation_id: int
    mou_id: int | None
    created_at: datetime


class PartnershipWithRecords(PartnershipView):
    home_country: str
    host_country: str
    parties: Annotated[list[int], "organisations that may read the records"]
    profiles: Annotated[list[ProfileView], "each partner's current profile"]
    role_map: RoleMapView | None
    mou: MouSummaryView | None


class ApprovalView(TypedDict):
    id: int
    version: Annotated[int | None, "the MoU version this decision was given for"]
    organisation_id: int
    role: Annotated[str, "partner | competent_institution"]
    decision: Annotated[str, "approved | rejected"]
    comment: str | None
    mode: Annotated[str, "explicit | implicit (no objection within the period)"]
    signer: signing.SignerView
    signed_at: datetime
    content_hash: str
    counts: Annotated[bool, "given for the current version and hash"]


class RequiredApprovalView(TypedDict):
    organisation_id: int
    role: str
    mode: Annotated[str, "explicit | implicit"]
    days: Annotated[int, "response or objection period from submission"]
    decision: Annotated[str | None, "latest decision on the current version"]
    due_at: Annotated[datetime | None, "a competent institution's deadline: submission + days (None for partners)"]
    if_silent: Annotated[str | None, (
        "approved_by_silence (implicit) | escalated (explicit) when the deadline passes undecided")]


class SupportingActorView(TypedDict):
    organisation_id: int
    country: str
    function: Annotated[str, "national_agency | national_europass_centre"]


class MouPartyView(TypedDict):
    organisation_id: int
    roles: list[str]


class MouView(TypedDict):
    """Everything a party needs to decide on a MoU."""

    id: int
    business_key: str | None
    status: Annotated[str, "draft | in_approval | active | expired | superseded"]
    sending_organisation_id: int
    version: Annotated[int, "number of the current version"]
    content: Annotated[dict[str, Any], "the current text (MoU template fields)"]
    content_hash: Annotated[str, "SHA-256 of the canonical JSON of content"]
    active_version: Annotated[int | None, "the version last approved by all"]
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    is_active: bool
    parties: list[MouPartyView]
    required_approvals: list[RequiredApprovalView]
    supporting_actors: Annotated[list[SupportingActorView], (
        "the registry's National Agencies and Europass Centres of the MoU's countries")]
    national_models: dict[str, NationalModel]
    national_models_table: Annotated[str | None, (
        "SHA-256 of the national models table this MoU is decided with (the one deployed with the process "
        "that submitted it); null: the newest deployed table")]
    approvals: list[ApprovalView]
    problems: Annotated[list[str], "what stops the MoU from being approved"]


def partnership(session: Session, *, actor: Actor, partnership_id: int) -> PartnershipWithRecords:
    """The partnership with its current profiles, role map and MoU summary (parties and admins)."""
    found = service.get(session, actor=actor, partnership_id=partnership_id)
    home, host = service.countries(session, found)
    current_map = roles.current(session, found.id)
    return {
        "id": found.id,
        "instance_id": found.instance_id,
        "sending_organisation_id": found.sending_organisation_id,
        "hosting_organisation_id": found.hosting_organisation_id,
        "mou_id": found.mou_id,  # documented before, missing from the answer until the view was typed
        "home_country": home,
        "host_country": host,
        "parties": sorted(service.party_ids(session, found)),
        "created_at": found.created_at,
        "profiles": [profile(session, p) for p in profiles.current_profiles(session, found)],
        "role_map": role_map(session, current_map) if current_map is not None else None,
        "mou": _mou_summary(session, found.mou_id),
    }


def _mou_summary(session: Session, mou_id: int | None) -> MouSummaryView | None:
    formalised_by = session.get(Mou, mou_id) if mou_id is not None else None
    if formalised_by is None:
        return None
    version = current_version(formalised_by)
    return {"id": formalised_by.id, "status": formalised_by.status, "version": version.number,
            "content_hash": version.content_hash, "valid_until": version.content.get("valid_until")}


def attachment(row: Attachment) -> AttachmentView:
    """An attachment's metadata (its bytes are a download of their own)."""
    return {
        "id": row.id, "sha256": row.sha256, "filename": row.filename, "media_type": row.media_type,
        "size": row.size, "organisation_id": row.organisation_id, "uploaded_by": row.uploaded_by,
        "created_at": row.created_at,
    }


def profile(session: Session, row: PartnerProfile) -> ProfileView:
    """A profile with the metadata of the attachments it refers to (ids alone mean little to a reader)."""
    ids = [i for _, i in profiles.attachment_ids(row.content) if isinstance(i, int)]
    found = {a.id: attachment(a) for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids or [-1])))}
    return {
        "id": row.id, "partnership_id": row.partnership_id, "organisation_id": row.organisation_id,
        "side": row.side, "content": row.content, "content_hash": row.content_hash,
        "created_by": row.created_by, "created_at": row.created_at,
        "attachments": [found[i] for i in dict.fromkeys(ids) if i in found],
    }


def role_map(session: Session, row: RoleMap) -> RoleMapView:
    """The map with, per entry, whether the platform's registry knows that organisation as competent
    for that function in that country (None when the entry names no registered organisation)."""
    named = [e.organisation_id for e in row.entries if e.organisation_id is not None]
    registered = {
        (c.organisation_id, c.country, c.function)
        for c in session.scalars(select(OrganisationCompetence).where(
            OrganisationCompetence.organisation_id.in_(named or [-1])))
    }
    partnership = session.get(Partnership, row.partnership_id)
    confirmed = roles.confirmations(session, row)
    parties = roles.confirming_parties(session, partnership) if partnership is not None else []
    done = {c.organisation_id for c in confirmed}
    return {
        "id": row.id,
        "partnership_id": row.partnership_id,
        "notes": row.notes,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "confirmations": [RoleMapConfirmationView(organisation_id=c.organisation_id, jurisdiction=c.jurisdiction,
                                                  beyond=c.beyond, signer=signing.view(c), signed_at=c.signed_at)
                          for c in confirmed],
        "awaiting_confirmation": [i for i in parties if i not in done],
        "entries": [
            RoleMapEntryView(function=e.function, side=e.side, country=e.country, organisation_id=e.organisation_id,
                             organisation_name=e.organisation_name, notes=e.notes,
                             registered=None if e.organisation_id is None
                             else (e.organisation_id, e.country, e.function) in registered)
            for e in row.entries
        ],
    }


def approval(row: MouApproval, numbers: dict[int, int], shown: MouVersion) -> ApprovalView:
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


def recorded_approval(session: Session, row: MouApproval) -> ApprovalView:
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


def _parties(plan: Plan, signing_organisations: list[int]) -> list[MouPartyView]:
    """Every organisation of the MoU with the roles it approves in (partner, competent institution)."""
    parties = [MouPartyView(organisation_id=i, roles=["partner"]) for i in signing_organisations]
    for r in plan.requirements:
        if r.role != ApprovalRole.COMPETENT_INSTITUTION:
            continue
        entry = next((p for p in parties if p["organisation_id"] == r.organisation_id), None)
        if entry is None:
            parties.append(MouPartyView(organisation_id=r.organisation_id, roles=[r.role]))
        else:
            entry["roles"].append(r.role)
    return parties


def _supporting_actors(session: Session, countries: list[str]) -> list[SupportingActorView]:
    """The National Agencies and National Europass Centres of the MoU's countries (recorded in the
    registry; they inform and fund, and are never asked to approve)."""
    rows = session.scalars(select(OrganisationCompetence).where(
        OrganisationCompetence.country.in_(countries or [""]),
        OrganisationCompetence.function.in_(CompetenceFunction.SUPPORTING),
    ).order_by(OrganisationCompetence.country, OrganisationCompetence.function, OrganisationCompetence.organisation_id))
    return [SupportingActorView(organisation_id=r.organisation_id, country=r.country, function=r.function)
            for r in rows]


def mou(session: Session, *, actor: Actor, mou_id: int) -> MouView:
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
        required.append(RequiredApprovalView(organisation_id=r.organisation_id, role=r.role, mode=mode, days=days,
                                             decision=latest.decision if latest else None,
                                             due_at=deadlines.due_at(found, plan, r),
                                             if_silent=deadlines.if_silent(plan, r)))
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
        "national_models": dict(plan.models),
        "supporting_actors": _supporting_actors(session, list(plan.models)),
        "national_models_table": found.national_models_sha256,
        "approvals": [approval(a, numbers, version) for a in approvals_of(session, found)],
        "problems": plan.problems,
    }
