"""The validation and recognition record as a document: decisions per unit, credits, implications."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, data_hash, text
from ecvet.documents.parts import (
    IMPLICATIONS,
    VALIDATION,
    fields,
    learner_fields,
    mobility_organisations,
    organisation_label,
    points,
)
from ecvet.mobility import qualification_award, recognition, service, transcript, views
from ecvet.mobility.models import RecognitionDecision
from engine.errors import NotFound
from engine.parties import Actor


def build(session: Session, actor: Actor, record_id: int) -> Document:
    row = session.get(RecognitionDecision, record_id)
    if row is None:
        raise NotFound(f"No recognition record {record_id}")
    try:
        mobility = service.get(session, actor=actor, mobility_id=row.mobility_id)
    except NotFound:
        raise NotFound(f"No recognition record {record_id}") from None
    decided = views.decisions(session, mobility)
    issued = transcript.issued_for(session, mobility)
    validation_rows = list(recognition.validations(session, mobility).values())
    credits = decided["credits"]
    implications = decided["implications"]
    awards = qualification_award.of_mobility(session, mobility.id, mobility.learner_id)
    orgs = mobility_organisations(session, mobility, row.organisation_id, *(v.organisation_id for v in validation_rows),
                                  *(a.organisation_id for a in awards))
    recogniser = "competent institution" if row.recognised_by == "competent_institution" else "sending organisation"
    sections = [
        Section("Learner and mobility", learner_fields(mobility, orgs)),
        Section("Transcript decided on", fields(
            ("Learner's Personal Transcript", f"LPT-{row.transcript_id}"),
            ("Its SHA-256", row.transcript_hash),
            ("Still the transcript issued",
             issued is not None and issued.content_hash == row.transcript_hash))),
        Section("Validation", fields(("Merged with recognition", row.merged_with_validation)), table=Table(
            ["Unit", "Outcome", "Comment", "Decided by", "When"],
            [[text(v.unit_code), text(VALIDATION.get(v.outcome, v.outcome)), text(v.comment),
              organisation_label(orgs, v.organisation_id), text(v.decided_at)] for v in validation_rows])),
        Section("Recognition", fields(
            ("Recognised by", f"{recogniser}: {organisation_label(orgs, row.organisation_id)}"),
            ("National model", (row.national_model or "").replace("_", " ") or None), ("Comment", row.comment),
            ("Decided", row.decided_at)),
            table=Table(["Unit", "Title", "Validation", "Recognised", "ECVET points", "Comment"],
                        [[text(u.get("unit")), text(u.get("title")),
                          text(VALIDATION.get(u.get("validation"), u.get("validation"))), text(u.get("recognised")),
                          text(u.get("ecvet_points")), text(u.get("comment"))] for u in row.units or []])),
        Section("Credits awarded to the learner",
                fields(("Total ECVET points", sum(points(c["ecvet_points"]) for c in credits))),
                table=Table(["Unit", "Title", "Qualification", "EQF level", "ECVET points", "Awarded"],
                            [[text(c["unit"]), text(c["unit_title"]), text(c["qualification_title"]),
                              text(c["eqf_level"]), text(c["ecvet_points"]), text(c["awarded_at"])] for c in credits])),
        Section("Practical implications", table=Table(
            ["Implication", "Description", "Unit", "ECVET points"],
            [[text(IMPLICATIONS.get(i["kind"], i["kind"])), text(i["description"]), text(i["unit"]),
              text(i["ecvet_points"])] for i in implications]),
            text=None if implications else "None recorded yet."),
    ]
    sections += [Section("Qualification awarded", fields(
        ("Qualification", a.qualification_title), ("EQF level", a.eqf_level), ("NQF level", a.nqf_level),
        ("ECVET points", a.ecvet_points), ("Units recognised", len(a.credit_award_ids)),
        ("Awarding institution", organisation_label(orgs, a.organisation_id)), ("Comment", a.comment),
        ("Awarded on", a.awarded_at))) for a in awards]
    current_hash = issued.content_hash if issued is not None else None
    signatures: list[Signature] = []
    seen: set[tuple[Any, ...]] = set()
    for v in validation_rows:
        key = (v.organisation_id, v.signer_name, v.decided_at)
        if key not in seen and not v.merged_with_recognition:
            seen.add(key)
            signatures.append(Signature(
                party=f"Validation: {organisation_label(orgs, v.organisation_id)}", name=v.signer_name,
                position=v.signer_position, email=v.signer_email, signed_at=v.decided_at, mode="explicit",
                content_hash=v.transcript_hash, counts=v.transcript_hash == current_hash, place=v.signer_place))
    label = "Validation and recognition" if row.merged_with_validation else "Recognition"
    signatures.append(Signature(
        party=f"{label}: {organisation_label(orgs, row.organisation_id)}", name=row.signer_name,
        position=row.signer_position, email=row.signer_email, signed_at=row.decided_at, mode="explicit",
        content_hash=row.transcript_hash, counts=row.transcript_hash == current_hash, place=row.signer_place))
    for a in awards:
        signatures.append(Signature(
            party=f"Qualification awarded: {organisation_label(orgs, a.organisation_id)}", name=a.signer_name,
            position=a.signer_position, email=a.signer_email, signed_at=a.awarded_at, mode="explicit",
            content_hash=None, counts=True, place=a.signer_place))
    data = {"id": row.id, "mobility_id": mobility.id, "mobility_status": mobility.status,
            "qualification_awards": [qualification_award.view(a) for a in awards],
            "learner": {"name": mobility.learner.name},
            "transcript_id": row.transcript_id, **decided}
    return Document(
        kind="recognition-record", record_id=row.id, title=KIND_TITLES["recognition-record"],
        subtitle=" · ".join([mobility.learner.name, mobility.qualification_title,
                             organisation_label(orgs, row.organisation_id)]),
        reference=Reference(f"REC-{row.id}", None, data_hash(data), "document"), issued_at=row.decided_at,
        sections=sections, signatures=signatures, data=data, status=mobility.status,
        issuer_organisation_id=row.organisation_id,
    )


