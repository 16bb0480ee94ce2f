"""The Europass Mobility as a document (record id: the Europass Mobility's id): the template's fields
(holder, issuing organisation, sending and host organisation with contact person and mentor, the learning
abroad, units and outcomes acquired and how they were assessed, skills) and the sign-off of both
organisations, each quoting the SHA-256 of this text."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, text
from ecvet.documents.parts import METHODS, RESULTS, fields, outcome_line
from ecvet.europass import service
from ecvet.europass.models import EuropassParty
from engine.parties import Actor

PARTY_ROLES = {EuropassParty.HOSTING: "Host organisation", EuropassParty.SENDING: "Sending organisation"}
SKILL_LABELS = {
    "job_related": "Job-related skills", "language": "Language skills", "digital": "Digital skills",
    "organisational": "Organisational and managerial skills", "social": "Communication and interpersonal skills",
    "other": "Other skills",
}


def _person(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    return ", ".join(str(value[k]) for k in ("name", "position", "email", "phone") if value.get(k)) or None


def _organisation(org: Mapping[str, Any], person_label: str, person: Any) -> list[tuple[str, str]]:
    return fields(("Name", org.get("name")), ("Country", org.get("country")), ("Address", org.get("address")),
                  ("Erasmus+ OID", org.get("erasmus_oid")), ("PIC", org.get("pic")), (person_label, _person(person)))


def _assessed(unit: Mapping[str, Any]) -> str:
    done = unit.get("assessment") or {}
    assessor = done.get("assessor") or {}
    method = done.get("method")
    parts = [METHODS.get(str(method), method), done.get("date"),
             ", ".join(str(assessor[k]) for k in ("name", "role") if assessor.get(k)) or None]
    return text("; ".join(str(p) for p in parts if p) or None)


def _activities(value: Any) -> str:
    if not isinstance(value, Mapping):
        return text(value)
    return text("; ".join(str(value[k]) for k in ("location", "tasks") if value.get(k)) or None)


def build(session: Session, actor: Actor, record_id: int) -> Document:
    """For the organisations of the mobility and administrators; for the learner once both signed off."""
    row = service.get(session, actor=actor, europass_id=record_id)
    content = row.content
    holder, sending, host = content["holder"], content["sending_organisation"], content["host_organisation"]
    abroad, units = content["learning_abroad"], content.get("units") or []
    qualification = abroad.get("qualification") or {}
    sections = [
        # No date of birth, even in records issued before issue 16 that hold one: the template does not ask.
        Section("Holder", fields(("Name", holder.get("name")),
                                 ("European Student Identifier", holder.get("european_student_identifier")))),
        Section("Europass Mobility", fields(
            ("Europass Mobility number", content.get("europass_mobility_number")),
            ("Issuing organisation", content.get("issuing_organisation")),
            ("National Europass Centre", content.get("national_europass_centre")))),
        Section("Sending organisation", _organisation(sending, "Contact person", sending.get("contact_person"))),
        Section("Host organisation", _organisation(host, "Mentor", host.get("mentor"))),
        Section("The learning abroad", fields(
            ("Objective", abroad.get("objective")), ("Initiative", abroad.get("initiative")),
            ("Mobility ID", abroad.get("mobility_identifier")), ("Project code", abroad.get("project_code")),
            ("Qualification", qualification.get("title")), ("EQF level", qualification.get("eqf_level")),
            ("NQF level", qualification.get("nqf_level")), ("From", abroad.get("start")), ("To", abroad.get("end")),
            ("Location", abroad.get("location")))),
        Section("Units and learning outcomes acquired",
                fields(("ECVET points recognised", content.get("ecvet_points_recognised"))),
                table=Table(["Unit", "Learning outcomes", "Activities", "Hours", "How assessed", "Result",
                             "ECVET points"],
                            [[f"{u.get('code')} {u.get('title') or ''}".strip(),
                              text([outcome_line(o) for o in u.get("learning_outcomes") or []]),
                              _activities(u.get("learning_activities")), text(u.get("hours")), _assessed(u),
                              text(RESULTS.get(str((u.get("assessment") or {}).get("result")), None)),
                              text(u.get("ecvet_points_recognised") if u.get("recognised") else None)]
                             for u in units])),
    ]
    skills = content.get("skills") or {}
    if skills:
        sections.append(Section("Skills and competences acquired", fields(
            *((SKILL_LABELS[k], skills[k]) for k in SKILL_LABELS if skills.get(k)))))
    signatures = [
        Signature(party=f"{PARTY_ROLES[s.party]}: {(host if s.party == EuropassParty.HOSTING else sending)['name']}",
                  name=s.signer_name, position=s.signer_position, email=s.signer_email, signed_at=s.signed_at,
                  mode="explicit", content_hash=s.content_hash, counts=s.content_hash == row.content_hash,
                  place=s.signer_place)
        for s in service.signatures(session, row)
    ]
    return Document(
        kind="europass-mobility", record_id=row.id, title=KIND_TITLES["europass-mobility"],
        subtitle=" · ".join([holder.get("name") or "", host.get("name") or "", f"{abroad.get('start')} – "
                             f"{abroad.get('end')}"]),
        reference=Reference(content.get("europass_mobility_number"), None, row.content_hash, "record"),
        issued_at=row.created_at, sections=sections, signatures=signatures, data=content,
        status="signed" if service.signed_by_both(session, row) else "signing",
        issuer_organisation_id=row.sending_organisation_id,
    )
