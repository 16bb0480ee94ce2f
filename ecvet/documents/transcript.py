"""The Learner's Personal Transcript as a document: results per unit, issued and signed by the host."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, text
from ecvet.documents.parts import (
    METHODS,
    RESULTS,
    fields,
    mobility_organisations,
    organisation_label,
    outcome_line,
)
from ecvet.mobility import service, transcript, views
from ecvet.mobility.models import PersonalTranscript
from engine.errors import EngineError, NotFound
from engine.parties import Actor


def build(session: Session, actor: Actor, record_id: int) -> Document:
    row = session.get(PersonalTranscript, record_id)
    if row is None:
        raise NotFound(f"No transcript {record_id}")
    try:
        issued = transcript.get(session, actor=actor, mobility_id=row.mobility_id)
    except NotFound:
        raise NotFound(f"No transcript {record_id} you can read") from None
    mobility = service.get(session, actor=actor, mobility_id=issued.mobility_id)
    content = issued.content
    orgs = mobility_organisations(session, mobility)
    units = content.get("units") or []
    learner = content.get("learner") or {}
    home, host = content.get("home") or {}, content.get("host") or {}
    qualification = content.get("qualification") or {}
    period = content.get("period") or {}
    la = content.get("learning_agreement") or {}
    sections = [
        # No date of birth, even in transcripts issued before issue 16 that hold one: the template does not ask.
        Section("Learner", fields(("Name", learner.get("name")),
                                   ("European Student Identifier", learner.get("european_student_identifier")))),
        Section("Organisations", fields(
            ("Issued by (hosting organisation)", f"{host.get('name')} ({host.get('country')})" if host else None),
            ("Home (sending organisation)", f"{home.get('name')} ({home.get('country')})" if home else None))),
        Section("Qualification and period", fields(
            ("Qualification", qualification.get("title")), ("EQF level", qualification.get("eqf_level")),
            ("Start", period.get("start")), ("End", period.get("end")),
            ("Actual first day", period.get("actual_start")), ("Actual last day", period.get("actual_end")),
            ("Ended early", period.get("early_end")))),
        Section("Learning Agreement", fields(
            ("Agreement", f"LA-{la.get('id')} version {la.get('version')}" if la else None),
            ("Text the results refer to (SHA-256)", la.get("hash")))),
        Section("Learning achieved abroad", table=Table(
            ["Unit", "Learning outcomes", "Learning activities", "Hours"],
            [[text(u.get("code")), text(_outcomes(u)),
              text(_activities(u.get("learning_activities"))), text(u.get("hours"))] for u in units])),
        Section(
            "Results per unit",
            fields(("ECVET points achieved", content.get("ecvet_points_achieved"))),
            table=Table(["Unit", "Title", "Method", "Date", "Assessor", "Result", "Grade", "ECVET points", "Evidence"],
                        [[text(u.get("code")), text(u.get("title")),
                          text(METHODS.get(u.get("method"), u.get("method"))), text(u.get("date")),
                          text(_assessor(u.get("assessor"))),
                          text(RESULTS.get(u.get("result"), u.get("result"))), text(u.get("grade")),
                          text(u.get("ecvet_points")), text(u.get("evidence"))] for u in units]),
        ),
    ]
    if content.get("host_periods"):  # several hosts: each host's part of the mobility and of the units
        sections.insert(2, Section("Hosting periods", table=Table(
            ["Period", "Hosting organisation", "Start", "End", "Units assessed"],
            [[text(p.get("position")), text((p.get("hosting_organisation") or {}).get("name")),
              text(p.get("start_date")), text(p.get("end_date")),
              text([u.get("code") for u in units if (u.get("assessed_by") or {}).get("organisation_id")
                    == (p.get("hosting_organisation") or {}).get("id")])]
             for p in content["host_periods"]])))
    remarks = [[text(u.get("code")), text(u.get("learner_agrees")), text(u.get("learner_comment"))]
               for u in units if u.get("learner_comment") or u.get("learner_agrees") is False]
    overall = content.get("learner_overall_comment")
    if remarks or overall:
        sections.append(Section("Learner's remarks", fields(("Learner's comment on the whole assessment", overall)),
                                table=Table(["Unit", "Agrees", "Comment"], remarks)))
    sections.append(Section("Issue and release for recognition", fields(
        ("Issued on", content.get("issued_on")),
        ("Ready for recognition since", issued.ready_for_recognition_at))))
    signature = Signature(
        party=f"Hosting organisation: {organisation_label(orgs, issued.hosting_organisation_id)}",
        name=issued.signer_name, position=issued.signer_position, email=issued.signer_email,
        signed_at=issued.issued_at, mode="explicit", content_hash=issued.content_hash, counts=True,
        place=issued.signer_place)
    return Document(
        kind="transcript", record_id=issued.id, title=KIND_TITLES["transcript"],
        subtitle=" · ".join([mobility.learner.name, mobility.qualification_title,
                             organisation_label(orgs, mobility.hosting_organisation_id)]),
        reference=Reference(f"LPT-{issued.id}", None, issued.content_hash), issued_at=issued.issued_at,
        sections=sections, signatures=[signature], data=dict(views.personal_transcript(issued)),
        status="ready for recognition" if issued.ready_for_recognition_at else "issued",
        issuer_organisation_id=issued.hosting_organisation_id,
    )


#: The status of a transcript shown before it is issued: nothing of it is stored, its id names nothing.
PREVIEW = "preview"


def preview(session: Session, actor: Actor, mobility_id: int) -> Document | None:
    """The transcript exactly as issuing it now would produce it, built and then rolled back (nothing is
    kept, nothing audited), so the host reads it before issuing; None while it cannot be issued (or is)."""
    savepoint = session.begin_nested()
    try:
        row = transcript.issue(session, actor=actor, mobility_id=mobility_id)
        return replace(build(session, actor, row.id), status=PREVIEW)
    except EngineError:
        return None
    finally:
        savepoint.rollback()


def _assessor(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    name, role = value.get("name"), value.get("role")
    return f"{name} ({role})" if name and role else name or None




def _activities(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    return ": ".join(str(v) for v in (value.get("location"), value.get("tasks")) if v) or None


def _outcomes(unit: Mapping[str, Any]) -> list[str]:
    """The unit's learning outcomes, each with its result where the sheet assessed them one by one."""
    assessed = unit.get("outcome_results")
    if assessed:
        return [f"{outcome_line(r)} ({RESULTS.get(r.get('result'), r.get('result'))})" for r in assessed]
    return [outcome_line(o) for o in unit.get("learning_outcomes") or []]
