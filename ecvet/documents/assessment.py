"""The assessment sheet of one unit as a document, with the learner's acknowledgement."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, data_hash, text
from ecvet.documents.parts import (
    METHODS,
    RESULTS,
    fields,
    learner_fields,
    mobility_organisations,
    organisation_label,
    outcome_line,
)
from ecvet.mobility import assessment, evidence_files, service, views
from ecvet.mobility.models import AssessmentRecord, LaVersion
from engine.errors import NotFound
from engine.parties import Actor


def build(session: Session, actor: Actor, record_id: int) -> Document:
    sheet = session.get(AssessmentRecord, record_id)
    if sheet is None:
        raise NotFound(f"No assessment sheet {record_id}")
    try:
        mobility = service.get(session, actor=actor, mobility_id=sheet.mobility_id)
    except NotFound:
        raise NotFound(f"No assessment sheet {record_id}") from None
    if not assessment.readable(session, actor, mobility):
        raise NotFound(f"No assessment sheet {record_id} you can read yet")
    acknowledgement = assessment.acknowledgements(session, mobility).get(sheet.id)
    replaced_by = session.scalar(select(AssessmentRecord.id).where(AssessmentRecord.supersedes_id == sheet.id))
    la_version = session.get(LaVersion, sheet.la_version_id)
    unit: dict[str, Any] = next((u for u in (la_version.content.get("units") if la_version else None) or []
                 if u.get("code") == sheet.unit_code), {})
    orgs = mobility_organisations(session, mobility, sheet.organisation_id)
    files = [(e, a) for e, a in evidence_files.of_mobility(session, mobility) if e.unit_code == sheet.unit_code]
    assessors = assessment.signatures(session, sheet)
    sections = [
        Section("Learner and mobility", learner_fields(mobility, orgs) + fields(
            ("Learning Agreement", f"LA-{sheet.la_id} version {la_version.number if la_version else '?'}"),
            ("Text assessed against (SHA-256)", la_version.content_hash if la_version else None))),
        Section("Unit of learning outcomes", fields(
            ("Unit", sheet.unit_code), ("Title", sheet.unit_title), ("ECVET points", unit.get("ecvet_points")),
            ("Learning outcomes assessed", sheet.learning_outcome
             or [outcome_line(o) for o in unit.get("learning_outcomes") or []]))),
        Section("Assessment", fields(
            ("Criteria", sheet.criteria), ("Method", METHODS.get(sheet.method, sheet.method)),
            ("Context", sheet.context), ("Assessor", sheet.assessor_name),
            ("Assessor's organisation", sheet.assessor_organisation), ("Assessor's role", sheet.assessor_role),
            ("Date", sheet.assessed_on), ("Result", RESULTS.get(sheet.result, sheet.result)),
            ("Grade", sheet.grade), ("Comments", sheet.comments), ("Evidence", sheet.evidence))),
        *_per_outcome(sheet),
        *_evidence_files(files),
        Section("Learner's acknowledgement", fields(
            ("Acknowledged", acknowledgement is not None),
            ("Agrees with the assessment", acknowledgement.agrees if acknowledgement else None),
            ("Learner's comment on this unit", acknowledgement.comment if acknowledgement else None),
            ("Learner's comment on the whole assessment",
             acknowledgement.overall_comment if acknowledgement else None),
            ("When", acknowledgement.acknowledged_at if acknowledgement else None))),
    ]
    if sheet.supersedes_id or replaced_by:
        sections.append(Section("Corrections", fields(
            ("Replaces sheet", f"AS-{sheet.supersedes_id}" if sheet.supersedes_id else None),
            ("Replaced by sheet", f"AS-{replaced_by}" if replaced_by else None))))
    signatures = []
    if sheet.signer_name:  # sheets recorded before signers were accounts name no signer
        signatures.append(Signature(
            party=f"Hosting organisation: {organisation_label(orgs, sheet.organisation_id)}", name=sheet.signer_name,
            position=sheet.signer_position, email=sheet.signer_email, signed_at=sheet.recorded_at, mode="explicit",
            content_hash=None, counts=True, place=sheet.signer_place))
    for signed in assessors:
        signatures.append(Signature(
            party=f"Assessor: {organisation_label(orgs, signed.organisation_id)}", name=signed.signer_name,
            position=signed.signer_position, email=signed.signer_email, signed_at=signed.signed_at,
            mode="explicit", content_hash=None, counts=True, place=signed.signer_place))
    if acknowledgement is not None:
        signatures.append(Signature(
            party="Learner (acknowledgement)", name=mobility.learner.name, position=None, email=None,
            signed_at=acknowledgement.acknowledged_at, mode="explicit", content_hash=None, counts=True))
    data = {**views.assessment_sheet(sheet, acknowledgement), "mobility_id": mobility.id, "la_id": sheet.la_id,
            "la_version": la_version.number if la_version else None,
            "la_hash": la_version.content_hash if la_version else None,
            "organisation_id": sheet.organisation_id, "superseded_by": replaced_by,
            "evidence_files": [evidence_files.view(e, a) for e, a in files],
            "assessor_signatures": [assessment.signature_view(a) for a in assessors],
            "learner": {"name": mobility.learner.name}}
    return Document(
        kind="assessment-sheet", record_id=sheet.id, title=KIND_TITLES["assessment-sheet"],
        subtitle=" · ".join([mobility.learner.name, f"Unit {sheet.unit_code} {sheet.unit_title or ''}".strip(),
                             organisation_label(orgs, sheet.organisation_id)]),
        reference=Reference(f"AS-{sheet.id}", None, data_hash(data), "document"), issued_at=sheet.recorded_at,
        sections=sections, signatures=signatures, data=data,
        status=f"replaced by AS-{replaced_by}" if replaced_by else "current",
        issuer_organisation_id=sheet.organisation_id,
    )


def _per_outcome(sheet: AssessmentRecord) -> list[Section]:
    """The result of each learning outcome of the unit, where the sheet records them (since 1201)."""
    if not sheet.outcome_results:
        return []
    return [Section("Results per learning outcome", table=Table(
        ["Learning outcome", "Result", "Comment"],
        [[outcome_line(r), text(RESULTS.get(r.get("result"), r.get("result"))), text(r.get("comment"))]
         for r in sheet.outcome_results]))]


def _evidence_files(files: list[tuple[Any, Any]]) -> list[Section]:
    """The files the assessment of the unit rests on, each with its full SHA-256 (since 1705)."""
    if not files:
        return []
    return [Section("Evidence files", table=Table(
        ["Learning outcome", "File", "Type", "Size (bytes)", "SHA-256"],
        [[text(e.learning_outcome), text(a.filename), text(a.media_type), text(a.size), text(a.sha256)]
         for e, a in files]))]
