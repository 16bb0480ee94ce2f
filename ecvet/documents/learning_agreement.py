"""The Learning Agreement as a document: the Erasmus+ ECVET template's sections and every signature."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.documents.model import KIND_TITLES, Document, Reference, Section, Signature, Table, text
from ecvet.documents.parts import fields, organisation_label, organisations, outcome_line, points, sector_label
from ecvet.mobility import learning_agreement, views
from ecvet.mobility.models import LaParty, LaSignature, LaVersion, LearningAgreement, Mobility
from ecvet.mobility.vocabulary import LaChange
from ecvet.partnership.models import Mou
from ecvet.partnership.mou import current_version
from engine.errors import NotFound
from engine.models import Organisation
from engine.parties import Actor

#: What a version changed, in the template's words: the parts of the text (la_content.SECTIONS) and the kinds.
_LA_SECTIONS = {
    "assessment": "Assessment", "validation_and_recognition": "Validation and recognition",
    "duration": "Duration of the mobility", "intermediary": "Intermediary organisation",
    "learner_progress": "Learner's progress so far", "mobility_identifier": "Mobility ID",
    "project_code": "Project code",
    "learner_contact": "The learner's contact details", "contact_persons": "Contact persons",
    "qualification_details": "Qualification being taken", "annexes": "Annexes",
}
_LA_CHANGES = {LaChange.ADDED: "added", LaChange.REMOVED: "removed", LaChange.REPLACED: "replaced"}
_LA_PARTIES = {
    LaParty.LEARNER: "Learner",
    LaParty.GUARDIAN: "Parent or guardian",
    LaParty.SENDING: "Sending organisation",
    LaParty.HOSTING: "Hosting organisation",
    LaParty.INTERMEDIARY: "Intermediary organisation",
    LaParty.HOSTING_PERIOD_2: "Hosting organisation (period 2)",
    LaParty.HOSTING_PERIOD_3: "Hosting organisation (period 3)",
    LaParty.COMPETENT_INSTITUTION: "Competent institution",
}


@dataclass(frozen=True)
class _Shown:
    """One version of a Learning Agreement as the document shows it, with what its sections read."""

    la: LearningAgreement
    version: LaVersion
    current: LaVersion
    mobility: Mobility
    numbers: dict[int, int]
    signed: list[LaSignature]
    orgs: dict[int, Organisation]
    mou_code: str | None

    @property
    def content(self) -> dict[str, Any]:
        return self.version.content

    @property
    def minor(self) -> bool:
        return self.mobility.learner.is_minor(self.mobility.start_date)

    def counts(self, signature: LaSignature) -> bool:
        """Given for exactly this version and hash."""
        return signature.la_version_id == self.version.id and signature.content_hash == self.version.content_hash


def _shown(session: Session, actor: Actor, record_id: int, version: int | None) -> _Shown:
    la = learning_agreement.get(session, actor=actor, la_id=record_id)
    current = learning_agreement.current_version(session, la)
    shown = current
    if version is not None:
        found = session.scalar(select(LaVersion).where(LaVersion.la_id == la.id, LaVersion.number == version))
        if found is None:
            raise NotFound(f"Learning Agreement {record_id} has no version {version}")
        shown = found
    mobility = learning_agreement.mobility_of(session, la)
    signed = views.la_signatures(session, la.id)
    orgs = organisations(session, [mobility.sending_organisation_id, mobility.hosting_organisation_id,
                                   *([mobility.intermediary_organisation_id] if mobility.intermediary_organisation_id
                                     else []), *(s.organisation_id for s in signed)])
    mou = session.get(Mou, mobility.mou_id)
    mou_code = None
    if mou is not None and mou.current_version_id is not None:
        mou_code = current_version(mou).content.get("file_code") or mou.business_key
    return _Shown(la, shown, current, mobility, views.la_version_numbers(session, la.id), signed, orgs, mou_code)


# --------------------------------------------------------------------------------------------------
# The template's sections
# --------------------------------------------------------------------------------------------------


_GENDERS = {"female": "female", "male": "male", "diverse": "diverse", "not_stated": "not stated"}
_FUNCTIONS = {"validation": "validation", "recognition": "recognition",
              "validation_and_recognition": "validation and recognition"}


def _contact(prefix: str, person: dict[str, Any] | None) -> list[tuple[str, Any]]:
    person = person or {}
    return [(f"{prefix}: contact person", person.get("name")), (f"{prefix}: position", person.get("position")),
            (f"{prefix}: telephone", person.get("phone")), (f"{prefix}: e-mail", person.get("email"))]


def _identification(shown: _Shown) -> Section:
    content = shown.content
    return Section("Mobility", fields(
        ("Mobility ID", content.get("mobility_identifier")), ("Project code", content.get("project_code"))))


def _participants(shown: _Shown) -> Section:
    learner, mobility, content = shown.mobility.learner, shown.mobility, shown.content
    contact = content.get("learner_contact") or {}
    persons = content.get("contact_persons") or {}
    participants = [
        ("Learner", learner.name), ("Date of birth", learner.date_of_birth),
        ("Gender", _GENDERS.get(str(contact.get("gender")), contact.get("gender"))),
        ("Address", contact.get("address")), ("Telephone", contact.get("phone")), ("Learner's e-mail", learner.email),
        ("European Student Identifier", learner.european_student_identifier),
    ]
    if shown.minor or learner.guardian_name:
        participants += [("Parent or guardian", learner.guardian_name), ("Guardian's e-mail", learner.guardian_email)]
    participants += [
        ("Sending organisation", organisation_label(shown.orgs, mobility.sending_organisation_id)),
        *_contact("Sending organisation", persons.get("sending")),
        ("Hosting organisation", organisation_label(shown.orgs, mobility.hosting_organisation_id)),
        *_contact("Hosting organisation", persons.get("hosting")),
        ("Intermediary organisation", (content.get("intermediary_organisation") or {}).get("name")),
        ("Intermediary", content.get("intermediary")),
        ("Group", (content.get("group") or {}).get("name")),
        ("Group programme", (content.get("group") or {}).get("programme")),
        *[(f"Hosting period {p.get('position')}",
           f"{(p.get('hosting_organisation') or {}).get('name')}, {p.get('start_date')} to {p.get('end_date')}: "
           f"{', '.join(p.get('units') or [])}") for p in content.get("periods") or []],
        ("Under the MoU", shown.mou_code or (f"MoU {mobility.mou_id}")),
    ]
    return Section("Participants", fields(*participants))


def _qualification(shown: _Shown) -> Section:
    mobility, content = shown.mobility, shown.content
    details = content.get("qualification_details") or {}
    translated = details.get("title_in_partnership_language")
    if translated and details.get("partnership_language"):
        translated = f"{translated} ({details['partnership_language']})"
    return Section("Qualification being taken", fields(
        ("Title", mobility.qualification_title), ("Title in the partnership language", translated),
        ("EQF level", mobility.qualification_eqf_level), ("NQF level", details.get("nqf_level")),
        ("Sector", sector_label(mobility.sector)), ("Learner's progress so far", content.get("learner_progress"))))


def _units(units: list[dict[str, Any]]) -> Section:
    return Section(
        "Units of learning outcomes to be achieved abroad",
        fields(("Total ECVET points", sum(points(u.get("ecvet_points")) for u in units))),
        table=Table(["Unit", "Title", "ECVET points", "Learning outcomes", "Parts of the unit", "Location", "Tasks"],
                    [[text(u.get("code")), text(u.get("title")), text(u.get("ecvet_points")),
                      text([outcome_line(o) for o in u.get("learning_outcomes") or []]), text(u.get("parts")),
                      text((u.get("learning_activities") or {}).get("location")),
                      text((u.get("learning_activities") or {}).get("tasks"))] for u in units]),
    )


def _assessment(assessment: dict[str, Any]) -> Section:
    assessors = assessment.get("assessors") or []
    return Section(
        "Assessment",
        fields(("Method", assessment.get("method")), ("Assessment criteria", assessment.get("criteria")),
               ("When", assessment.get("when")), ("Where", assessment.get("where")),
               ("How it is documented", assessment.get("documentation"))),
        table=Table(["Assessor", "Organisation", "Role"],
                    [[text(a.get("name")), text(a.get("organisation")), text(a.get("role"))] for a in assessors])
        if assessors else None,
    )


def _recognition(recognition: dict[str, Any]) -> Section:
    responsible = recognition.get("responsible") or []
    return Section(
        "Validation and recognition",
        fields(("Who", recognition.get("who")), ("How", recognition.get("how")),
               ("Effect on the learner's programme", recognition.get("effect"))),
        table=Table(["Responsible person", "Organisation", "Role", "Responsible for"],
                    [[text(p.get("name")), text(p.get("organisation")), text(p.get("role")),
                      text(_FUNCTIONS.get(str(p.get("function")), p.get("function")))] for p in responsible])
        if responsible else None,
    )


def _annexes(content: dict[str, Any]) -> Section:
    annexes = content.get("annexes") or {}
    return Section("Annexes", fields(
        ("Europass CV", bool(annexes.get("europass_cv"))),
        ("Europass Language Passport", bool(annexes.get("language_passport"))),
        ("Units already acquired", bool(annexes.get("units_already_acquired"))),
        ("Other", annexes.get("other"))))


def _programme(shown: _Shown) -> list[Section]:
    """Duration, the qualification, the units to achieve abroad, assessment, validation and recognition."""
    mobility, content = shown.mobility, shown.content
    duration = content.get("duration") or {}
    return [
        Section("Duration of the mobility", fields(
            ("Start", duration.get("start") or mobility.start_date), ("End", duration.get("end") or mobility.end_date),
            ("Weeks", duration.get("weeks")))),
        _qualification(shown),
        _units(content.get("units") or []),
        _assessment(content.get("assessment") or {}),
        _recognition(content.get("validation_and_recognition") or {}),
        _annexes(content),
    ]


def _changes_and_signing(session: Session, shown: _Shown, required: list[str]) -> list[Section]:
    """What this version changed (with reasons), and who signs in which order and who is next."""
    sections = []
    if shown.version.changes:
        sections.append(Section(f"Changes made by version {shown.version.number}", table=Table(
            ["Unit or part of the text", "Change", "Reason"],
            [[text(c.get("unit") or _LA_SECTIONS.get(c.get("section") or "", c.get("section"))),
              text(_LA_CHANGES.get(c.get("change") or "", c.get("change"))), text(c.get("reason"))]
             for c in shown.version.changes])))
    next_party = learning_agreement.next_party(session, shown.la) if shown.version.id == shown.current.id else None
    sections.append(Section("Signing", fields(
        ("Signed by, in this order", [_LA_PARTIES.get(p, p) for p in required]),
        ("Next to sign", _LA_PARTIES.get(next_party or "", None) if shown.version.id == shown.current.id else None),
        ("Learner is a minor on the first day", shown.minor),
    )))
    return sections


def _signatures(shown: _Shown) -> list[Signature]:
    def party_label(s: LaSignature) -> str:
        label = _LA_PARTIES.get(s.party, s.party)
        if s.party in (LaParty.SENDING, LaParty.HOSTING, LaParty.COMPETENT_INSTITUTION):
            return f"{label}: {organisation_label(shown.orgs, s.organisation_id)}"
        return label

    return [
        Signature(party=party_label(s), name=s.signer_name, position=s.signer_position, email=s.signer_email,
                  signed_at=s.signed_at, mode=s.mode, content_hash=s.content_hash, counts=shown.counts(s),
                  version=shown.numbers.get(s.la_version_id), place=s.signer_place)
        for s in shown.signed
    ]


def _data(shown: _Shown, required: list[str]) -> dict[str, Any]:
    la, version, mobility = shown.la, shown.version, shown.mobility
    learner = mobility.learner
    return {
        "id": la.id, "mobility_id": mobility.id, "status": la.status, "version": version.number,
        "current_version": shown.current.number, "content": version.content, "content_hash": version.content_hash,
        "changes": version.changes, "created_at": version.created_at, "required_signatures": required,
        "learner": {"name": learner.name, "date_of_birth": learner.date_of_birth, "email": learner.email,
                    "european_student_identifier": learner.european_student_identifier,
                    "guardian_name": learner.guardian_name, "guardian_email": learner.guardian_email,
                    "is_minor": shown.minor},
        "mobility": {"mou_id": mobility.mou_id, "sending_organisation_id": mobility.sending_organisation_id,
                     "hosting_organisation_id": mobility.hosting_organisation_id,
                     "qualification_title": mobility.qualification_title,
                     "qualification_eqf_level": mobility.qualification_eqf_level, "sector": mobility.sector,
                     "start_date": mobility.start_date, "end_date": mobility.end_date, "status": mobility.status},
        "signatures": [views.la_signature(s, shown.numbers, version) for s in shown.signed],
    }


def build(session: Session, actor: Actor, record_id: int, version: int | None = None) -> Document:
    """The Learning Agreement (its current version, or version `version`) for whoever may read it."""
    shown = _shown(session, actor, record_id, version)
    required = learning_agreement.required_signatures(session, shown.la)
    mobility = shown.mobility
    sections = [_identification(shown), _participants(shown), *_programme(shown),
                *_changes_and_signing(session, shown, required)]
    subtitle = " · ".join([
        mobility.learner.name, mobility.qualification_title,
        f"{organisation_label(shown.orgs, mobility.sending_organisation_id)} → "
        f"{organisation_label(shown.orgs, mobility.hosting_organisation_id)}",
    ])
    current = shown.current
    return Document(
        kind="learning-agreement", record_id=shown.la.id, title=KIND_TITLES["learning-agreement"], subtitle=subtitle,
        reference=Reference(f"LA-{shown.la.id}", shown.version.number, shown.version.content_hash),
        issued_at=shown.version.created_at, sections=sections, signatures=_signatures(shown),
        data=_data(shown, required),
        status=shown.la.status if shown.version.id == current.id else f"superseded by version {current.number}",
        issuer_organisation_id=mobility.sending_organisation_id,
    )
