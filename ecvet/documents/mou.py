"""The MoU as a document: the European template's sections, the approvals its version needs, every signature."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, text
from ecvet.documents.parts import fields, organisation_label, organisations, outcome_line, points, sector_label
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import deadlines, roles, service, views
from ecvet.partnership.approvers import Plan, Requirement, plan_for
from ecvet.partnership.models import (
    ApprovalRole,
    Decision,
    Mou,
    MouApproval,
    MouStatus,
    MouVersion,
    PartnershipSide,
    RoleMapFunction,
)
from ecvet.partnership.mou import approvals_of, current_version, get, get_version
from engine.errors import Invalid
from engine.models import Organisation
from engine.parties import Actor

_MUTUAL_ACCEPTANCE = {
    "quality_assurance": "quality assurance",
    "assessment": "assessment",
    "validation": "validation",
    "recognition": "recognition",
}
_ARRANGEMENT_LABELS = {
    "assessment": "Assessment",
    "documentation": "Documentation",
    "validation": "Validation",
    "recognition": "Recognition",
}
#: A signing organisation's role is typed; the two usual ones print as the template's words.
_ORG_ROLES = {PartnershipSide.SENDING: "Sending organisation", PartnershipSide.HOSTING: "Hosting organisation"}
_MOU_ROLES = {ApprovalRole.PARTNER: "Partner", ApprovalRole.COMPETENT_INSTITUTION: "Competent institution"}
_FUNCTION_LABELS = {
    CompetenceFunction.ASSESSMENT: "Assessment", CompetenceFunction.VALIDATION: "Validation",
    CompetenceFunction.RECOGNITION: "Recognition", CompetenceFunction.AWARD_OF_CREDIT: "Award of credit",
    CompetenceFunction.MOU_APPROVAL: "MoU approval", CompetenceFunction.LA_APPROVAL: "Learning Agreement approval",
    RoleMapFunction.LEARNING_OUTCOMES: "Defining the learning outcomes",
    RoleMapFunction.UNIT_DESIGN: "Designing the units",
}


@dataclass(frozen=True)
class _Shown:
    """One version of a MoU as the document shows it, with everything its sections read."""

    mou: Mou
    version: MouVersion
    current: MouVersion
    numbers: dict[int, int]
    approvals: list[MouApproval]
    plan: Plan
    orgs: dict[int, Organisation]

    @property
    def content(self) -> dict[str, Any]:
        return self.version.content

    def counts(self, approval: MouApproval) -> bool:
        """Given for exactly this version and hash."""
        return approval.mou_version_id == self.version.id and approval.content_hash == self.version.content_hash


def _shown(session: Session, actor: Actor, record_id: int, version: int | None) -> _Shown:
    mou = get(session, actor=actor, mou_id=record_id)
    shown = current_version(mou) if version is None else get_version(session, actor=actor, mou_id=mou.id,
                                                                       number=version)
    content = shown.content
    approvals = approvals_of(session, mou)
    try:
        plan = plan_for(session, content, mou=mou)  # the table pinned at submission
    except Invalid:  # a broken national-models table must not hide the MoU's text
        plan = Plan(problems=["the national models table could not be evaluated"])
    named = [ci.get("organisation_id") for ci in content.get("competent_institutions") or []]
    arranged = [i for a in (content.get("arrangements") or {}).values() for i in a.get("organisation_ids", [])]
    orgs = organisations(session, [mou.sending_organisation_id,
                                   *(o.get("organisation_id") for o in content.get("signing_organisations") or []),
                                   *(o.get("organisation_id") for o in content.get("other_organisations") or []),
                                   *named, *arranged, *(a.organisation_id for a in approvals),
                                   *(r.organisation_id for r in plan.requirements)])
    return _Shown(mou, shown, current_version(mou), views.version_numbers(session, mou.id), approvals, plan, orgs)


# --------------------------------------------------------------------------------------------------
# The template's sections
# --------------------------------------------------------------------------------------------------


def _identifiers(org: Mapping[str, Any], registered: Organisation | None) -> tuple[Any, Any]:
    """Erasmus+ OID and PIC as the text states them, else as the registered organisation has them."""
    return (org.get("erasmus_oid") or (registered.erasmus_oid if registered else None),
            org.get("pic") or (registered.pic if registered else None))


def _org_role(org: Mapping[str, Any]) -> Any:
    return _ORG_ROLES.get(org.get("role") or "", org.get("role"))


def _organisation_fields(org: Mapping[str, Any], registered: Organisation | None) -> list[tuple[str, str]]:
    contact = org.get("contact_person") or {}
    oid, pic = _identifiers(org, registered)
    return fields(
        ("Name", org.get("name")), ("Role", _org_role(org)), ("Country", org.get("country")),
        ("Erasmus+ OID", oid), ("PIC", pic),
        ("Address", org.get("address")), ("Telephone", org.get("phone")), ("Website", org.get("website")),
        ("Area of competence in its country", org.get("competence")),
        ("Contact person", contact.get("name")), ("Position", contact.get("position")),
        ("Phone", contact.get("phone")), ("E-mail", contact.get("email")),
    )


def _registered(shown: _Shown, org: Mapping[str, Any]) -> Organisation | None:
    org_id = org.get("organisation_id")
    return shown.orgs.get(org_id) if isinstance(org_id, int) else None


def _organisation_sections(shown: _Shown) -> list[Section]:
    """The objectives, the signing organisations, the others covered and the competent institutions."""
    content = shown.content
    objectives = content.get("objectives") or {}
    sections = [Section("Objectives", fields(
        ("Mutual acceptance of procedures for",
         [_MUTUAL_ACCEPTANCE.get(x, x) for x in objectives.get("mutual_acceptance") or []]),
        ("Other objectives", objectives.get("other")),
    ))]
    for i, org in enumerate(content.get("signing_organisations") or [], start=1):
        sections.append(Section(f"Signing organisation {i}", _organisation_fields(org, _registered(shown, org))))
    others = content.get("other_organisations") or []
    if others:
        sections.append(Section("Other organisations covered", table=Table(
            ["Name", "Role", "Country", "Erasmus+ OID / PIC", "Contact person", "Telephone", "E-mail", "Duties"],
            [[text(o.get("name")), text(_org_role(o)), text(o.get("country")),
              text([i for i in _identifiers(o, _registered(shown, o)) if i]),
              text((o.get("contact_person") or {}).get("name")),
              text(o.get("phone") or (o.get("contact_person") or {}).get("phone")),
              text((o.get("contact_person") or {}).get("email")), text(o.get("duties"))]
             for o in others])))
    named = [ci.get("organisation_id") for ci in content.get("competent_institutions") or []]
    if named:
        sections.append(Section("Competent institutions named", fields(
            *((f"Institution {n}", organisation_label(shown.orgs, org_id))
              for n, org_id in enumerate(named, start=1)))))
    return sections


def _qualification_sections(content: dict[str, Any]) -> list[Section]:
    """Each qualification covered, with the units concerned and their ECVET points."""
    sections = []
    for i, qualification in enumerate(content.get("qualifications") or [], start=1):
        units = qualification.get("units") or []
        sections.append(Section(
            f"Qualification {i}: {text(qualification.get('title'))}",
            fields(("Title", qualification.get("title")), ("Country", qualification.get("country")),
                   ("EQF level", qualification.get("eqf_level")), ("NQF level", qualification.get("nqf_level")),
                   ("ECVET points of the qualification", qualification.get("ecvet_points")),
                   ("ECVET points of the units concerned", sum(points(u.get("ecvet_points")) for u in units))),
            table=Table(["Unit", "Title", "EQF level", "ECVET points", "Description", "Learning outcomes"],
                        [[text(u.get("code")), text(u.get("title")), text(u.get("eqf_level")),
                          text(u.get("ecvet_points")), text(u.get("description")),
                          text([outcome_line(o) for o in u.get("learning_outcomes") or []])] for u in units]),
        ))
    return sections


def _arrangement_sections(shown: _Shown) -> list[Section]:
    """Who assesses, documents, validates and recognises, and how; duration, validity, review."""
    content = shown.content
    arrangements = content.get("arrangements") or {}
    duration = content.get("mobility_duration_weeks") or {}
    return [
        Section("Assessment, documentation, validation and recognition", table=Table(
            ["Arrangement", "How", "Who"],
            [[label, text((arrangements.get(name) or {}).get("how")),
              text([organisation_label(shown.orgs, i) for i in (arrangements.get(name) or {}).get("organisation_ids",
                                                                                                   [])])]
             for name, label in _ARRANGEMENT_LABELS.items()])),
        Section("Duration and validity", fields(
            ("Planned duration of mobilities (weeks)",
             f"{text(duration.get('min'))} to {text(duration.get('max'))}" if duration else None),
            ("Valid until", content.get("valid_until")), ("Sector", sector_label(content.get("sector"))),
        )),
        Section("Evaluation and review", text=text(content.get("evaluation_and_review"))),
    ]


# --------------------------------------------------------------------------------------------------
# Approvals and signatures
# --------------------------------------------------------------------------------------------------


def _approval_sections(shown: _Shown) -> list[Section]:
    """The approvals this version needs with the decision given on it, and every refusal ever given."""
    decided = {(a.organisation_id, a.role): a for a in shown.approvals if shown.counts(a)}
    required_rows = []
    for r in shown.plan.requirements:
        mode, days = shown.plan.modes[r]
        how = mode if mode != "implicit" else f"implicit (no objection within {days} days)"
        latest = decided.get((r.organisation_id, r.role))
        required_rows.append([organisation_label(shown.orgs, r.organisation_id), _MOU_ROLES.get(r.role, r.role), how,
                              text(latest.decision if latest else _pending(shown, r))])
    sections = [Section("Approvals this version needs", table=Table(
        ["Organisation", "Role", "How", "Decision on this version"], required_rows),
        text="; ".join(shown.plan.problems) or None)]
    refusals = [a for a in shown.approvals if a.decision == Decision.REJECTED]
    if refusals:
        sections.append(Section("Refusals", table=Table(
            ["Version", "Organisation", "By", "When", "Comment"],
            [[text(shown.numbers.get(a.mou_version_id)), organisation_label(shown.orgs, a.organisation_id),
              text(a.signer_name), text(a.signed_at), text(a.comment)] for a in refusals])))
    return sections


def _pending(shown: _Shown, requirement: Requirement) -> str:
    """An undecided approval, with the competent institution's deadline while the version is in approval
    (what silence means then: approval, or an escalation)."""
    due = deadlines.due_at(shown.mou, shown.plan, requirement)
    if due is None or shown.version.id != shown.current.id or shown.mou.status != MouStatus.IN_APPROVAL:
        return "pending"
    when = due.strftime("%Y-%m-%d %H:%M UTC")
    if deadlines.if_silent(shown.plan, requirement) == "approved_by_silence":
        return f"pending: approved by silence unless it objects by {when}"
    return f"pending: due {when}, then escalated"


def _signatures(shown: _Shown) -> list[Signature]:
    return [
        Signature(party=f"{_MOU_ROLES.get(a.role, a.role)}: {organisation_label(shown.orgs, a.organisation_id)}",
                  name=a.signer_name, position=a.signer_position, email=a.signer_email, signed_at=a.signed_at,
                  mode=a.mode, content_hash=a.content_hash, counts=shown.counts(a),
                  version=shown.numbers.get(a.mou_version_id), place=a.signer_place)
        for a in shown.approvals if a.decision == Decision.APPROVED
    ]


def _role_map_sections(session: Session, shown: _Shown) -> list[Section]:
    """The partnership's current role map (who holds each ECVET function in the home and the host country)
    and each party's signed confirmation of it, within its jurisdiction and beyond."""
    partnership = service.of_mou(session, shown.mou.id)
    role_map = roles.current(session, partnership.id) if partnership is not None else None
    if partnership is None or role_map is None:
        return []
    home, host = service.countries(session, partnership)
    confirmed = roles.confirmations(session, role_map)
    orgs = organisations(session, [*(e.organisation_id for e in role_map.entries),
                                   *roles.confirming_parties(session, partnership)])
    holders = {(e.function, e.side): e for e in role_map.entries}

    def holder(function: str, side: str) -> str:
        entry = holders.get((function, side))
        if entry is None:
            return text(None)
        return organisation_label(orgs, entry.organisation_id) if entry.organisation_id is not None \
            else text(entry.organisation_name)

    done = {c.organisation_id for c in confirmed}
    rows = [[organisation_label(orgs, c.organisation_id), text(c.jurisdiction), text(c.beyond),
             text(c.signer_name), text(c.signed_at)] for c in confirmed]
    rows += [[organisation_label(orgs, i), "not confirmed yet", text(None), text(None), text(None)]
             for i in roles.confirming_parties(session, partnership) if i not in done]
    return [
        Section("ECVET role map", table=Table(
            ["Function", f"Home country ({home})", f"Host country ({host})"],
            [[_FUNCTION_LABELS.get(f, f), holder(f, "home"), holder(f, "host")] for f in RoleMapFunction.ALL
             if f not in RoleMapFunction.OPTIONAL or (f, "home") in holders or (f, "host") in holders]),
            text=text(role_map.notes) if role_map.notes else None),
        Section("Confirmations of the role map", table=Table(
            ["Organisation", "Within its jurisdiction", "Beyond its jurisdiction", "Confirmed by", "When"], rows)),
    ]


def _older_status(shown: _Shown) -> str:
    """How an earlier version stands: still in force while an amendment is in approval, else superseded."""
    if shown.mou.active_version_id == shown.version.id:
        return f"in force; version {shown.current.number} is in approval"
    return f"superseded by version {shown.current.number}"


def build(session: Session, actor: Actor, record_id: int, version: int | None = None) -> Document:
    """The MoU (its current version, or version `version`) for whoever may read it."""
    shown = _shown(session, actor, record_id, version)
    mou, content = shown.mou, shown.content
    sections = [*_organisation_sections(shown), *_qualification_sections(content), *_arrangement_sections(shown),
                *_role_map_sections(session, shown), *_approval_sections(shown)]
    names = [o.get("name") or organisation_label(shown.orgs, o.get("organisation_id"))
             for o in content.get("signing_organisations") or []]
    code = content.get("file_code") or mou.business_key
    data = {
        "id": mou.id, "business_key": mou.business_key, "status": mou.status,
        "sending_organisation_id": mou.sending_organisation_id,
        "version": shown.version.number, "current_version": shown.current.number,
        "active_version": shown.numbers.get(mou.active_version_id) if mou.active_version_id else None,
        "content": content, "content_hash": shown.version.content_hash, "created_at": shown.version.created_at,
        "approvals": [views.approval(a, shown.numbers, shown.version) for a in shown.approvals],
    }
    return Document(
        kind="mou", record_id=mou.id, title=KIND_TITLES["mou"],
        subtitle=" · ".join(p for p in (code, " – ".join(n for n in names if n)) if p) or None,
        reference=Reference(code, shown.version.number, shown.version.content_hash),
        issued_at=shown.version.created_at, sections=sections, signatures=_signatures(shown), data=data,
        status=mou.status if shown.version.id == shown.current.id else _older_status(shown),
        issuer_organisation_id=mou.sending_organisation_id,
    )
