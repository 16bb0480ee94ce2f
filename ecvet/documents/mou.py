"""The MoU as a document: the European template's sections, the approvals its version needs, every signature."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, text
from ecvet.documents.parts import fields, organisation_label, organisations, points
from ecvet.partnership.approvers import Plan, plan_for
from ecvet.partnership.models import ApprovalRole, Decision, Mou, MouApproval, MouVersion
from ecvet.partnership.mou import approvals_of, current_version, get, get_version
from engine.errors import Invalid
from engine.parties import Actor

# --------------------------------------------------------------------------------------------------
# MoU
# --------------------------------------------------------------------------------------------------

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
_MOU_ROLES = {ApprovalRole.PARTNER: "Partner", ApprovalRole.COMPETENT_INSTITUTION: "Competent institution"}


def _organisationfields(org: Mapping[str, Any]) -> list[tuple[str, str]]:
    contact = org.get("contact_person") or {}
    return fields(
        ("Name", org.get("name")), ("Role", org.get("role")), ("Country", org.get("country")),
        ("Address", org.get("address")), ("Website", org.get("website")),
        ("Contact person", contact.get("name")), ("Position", contact.get("position")),
        ("Phone", contact.get("phone")), ("E-mail", contact.get("email")),
    )


def _mou_version(session: Session, actor: Actor, mou: Mou, version: int | None) -> MouVersion:
    if version is None:
        return current_version(mou)
    return get_version(session, actor=actor, mou_id=mou.id, number=version)


def build(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    mou = get(session, actor=actor, mou_id=record_id)
    shown = _mou_version(session, actor, mou, version)
    current = current_version(mou)
    content = shown.content
    numbers = dict(session.execute(select(MouVersion.id, MouVersion.number).where(MouVersion.mou_id == mou.id)).all())
    approvals = approvals_of(session, mou)
    try:
        plan = plan_for(session, content, mou=mou)  # the table pinned at submission
    except Invalid:  # a broken national-models table must not hide the MoU's text
        plan = Plan(problems=["the national models table could not be evaluated"])
    partners = content.get("signing_organisations") or []
    named_ids = [ci.get("organisation_id") for ci in content.get("competent_institutions") or []]
    arrangement_ids = [i for a in (content.get("arrangements") or {}).values() for i in a.get("organisation_ids", [])]
    orgs = organisations(session, [mou.sending_organisation_id, *(o.get("organisation_id") for o in partners),
                                    *named_ids, *arrangement_ids, *(a.organisation_id for a in approvals),
                                    *(r.organisation_id for r in plan.requirements)])

    def counts(a: MouApproval) -> bool:
        return a.mou_version_id == shown.id and a.content_hash == shown.content_hash

    sections: list[Section] = []
    objectives = content.get("objectives") or {}
    sections.append(Section("Objectives", fields(
        ("Mutual acceptance of procedures for",
         [_MUTUAL_ACCEPTANCE.get(x, x) for x in objectives.get("mutual_acceptance") or []]),
        ("Other objectives", objectives.get("other")),
    )))
    for i, org in enumerate(partners, start=1):
        sections.append(Section(f"Signing organisation {i}", _organisationfields(org)))
    others = content.get("other_organisations") or []
    if others:
        sections.append(Section("Other organisations covered", table=Table(
            ["Name", "Role", "Country", "Contact person", "E-mail"],
            [[text(o.get("name")), text(o.get("role")), text(o.get("country")),
              text((o.get("contact_person") or {}).get("name")), text((o.get("contact_person") or {}).get("email"))]
             for o in others])))
    if named_ids:
        sections.append(Section("Competent institutions named", fields(
            *((f"Institution {n}", organisation_label(orgs, org_id)) for n, org_id in enumerate(named_ids, start=1)))))
    for i, qualification in enumerate(content.get("qualifications") or [], start=1):
        units = qualification.get("units") or []
        sections.append(Section(
            f"Qualification {i}: {text(qualification.get('title'))}",
            fields(("Title", qualification.get("title")), ("Country", qualification.get("country")),
                    ("EQF level", qualification.get("eqf_level")), ("NQF level", qualification.get("nqf_level")),
                    ("ECVET points of the qualification", qualification.get("ecvet_points")),
                    ("ECVET points of the units concerned", sum(points(u.get("ecvet_points")) for u in units))),
            table=Table(["Unit", "Title", "EQF level", "ECVET points"],
                        [[text(u.get("code")), text(u.get("title")), text(u.get("eqf_level")),
                          text(u.get("ecvet_points"))] for u in units]),
        ))
    arrangements = content.get("arrangements") or {}
    sections.append(Section("Assessment, documentation, validation and recognition", table=Table(
        ["Arrangement", "How", "Who"],
        [[label, text((arrangements.get(name) or {}).get("how")),
          text([organisation_label(orgs, i) for i in (arrangements.get(name) or {}).get("organisation_ids", [])])]
         for name, label in _ARRANGEMENT_LABELS.items()])))
    duration = content.get("mobility_duration_weeks") or {}
    sections.append(Section("Duration and validity", fields(
        ("Planned duration of mobilities (weeks)",
         f"{text(duration.get('min'))} to {text(duration.get('max'))}" if duration else None),
        ("Valid until", content.get("valid_until")), ("Sector", content.get("sector")),
    )))
    sections.append(Section("Evaluation and review", text=text(content.get("evaluation_and_review"))))

    decided: dict[tuple[int, str], MouApproval] = {}
    for a in approvals:
        if counts(a):
            decided[(a.organisation_id, a.role)] = a
    required_rows = []
    for r in plan.requirements:
        mode, days = plan.modes[r]
        how = mode if mode != "implicit" else f"implicit (no objection within {days} days)"
        latest = decided.get((r.organisation_id, r.role))
        required_rows.append([organisation_label(orgs, r.organisation_id), _MOU_ROLES.get(r.role, r.role), how,
                              text(latest.decision if latest else "pending")])
    sections.append(Section("Approvals this version needs", table=Table(
        ["Organisation", "Role", "How", "Decision on this version"], required_rows),
        text="; ".join(plan.problems) or None))
    refusals = [a for a in approvals if a.decision == Decision.REJECTED]
    if refusals:
        sections.append(Section("Refusals", table=Table(
            ["Version", "Organisation", "By", "When", "Comment"],
            [[text(numbers.get(a.mou_version_id)), organisation_label(orgs, a.organisation_id), text(a.signer_name),
              text(a.signed_at), text(a.comment)] for a in refusals])))

    signatures = [
        Signature(party=f"{_MOU_ROLES.get(a.role, a.role)}: {organisation_label(orgs, a.organisation_id)}",
                  name=a.signer_name, position=a.signer_position, email=a.signer_email, signed_at=a.signed_at,
                  mode=a.mode, content_hash=a.content_hash, counts=counts(a), version=numbers.get(a.mou_version_id),
                  place=a.signer_place)
        for a in approvals if a.decision == Decision.APPROVED
    ]
    names = [o.get("name") or organisation_label(orgs, o.get("organisation_id")) for o in partners]
    code = content.get("file_code") or mou.business_key
    data = {
        "id": mou.id, "business_key": mou.business_key, "status": mou.status,
        "sending_organisation_id": mou.sending_organisation_id,
        "version": shown.number, "current_version": current.number,
        "active_version": numbers.get(mou.active_version_id) if mou.active_version_id else None,
        "content": content, "content_hash": shown.content_hash, "created_at": shown.created_at,
        "approvals": [
            {"id": a.id, "version": numbers.get(a.mou_version_id), "organisation_id": a.organisation_id,
             "role": a.role, "decision": a.decision, "comment": a.comment, "mode": a.mode,
             "signer": signing.view(a),
             "signed_at": a.signed_at, "content_hash": a.content_hash, "counts": counts(a)}
            for a in approvals
        ],
    }
    status = mou.status if shown.id == current.id else _older_status(mou, shown, current)
    return Document(
        kind="mou", record_id=mou.id, title=KIND_TITLES["mou"],
        subtitle=" · ".join(p for p in (code, " – ".join(n for n in names if n)) if p) or None,
        reference=Reference(code, shown.number, shown.content_hash), issued_at=shown.created_at,
        sections=sections, signatures=signatures, data=data, status=status,
    )


def _older_status(mou: Mou, shown: MouVersion, current: MouVersion) -> str:
    """How an earlier version stands: still in force while an amendment is in approval, else superseded."""
    if mou.active_version_id == shown.id:
        return f"in force; version {current.number} is in approval"
    return f"superseded by version {current.number}"


