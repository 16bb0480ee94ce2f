"""The learner's certificate of achievements: the units recognised and awarded, their ECVET points, the
practical implications at home and the Europass credential of each unit (record id: the learner's id).
When one organisation recognised (awarded) every unit, it is the certificate's issuer and its letterhead heads
the PDF; units awarded by several organisations leave the certificate without a letterhead."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Table, data_hash, text
from ecvet.documents.parts import IMPLICATIONS, fields, organisation_label, organisations
from ecvet.mobility import views
from ecvet.mobility.credentials import URN
from engine.parties import Actor


def build(session: Session, actor: Actor, record_id: int) -> Document:
    """For the learner's parties and admins (the same visibility as the achievements; 404 otherwise)."""
    achieved = views.achievements(session, actor=actor, learner_id=record_id)
    learner, credits = achieved["learner"], achieved["credits"]
    orgs = organisations(session, [c["awarded_by_organisation_id"] for c in credits])
    sections = [
        Section("Learner", fields(("Name", learner.get("name")),  # no date of birth (minimisation, issue 16)
                                  ("European Student Identifier", learner.get("european_student_identifier")))),
        Section("Units recognised and awarded",
                fields(("Total ECVET points", achieved["total_ecvet_points"]),
                       ("Extra ECVET points", achieved["extra_ecvet_points"] or None)),
                table=Table(["Unit", "Title", "Qualification", "EQF level", "ECVET points", "Awarded by",
                             "Awarded on", "Europass credential"],
                            [[text(c["unit"]), text(c["unit_title"]), text(c["qualification_title"]),
                              text(c["eqf_level"]), text(c["ecvet_points"]),
                              organisation_label(orgs, c["awarded_by_organisation_id"]), text(c["awarded_at"]),
                              f"{URN}credential:{c['id']}"] for c in credits])),
    ]
    implications = achieved["implications"]
    if implications:
        sections.append(Section("Practical implications", table=Table(
            ["Implication", "Unit", "Description", "ECVET points"],
            [[text(IMPLICATIONS.get(i["kind"], i["kind"])), text(i["unit"]), text(i["description"]),
              text(i["ecvet_points"])] for i in implications])))
    data: dict[str, Any] = {"learner": {k: learner.get(k) for k in ("id", "name", "european_student_identifier")},
                            "credits": credits, "implications": implications,
                            "total_ecvet_points": achieved["total_ecvet_points"],
                            "credentials": [f"{URN}credential:{c['id']}" for c in credits]}
    issued = max((c["awarded_at"] for c in credits), default=None)
    awarding = {c["awarded_by_organisation_id"] for c in credits} - {None}
    return Document(
        kind="certificate", record_id=record_id, title=KIND_TITLES["certificate"], subtitle=learner.get("name"),
        reference=Reference(f"CERT-{record_id}", None, data_hash(data), "document"), issued_at=issued,
        sections=sections, signatures=[], data=data, status=None,
        # One organisation recognised every unit: it issues the certificate, on its letterhead.
        issuer_organisation_id=awarding.pop() if len(awarding) == 1 else None,
    )
