"""The Learning Agreement as a document: the Erasmus+ ECVET template's sections and every signature."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, text
from ecvet.documents.parts import fields, organisation_label, organisations, points
from ecvet.mobility import learning_agreement
from ecvet.mobility.models import LaParty, LaSignature, LaVersion, Mobility
from ecvet.partnership.models import Mou
from ecvet.partnership.mou import current_version
from engine.errors import NotFound
from engine.parties import Actor

# --------------------------------------------------------------------------------------------------
# Learning Agreement
# --------------------------------------------------------------------------------------------------

_LA_PARTIES = {
    LaParty.LEARNER: "Learner",
    LaParty.GUARDIAN: "Parent or guardian",
    LaParty.SENDING: "Sending organisation",
    LaParty.HOSTING: "Hosting organisation",
    LaParty.COMPETENT_INSTITUTION: "Competent institution",
}


def build(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    la = learning_agreement.get(session, actor=actor, la_id=record_id)
    current = learning_agreement.current_version(session, la)
    if version is None:
        shown = current
    else:
        found = session.scalar(select(LaVersion).where(LaVersion.la_id == la.id, LaVersion.number == version))
        if found is None:
            raise NotFound(f"Learning Agreement {record_id} has no version {version}")
        shown = found
    mobility = session.get(Mobility, la.mobility_id)
    assert mobility is not None
    learner = mobility.learner
    content = shown.content
    numbers = dict(session.execute(select(LaVersion.id, LaVersion.number).where(LaVersion.la_id == la.id)).all())
    signed = list(session.scalars(select(LaSignature).where(LaSignature.la_id == la.id).order_by(LaSignature.id)))
    orgs = organisations(session, [mobility.sending_organisation_id, mobility.hosting_organisation_id,
                                    *(s.organisation_id for s in signed)])
    mou = session.get(Mou, mobility.mou_id)
    mou_code = None
    if mou is not None and mou.current_version_id is not None:
        mou_code = current_version(mou).content.get("file_code") or mou.business_key
    minor = learner.is_minor(mobility.start_date)
    required = learning_agreement.required_signatures(session, la)

    def counts(s: LaSignature) -> bool:
        return s.la_version_id == shown.id and s.content_hash == shown.content_hash

    participants = [
        ("Learner", learner.name), ("Date of birth", learner.date_of_birth), ("Learner's e-mail", learner.email),
        ("European Student Identifier", learner.european_student_identifier),
    ]
    if minor or learner.guardian_name:
        participants += [("Parent or guardian", learner.guardian_name), ("Guardian's e-mail", learner.guardian_email)]
    participants += [
        ("Sending organisation", organisation_label(orgs, mobility.sending_organisation_id)),
        ("Hosting organisation", organisation_label(orgs, mobility.hosting_organisation_id)),
        ("Intermediary", content.get("intermediary")),
        ("Under the MoU", mou_code or (f"MoU {mobility.mou_id}")),
    ]
    duration = content.get("duration") or {}
    units = content.get("units") or []
    assessment = content.get("assessment") or {}
    recognition = content.get("validation_and_recognition") or {}
    sections = [
        Section("Participants", fields(*participants)),
        Section("Duration of the mobility", fields(
            ("Start", duration.get("start") or mobility.start_date), ("End", duration.get("end") or mobility.end_date),
            ("Weeks", duration.get("weeks")))),
        Section("Qualification being taken", fields(
            ("Title", mobility.qualification_title), ("EQF level", mobility.qualification_eqf_level),
            ("Sector", mobility.sector), ("Learner's progress so far", content.get("learner_progress")))),
        Section(
            "Units of learning outcomes to be achieved abroad",
            fields(("Total ECVET points", sum(points(u.get("ecvet_points")) for u in units))),
            table=Table(["Unit", "Title", "ECVET points", "Learning outcomes", "Location", "Tasks"],
                        [[text(u.get("code")), text(u.get("title")), text(u.get("ecvet_points")),
                          text(u.get("learning_outcomes")),
                          text((u.get("learning_activities") or {}).get("location")),
                          text((u.get("learning_activities") or {}).get("tasks"))] for u in units]),
        ),
        Section(
            "Assessment",
            fields(("Method", assessment.get("method")), ("When", assessment.get("when")),
                    ("How it is documented", assessment.get("documentation"))),
            table=Table(["Assessor", "Organisation", "Role"],
                        [[text(a.get("name")), text(a.get("organisation")), text(a.get("role"))]
                         for a in assessment.get("assessors") or []]) if assessment.get("assessors") else None,
        ),
        Section("Validation and recognition", fields(
            ("Who", recognition.get("who")), ("How", recognition.get("how")),
            ("Effect on the learner's programme", recognition.get("effect")))),
    ]
    if shown.changes:
        sections.append(Section(f"Changes made by version {shown.number}", table=Table(
            ["Unit", "Change", "Reason"],
            [[text(c.get("unit")), text(c.get("change")), text(c.get("reason"))] for c in shown.changes])))
    sections.append(Section("Signing", fields(
        ("Signed by, in this order", [_LA_PARTIES.get(p, p) for p in required]),
        ("Next to sign", _LA_PARTIES.get(learning_agreement.next_party(session, la) or "", None) if shown.id == current.id else None),
        ("Learner is a minor on the first day", minor),
    )))

    def party_label(s: LaSignature) -> str:
        label = _LA_PARTIES.get(s.party, s.party)
        if s.party in (LaParty.SENDING, LaParty.HOSTING, LaParty.COMPETENT_INSTITUTION):
            return f"{label}: {organisation_label(orgs, s.organisation_id)}"
        return label

    signatures = [
        Signature(party=party_label(s), name=s.signer_name, position=s.signer_position, email=s.signer_email,
                  signed_at=s.signed_at, mode=s.mode, content_hash=s.content_hash, counts=counts(s),
                  version=numbers.get(s.la_version_id), place=s.signer_place)
        for s in signed
    ]
    data = {
        "id": la.id, "mobility_id": mobility.id, "status": la.status, "version": shown.number,
        "current_version": current.number, "content": content, "content_hash": shown.content_hash,
        "changes": shown.changes, "created_at": shown.created_at, "required_signatures": required,
        "learner": {"name": learner.name, "date_of_birth": learner.date_of_birth, "email": learner.email,
                    "european_student_identifier": learner.european_student_identifier,
                    "guardian_name": learner.guardian_name, "guardian_email": learner.guardian_email,
                    "is_minor": minor},
        "mobility": {"mou_id": mobility.mou_id, "sending_organisation_id": mobility.sending_organisation_id,
                     "hosting_organisation_id": mobility.hosting_organisation_id,
                     "qualification_title": mobility.qualification_title,
                     "qualification_eqf_level": mobility.qualification_eqf_level, "sector": mobility.sector,
                     "start_date": mobility.start_date, "end_date": mobility.end_date, "status": mobility.status},
        "signatures": [
            {"id": s.id, "version": numbers.get(s.la_version_id), "party": s.party,
             "organisation_id": s.organisation_id, "mode": s.mode,
             "signer": signing.view(s), "recorded_by": s.recorded_by,
             "signed_at": s.signed_at, "content_hash": s.content_hash, "counts": counts(s)}
            for s in signed
        ],
    }
    status = la.status if shown.id == current.id else f"superseded by version {current.number}"
    subtitle = " · ".join([
        learner.name, mobility.qualification_title,
        f"{organisation_label(orgs, mobility.sending_organisation_id)} → {organisation_label(orgs, mobility.hosting_organisation_id)}",
    ])
    return Document(
        kind="learning-agreement", record_id=la.id, title=KIND_TITLES["learning-agreement"], subtitle=subtitle,
        reference=Reference(f"LA-{la.id}", shown.number, shown.content_hash), issued_at=shown.created_at,
        sections=sections, signatures=signatures, data=data, status=status,
    )


