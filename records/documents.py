"""Documents for people: the records of a partnership or mobility as one printable, exportable structure.

:func:`build` turns a record (MoU, Learning Agreement, assessment sheet, ...) into a :class:`Document`,
with the same visibility as the record's own service (its ``get`` decides; anyone else gets
:class:`~engine.errors.NotFound`). Renderers consume that structure and nothing else: the PDF
(:mod:`records.pdf`), the web pages (HTML) and the JSON export (:meth:`Document.as_json`).

The structure, top to bottom:

* ``kind`` (one of :data:`KINDS`) and ``record_id``: what the document is generated from;
* ``title`` (the template's name, e.g. "Learning Agreement") and ``subtitle`` (who and what it is about);
* ``status``: the record's status in its own words (``active``, ``signed``, ...), or None;
* ``reference``: :class:`Reference` with the record's code (e.g. the MoU file code), the version shown
  and the SHA-256 the document was generated from. For versioned records (MoU, LA) that is the hash
  the parties sign; for the others the hash of the canonical JSON of ``data`` (``hash_basis``
  says which), so a printed copy can always be checked against the platform;
* ``issued_at``: when this text was issued (the version's creation, the transcript's issue, ...);
* ``sections``: :class:`Section` list in reading order, each with a ``heading`` and any of
  ``fields`` (label/value pairs, values already formatted as text), ``table`` (:class:`Table` of
  columns and rows of text) and ``text`` (a paragraph);
* ``signatures``: :class:`Signature` list (every signature the record holds, of every version, with
  whether it ``counts`` for the version shown: given for exactly this version's hash);
* ``data``: the record's own structured data (JSON types only), exported under ``"data"``.

:func:`references_in` finds the document references a process keeps in its data (the ids the
records' task actions return, see :data:`REFERENCE_KEYS`); :func:`for_instance` lists those an
instance holds and the caller may read.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import instances
from engine.errors import Invalid, NotFound
from engine.models import Organisation, User
from engine.parties import Actor

from . import assessment, recognition, signing
from . import learning_agreement as las
from . import mobility as mobilities
from . import mou as mous
from . import review as reviews
from . import transcript as transcripts
from .models import (
    ApprovalRole,
    AssessmentRecord,
    Decision,
    LaParty,
    LaSignature,
    LaVersion,
    Mobility,
    Mou,
    MouApproval,
    MouVersion,
    PersonalTranscript,
    RecognitionDecision,
    Review,
)

__all__ = [
    "KINDS", "REFERENCE_KEYS", "Document", "DocumentRef", "Reference", "Section", "Signature", "Table",
    "build", "for_instance", "references_in",
]

SCHEMA_PREFIX = "ecvet-flow/document/"

#: Every document kind, in the order of the mobility lifecycle.
KINDS = (
    "mou", "learning-agreement", "assessment-sheet", "transcript", "recognition-record", "evaluation",
    "action-plan",
)

#: The template name of each kind: the title of its documents.
KIND_TITLES = {
    "mou": "Memorandum of Understanding",
    "learning-agreement": "Learning Agreement",
    "assessment-sheet": "Assessment sheet",
    "transcript": "Learner's Personal Transcript",
    "recognition-record": "Validation and recognition record",
    "evaluation": "Evaluation sheet",
    "action-plan": "Action plan",
}

#: Keys of process data that hold record ids (as the records' task actions return them), and the
#: document kind each refers to. A key ending in ``_ids`` holds a list. The one place this mapping lives.
REFERENCE_KEYS: dict[str, str] = {
    "mou_id": "mou",
    "la_id": "learning-agreement",
    "assessment_id": "assessment-sheet",
    "assessment_ids": "assessment-sheet",
    "transcript_id": "transcript",
    "recognition_id": "recognition-record",
    "evaluation_id": "evaluation",
    "evaluation_ids": "evaluation",
    "sending_evaluation_id": "evaluation",
    "hosting_evaluation_id": "evaluation",
    "learner_evaluation_id": "evaluation",
    "action_plan_id": "action-plan",
}

EMPTY = "—"


# --------------------------------------------------------------------------------------------------
# The structure
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """Rows of text under column headings (units with their ECVET points, results, assessors...)."""

    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    """One part of the document: label/value fields, a table and/or a paragraph, under a heading."""

    heading: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    text: str | None = None


@dataclass(frozen=True)
class Signature:
    """A signature (or an approval by silence) as evidence: who, in which position, when, for which text.

    ``counts`` is true when it was given for exactly the version and hash the document shows."""

    party: str
    name: str | None
    position: str | None
    email: str | None
    signed_at: datetime | None
    mode: str
    content_hash: str | None
    counts: bool
    version: int | None = None
    place: str | None = None


@dataclass(frozen=True)
class Reference:
    """What identifies the printed text: code, version and the SHA-256 it was generated from."""

    code: str | None
    version: int | None
    content_hash: str
    hash_basis: str = "record"  # "record": the hash parties sign; "document": SHA-256 of the data

    def __str__(self) -> str:
        parts = [p for p in (self.code, f"version {self.version}" if self.version else None) if p]
        parts.append(f"SHA-256 {self.content_hash}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Document:
    """A record as people read it; see the module docstring for what each part holds."""

    kind: str
    record_id: int
    title: str
    subtitle: str | None
    reference: Reference
    issued_at: datetime | None
    sections: list[Section]
    signatures: list[Signature]
    data: dict[str, Any]
    status: str | None = None

    @property
    def schema(self) -> str:
        return f"{SCHEMA_PREFIX}{self.kind}/v1"

    @property
    def content_hash(self) -> str:
        return self.reference.content_hash

    def as_json(self) -> dict[str, Any]:
        """The document as JSON types, stable for the same records: no generation time, ISO 8601 times."""
        return {
            "schema": self.schema,
            "kind": self.kind,
            "record_id": self.record_id,
            "title": self.title,
            "subtitle": self.subtitle,
            "status": self.status,
            "reference": {"code": self.reference.code, "version": self.reference.version,
                          "content_hash": self.reference.content_hash, "hash_basis": self.reference.hash_basis},
            "content_hash": self.content_hash,
            "issued_at": _iso(self.issued_at),
            "sections": [
                {"heading": s.heading, "fields": [[label, value] for label, value in s.fields],
                 "table": {"columns": list(s.table.columns), "rows": [list(r) for r in s.table.rows]}
                 if s.table else None,
                 "text": s.text}
                for s in self.sections
            ],
            "signatures": [
                {"party": s.party, "name": s.name, "position": s.position, "email": s.email, "place": s.place,
                 "signed_at": _iso(s.signed_at), "mode": s.mode, "content_hash": s.content_hash,
                 "counts": s.counts, "version": s.version}
                for s in self.signatures
            ],
            "data": jsonable(self.data),
        }


@dataclass(frozen=True)
class DocumentRef:
    """A pointer to a document: enough to link it (``/api/documents/{kind}/{record_id}``)."""

    kind: str
    record_id: int
    title: str


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def jsonable(value: Any) -> Any:
    """Dates and times as ISO 8601 text, tuples as lists: what a JSON document can hold."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def data_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a record's data, for records that carry no hash of their own."""
    return mous.content_hash(jsonable(data))


def text(value: Any) -> str:
    """A value as a person reads it in a field or cell."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "; ".join(text(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
    return str(value)


def _fields(*pairs: tuple[str, Any]) -> list[tuple[str, str]]:
    return [(label, text(value)) for label, value in pairs]


def _organisations(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}


def _org_label(orgs: Mapping[int, Organisation], org_id: int | None) -> str:
    org = orgs.get(org_id) if org_id is not None else None
    if org is None:
        return EMPTY if org_id is None else f"Organisation {org_id}"
    return f"{org.name} ({org.country})"


def _points(value: Any) -> float | int:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


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


def _organisation_fields(org: Mapping[str, Any]) -> list[tuple[str, str]]:
    contact = org.get("contact_person") or {}
    return _fields(
        ("Name", org.get("name")), ("Role", org.get("role")), ("Country", org.get("country")),
        ("Address", org.get("address")), ("Website", org.get("website")),
        ("Contact person", contact.get("name")), ("Position", contact.get("position")),
        ("Phone", contact.get("phone")), ("E-mail", contact.get("email")),
    )


def _mou_version(session: Session, actor: Actor, mou: Mou, version: int | None) -> MouVersion:
    if version is None:
        return mous.current_version(mou)
    return mous.get_version(session, actor=actor, mou_id=mou.id, number=version)


def _build_mou(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    mou = mous.get(session, actor=actor, mou_id=record_id)
    shown = _mou_version(session, actor, mou, version)
    current = mous.current_version(mou)
    content = shown.content
    numbers = dict(session.execute(select(MouVersion.id, MouVersion.number).where(MouVersion.mou_id == mou.id)).all())
    approvals = mous.approvals_of(session, mou)
    try:
        plan = mous.plan_for(session, content, mou=mou)  # the table pinned at submission
    except Invalid:  # a broken national-models table must not hide the MoU's text
        plan = mous.Plan(problems=["the national models table could not be evaluated"])
    partners = content.get("signing_organisations") or []
    named_ids = [ci.get("organisation_id") for ci in content.get("competent_institutions") or []]
    arrangement_ids = [i for a in (content.get("arrangements") or {}).values() for i in a.get("organisation_ids", [])]
    orgs = _organisations(session, [mou.sending_organisation_id, *(o.get("organisation_id") for o in partners),
                                    *named_ids, *arrangement_ids, *(a.organisation_id for a in approvals),
                                    *(r.organisation_id for r in plan.requirements)])

    def counts(a: MouApproval) -> bool:
        return a.mou_version_id == shown.id and a.content_hash == shown.content_hash

    sections: list[Section] = []
    objectives = content.get("objectives") or {}
    sections.append(Section("Objectives", _fields(
        ("Mutual acceptance of procedures for",
         [_MUTUAL_ACCEPTANCE.get(x, x) for x in objectives.get("mutual_acceptance") or []]),
        ("Other objectives", objectives.get("other")),
    )))
    for i, org in enumerate(partners, start=1):
        sections.append(Section(f"Signing organisation {i}", _organisation_fields(org)))
    others = content.get("other_organisations") or []
    if others:
        sections.append(Section("Other organisations covered", table=Table(
            ["Name", "Role", "Country", "Contact person", "E-mail"],
            [[text(o.get("name")), text(o.get("role")), text(o.get("country")),
              text((o.get("contact_person") or {}).get("name")), text((o.get("contact_person") or {}).get("email"))]
             for o in others])))
    if named_ids:
        sections.append(Section("Competent institutions named", _fields(
            *((f"Institution {n}", _org_label(orgs, org_id)) for n, org_id in enumerate(named_ids, start=1)))))
    for i, qualification in enumerate(content.get("qualifications") or [], start=1):
        units = qualification.get("units") or []
        sections.append(Section(
            f"Qualification {i}: {text(qualification.get('title'))}",
            _fields(("Title", qualification.get("title")), ("Country", qualification.get("country")),
                    ("EQF level", qualification.get("eqf_level")), ("NQF level", qualification.get("nqf_level")),
                    ("ECVET points of the qualification", qualification.get("ecvet_points")),
                    ("ECVET points of the units concerned", sum(_points(u.get("ecvet_points")) for u in units))),
            table=Table(["Unit", "Title", "EQF level", "ECVET points"],
                        [[text(u.get("code")), text(u.get("title")), text(u.get("eqf_level")),
                          text(u.get("ecvet_points"))] for u in units]),
        ))
    arrangements = content.get("arrangements") or {}
    sections.append(Section("Assessment, documentation, validation and recognition", table=Table(
        ["Arrangement", "How", "Who"],
        [[label, text((arrangements.get(name) or {}).get("how")),
          text([_org_label(orgs, i) for i in (arrangements.get(name) or {}).get("organisation_ids", [])])]
         for name, label in _ARRANGEMENT_LABELS.items()])))
    duration = content.get("mobility_duration_weeks") or {}
    sections.append(Section("Duration and validity", _fields(
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
        required_rows.append([_org_label(orgs, r.organisation_id), _MOU_ROLES.get(r.role, r.role), how,
                              text(latest.decision if latest else "pending")])
    sections.append(Section("Approvals this version needs", table=Table(
        ["Organisation", "Role", "How", "Decision on this version"], required_rows),
        text="; ".join(plan.problems) or None))
    refusals = [a for a in approvals if a.decision == Decision.REJECTED]
    if refusals:
        sections.append(Section("Refusals", table=Table(
            ["Version", "Organisation", "By", "When", "Comment"],
            [[text(numbers.get(a.mou_version_id)), _org_label(orgs, a.organisation_id), text(a.signer_name),
              text(a.signed_at), text(a.comment)] for a in refusals])))

    signatures = [
        Signature(party=f"{_MOU_ROLES.get(a.role, a.role)}: {_org_label(orgs, a.organisation_id)}",
                  name=a.signer_name, position=a.signer_position, email=a.signer_email, signed_at=a.signed_at,
                  mode=a.mode, content_hash=a.content_hash, counts=counts(a), version=numbers.get(a.mou_version_id),
                  place=a.signer_place)
        for a in approvals if a.decision == Decision.APPROVED
    ]
    names = [o.get("name") or _org_label(orgs, o.get("organisation_id")) for o in partners]
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


def _build_learning_agreement(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    la = las.get(session, actor=actor, la_id=record_id)
    current = las.current_version(session, la)
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
    orgs = _organisations(session, [mobility.sending_organisation_id, mobility.hosting_organisation_id,
                                    *(s.organisation_id for s in signed)])
    mou = session.get(Mou, mobility.mou_id)
    mou_code = None
    if mou is not None and mou.current_version_id is not None:
        mou_code = mous.current_version(mou).content.get("file_code") or mou.business_key
    minor = learner.is_minor(mobility.start_date)
    required = las.required_signatures(session, la)

    def counts(s: LaSignature) -> bool:
        return s.la_version_id == shown.id and s.content_hash == shown.content_hash

    participants = [
        ("Learner", learner.name), ("Date of birth", learner.date_of_birth), ("Learner's e-mail", learner.email),
        ("European Student Identifier", learner.european_student_identifier),
    ]
    if minor or learner.guardian_name:
        participants += [("Parent or guardian", learner.guardian_name), ("Guardian's e-mail", learner.guardian_email)]
    participants += [
        ("Sending organisation", _org_label(orgs, mobility.sending_organisation_id)),
        ("Hosting organisation", _org_label(orgs, mobility.hosting_organisation_id)),
        ("Intermediary", content.get("intermediary")),
        ("Under the MoU", mou_code or (f"MoU {mobility.mou_id}")),
    ]
    duration = content.get("duration") or {}
    units = content.get("units") or []
    assessment = content.get("assessment") or {}
    recognition = content.get("validation_and_recognition") or {}
    sections = [
        Section("Participants", _fields(*participants)),
        Section("Duration of the mobility", _fields(
            ("Start", duration.get("start") or mobility.start_date), ("End", duration.get("end") or mobility.end_date),
            ("Weeks", duration.get("weeks")))),
        Section("Qualification being taken", _fields(
            ("Title", mobility.qualification_title), ("EQF level", mobility.qualification_eqf_level),
            ("Sector", mobility.sector), ("Learner's progress so far", content.get("learner_progress")))),
        Section(
            "Units of learning outcomes to be achieved abroad",
            _fields(("Total ECVET points", sum(_points(u.get("ecvet_points")) for u in units))),
            table=Table(["Unit", "Title", "ECVET points", "Learning outcomes", "Location", "Tasks"],
                        [[text(u.get("code")), text(u.get("title")), text(u.get("ecvet_points")),
                          text(u.get("learning_outcomes")),
                          text((u.get("learning_activities") or {}).get("location")),
                          text((u.get("learning_activities") or {}).get("tasks"))] for u in units]),
        ),
        Section(
            "Assessment",
            _fields(("Method", assessment.get("method")), ("When", assessment.get("when")),
                    ("How it is documented", assessment.get("documentation"))),
            table=Table(["Assessor", "Organisation", "Role"],
                        [[text(a.get("name")), text(a.get("organisation")), text(a.get("role"))]
                         for a in assessment.get("assessors") or []]) if assessment.get("assessors") else None,
        ),
        Section("Validation and recognition", _fields(
            ("Who", recognition.get("who")), ("How", recognition.get("how")),
            ("Effect on the learner's programme", recognition.get("effect")))),
    ]
    if shown.changes:
        sections.append(Section(f"Changes made by version {shown.number}", table=Table(
            ["Unit", "Change", "Reason"],
            [[text(c.get("unit")), text(c.get("change")), text(c.get("reason"))] for c in shown.changes])))
    sections.append(Section("Signing", _fields(
        ("Signed by, in this order", [_LA_PARTIES.get(p, p) for p in required]),
        ("Next to sign", _LA_PARTIES.get(las.next_party(session, la) or "", None) if shown.id == current.id else None),
        ("Learner is a minor on the first day", minor),
    )))

    def party_label(s: LaSignature) -> str:
        label = _LA_PARTIES.get(s.party, s.party)
        if s.party in (LaParty.SENDING, LaParty.HOSTING, LaParty.COMPETENT_INSTITUTION):
            return f"{label}: {_org_label(orgs, s.organisation_id)}"
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
        f"{_org_label(orgs, mobility.sending_organisation_id)} → {_org_label(orgs, mobility.hosting_organisation_id)}",
    ])
    return Document(
        kind="learning-agreement", record_id=la.id, title=KIND_TITLES["learning-agreement"], subtitle=subtitle,
        reference=Reference(f"LA-{la.id}", shown.number, shown.content_hash), issued_at=shown.created_at,
        sections=sections, signatures=signatures, data=data, status=status,
    )


# --------------------------------------------------------------------------------------------------
# Mobility records: assessment sheet, Learner's Personal Transcript, validation and recognition record
# --------------------------------------------------------------------------------------------------

_METHODS = {
    "observation": "observation", "practical_task": "practical task", "portfolio": "portfolio",
    "interview": "interview", "test": "test",
}
_RESULTS = {"achieved": "achieved", "not_achieved": "not achieved"}
_VALIDATION = {"validated": "validated", "partly_validated": "partly validated", "not_validated": "not validated"}
_IMPLICATIONS = {
    "exempted_activity": "exempted from a learning activity", "no_retake": "no retake of the exam",
    "extra_credits": "extra credits", "other": "other",
}


def _learner_fields(mobility: Mobility, orgs: Mapping[int, Organisation]) -> list[tuple[str, str]]:
    learner = mobility.learner
    return _fields(
        ("Learner", learner.name), ("Date of birth", learner.date_of_birth),
        ("European Student Identifier", learner.european_student_identifier),
        ("Sending organisation", _org_label(orgs, mobility.sending_organisation_id)),
        ("Hosting organisation", _org_label(orgs, mobility.hosting_organisation_id)),
        ("Qualification", f"{mobility.qualification_title}"
                          + (f" (EQF {mobility.qualification_eqf_level})" if mobility.qualification_eqf_level else "")),
        ("Mobility period", f"{mobility.start_date.isoformat()} to {mobility.end_date.isoformat()}"),
    )


def _mobility_orgs(session: Session, mobility: Mobility, *more: int | None) -> dict[int, Organisation]:
    return _organisations(session, [mobility.sending_organisation_id, mobility.hosting_organisation_id,
                                    mobility.competent_institution_home_id, mobility.competent_institution_host_id,
                                    *more])


def _build_assessment_sheet(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    sheet = session.get(AssessmentRecord, record_id)
    if sheet is None:
        raise NotFound(f"No assessment sheet {record_id}")
    try:
        mobility = mobilities.get(session, actor=actor, mobility_id=sheet.mobility_id)
    except NotFound:
        raise NotFound(f"No assessment sheet {record_id}") from None
    if not assessment.readable(session, actor, mobility):
        raise NotFound(f"No assessment sheet {record_id} you can read yet")
    acknowledgement = assessment.acknowledgements(session, mobility).get(sheet.id)
    replaced_by = session.scalar(select(AssessmentRecord.id).where(AssessmentRecord.supersedes_id == sheet.id))
    la_version = session.get(LaVersion, sheet.la_version_id)
    unit = next((u for u in (la_version.content.get("units") if la_version else None) or []
                 if u.get("code") == sheet.unit_code), {})
    orgs = _mobility_orgs(session, mobility, sheet.organisation_id)
    sections = [
        Section("Learner and mobility", _learner_fields(mobility, orgs) + _fields(
            ("Learning Agreement", f"LA-{sheet.la_id} version {la_version.number if la_version else '?'}"),
            ("Text assessed against (SHA-256)", la_version.content_hash if la_version else None))),
        Section("Unit of learning outcomes", _fields(
            ("Unit", sheet.unit_code), ("Title", sheet.unit_title), ("ECVET points", unit.get("ecvet_points")),
            ("Learning outcome assessed", sheet.learning_outcome))),
        Section("Assessment", _fields(
            ("Criteria", sheet.criteria), ("Method", _METHODS.get(sheet.method, sheet.method)),
            ("Context", sheet.context), ("Assessor", sheet.assessor_name),
            ("Assessor's organisation", sheet.assessor_organisation), ("Assessor's role", sheet.assessor_role),
            ("Date", sheet.assessed_on), ("Result", _RESULTS.get(sheet.result, sheet.result)),
            ("Grade", sheet.grade), ("Comments", sheet.comments), ("Evidence", sheet.evidence))),
        Section("Learner's acknowledgement", _fields(
            ("Acknowledged", acknowledgement is not None),
            ("Agrees with the assessment", acknowledgement.agrees if acknowledgement else None),
            ("Learner's comment", acknowledgement.comment if acknowledgement else None),
            ("When", acknowledgement.acknowledged_at if acknowledgement else None))),
    ]
    if sheet.supersedes_id or replaced_by:
        sections.append(Section("Corrections", _fields(
            ("Replaces sheet", f"AS-{sheet.supersedes_id}" if sheet.supersedes_id else None),
            ("Replaced by sheet", f"AS-{replaced_by}" if replaced_by else None))))
    signatures = []
    if sheet.signer_name:  # sheets recorded before signers were accounts name no signer
        signatures.append(Signature(
            party=f"Hosting organisation: {_org_label(orgs, sheet.organisation_id)}", name=sheet.signer_name,
            position=sheet.signer_position, email=sheet.signer_email, signed_at=sheet.recorded_at, mode="explicit",
            content_hash=None, counts=True, place=sheet.signer_place))
    if acknowledgement is not None:
        signatures.append(Signature(
            party="Learner (acknowledgement)", name=mobility.learner.name, position=None, email=None,
            signed_at=acknowledgement.acknowledged_at, mode="explicit", content_hash=None, counts=True))
    data = {**assessment.view(sheet, acknowledgement), "mobility_id": mobility.id, "la_id": sheet.la_id,
            "la_version": la_version.number if la_version else None,
            "la_hash": la_version.content_hash if la_version else None,
            "organisation_id": sheet.organisation_id, "superseded_by": replaced_by,
            "learner": {"name": mobility.learner.name, "date_of_birth": mobility.learner.date_of_birth}}
    return Document(
        kind="assessment-sheet", record_id=sheet.id, title=KIND_TITLES["assessment-sheet"],
        subtitle=" · ".join([mobility.learner.name, f"Unit {sheet.unit_code} {sheet.unit_title or ''}".strip(),
                             _org_label(orgs, sheet.organisation_id)]),
        reference=Reference(f"AS-{sheet.id}", None, data_hash(data), "document"), issued_at=sheet.recorded_at,
        sections=sections, signatures=signatures, data=data,
        status=f"replaced by AS-{replaced_by}" if replaced_by else "current",
    )


def _build_transcript(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    row = session.get(PersonalTranscript, record_id)
    if row is None:
        raise NotFound(f"No transcript {record_id}")
    try:
        transcript = transcripts.get(session, actor=actor, mobility_id=row.mobility_id)
    except NotFound:
        raise NotFound(f"No transcript {record_id} you can read") from None
    mobility = mobilities.get(session, actor=actor, mobility_id=transcript.mobility_id)
    content = transcript.content
    orgs = _mobility_orgs(session, mobility)
    units = content.get("units") or []
    learner = content.get("learner") or {}
    home, host = content.get("home") or {}, content.get("host") or {}
    qualification = content.get("qualification") or {}
    period = content.get("period") or {}
    la = content.get("learning_agreement") or {}
    sections = [
        Section("Learner", _fields(("Name", learner.get("name")), ("Date of birth", learner.get("date_of_birth")),
                                   ("European Student Identifier", learner.get("european_student_identifier")))),
        Section("Organisations", _fields(
            ("Issued by (hosting organisation)", f"{host.get('name')} ({host.get('country')})" if host else None),
            ("Home (sending organisation)", f"{home.get('name')} ({home.get('country')})" if home else None))),
        Section("Qualification and period", _fields(
            ("Qualification", qualification.get("title")), ("EQF level", qualification.get("eqf_level")),
            ("Start", period.get("start")), ("End", period.get("end")))),
        Section("Learning Agreement", _fields(
            ("Agreement", f"LA-{la.get('id')} version {la.get('version')}" if la else None),
            ("Text the results refer to (SHA-256)", la.get("hash")))),
        Section(
            "Results per unit",
            _fields(("ECVET points achieved", content.get("ecvet_points_achieved"))),
            table=Table(["Unit", "Title", "Method", "Date", "Assessor", "Result", "Grade", "ECVET points", "Evidence"],
                        [[text(u.get("code")), text(u.get("title")),
                          text(_METHODS.get(u.get("method"), u.get("method"))), text(u.get("date")),
                          text(_assessor(u.get("assessor"))),
                          text(_RESULTS.get(u.get("result"), u.get("result"))), text(u.get("grade")),
                          text(u.get("ecvet_points")), text(u.get("evidence"))] for u in units]),
        ),
    ]
    remarks = [[text(u.get("code")), text(u.get("learner_agrees")), text(u.get("learner_comment"))]
               for u in units if u.get("learner_comment") or u.get("learner_agrees") is False]
    if remarks:
        sections.append(Section("Learner's remarks", table=Table(["Unit", "Agrees", "Comment"], remarks)))
    sections.append(Section("Recognition", _fields(
        ("Issued on", content.get("issued_on")),
        ("Ready for recognition since", transcript.ready_for_recognition_at))))
    signature = Signature(
        party=f"Hosting organisation: {_org_label(orgs, transcript.hosting_organisation_id)}",
        name=transcript.signer_name, position=transcript.signer_position, email=transcript.signer_email,
        signed_at=transcript.issued_at, mode="explicit", content_hash=transcript.content_hash, counts=True,
        place=transcript.signer_place)
    return Document(
        kind="transcript", record_id=transcript.id, title=KIND_TITLES["transcript"],
        subtitle=" · ".join([mobility.learner.name, mobility.qualification_title,
                             _org_label(orgs, mobility.hosting_organisation_id)]),
        reference=Reference(f"LPT-{transcript.id}", None, transcript.content_hash), issued_at=transcript.issued_at,
        sections=sections, signatures=[signature], data=transcripts.view(transcript),
        status="ready for recognition" if transcript.ready_for_recognition_at else "issued",
    )


def _assessor(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return None
    name, role = value.get("name"), value.get("role")
    return f"{name} ({role})" if name and role else name or None


def _build_recognition_record(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    row = session.get(RecognitionDecision, record_id)
    if row is None:
        raise NotFound(f"No recognition record {record_id}")
    try:
        mobility = mobilities.get(session, actor=actor, mobility_id=row.mobility_id)
    except NotFound:
        raise NotFound(f"No recognition record {record_id}") from None
    decided = recognition.decisions(session, mobility)
    transcript = transcripts.of(session, mobility)
    validation_rows = list(recognition.validations(session, mobility).values())
    credits = decided["credits"]
    implications = decided["implications"]
    orgs = _mobility_orgs(session, mobility, row.organisation_id, *(v.organisation_id for v in validation_rows))
    recogniser = "competent institution" if row.recognised_by == "competent_institution" else "sending organisation"
    sections = [
        Section("Learner and mobility", _learner_fields(mobility, orgs)),
        Section("Transcript decided on", _fields(
            ("Learner's Personal Transcript", f"LPT-{row.transcript_id}"),
            ("Its SHA-256", row.transcript_hash),
            ("Still the transcript issued",
             transcript is not None and transcript.content_hash == row.transcript_hash))),
        Section("Validation", _fields(("Merged with recognition", row.merged_with_validation)), table=Table(
            ["Unit", "Outcome", "Comment", "Decided by", "When"],
            [[text(v.unit_code), text(_VALIDATION.get(v.outcome, v.outcome)), text(v.comment),
              _org_label(orgs, v.organisation_id), text(v.decided_at)] for v in validation_rows])),
        Section("Recognition", _fields(
            ("Recognised by", f"{recogniser}: {_org_label(orgs, row.organisation_id)}"),
            ("National model", row.national_model), ("Comment", row.comment), ("Decided", row.decided_at)),
            table=Table(["Unit", "Title", "Validation", "Recognised", "ECVET points", "Comment"],
                        [[text(u.get("unit")), text(u.get("title")),
                          text(_VALIDATION.get(u.get("validation"), u.get("validation"))), text(u.get("recognised")),
                          text(u.get("ecvet_points")), text(u.get("comment"))] for u in row.units or []])),
        Section("Credits awarded to the learner",
                _fields(("Total ECVET points", sum(_points(c["ecvet_points"]) for c in credits))),
                table=Table(["Unit", "Title", "Qualification", "EQF level", "ECVET points", "Awarded"],
                            [[text(c["unit"]), text(c["unit_title"]), text(c["qualification_title"]),
                              text(c["eqf_level"]), text(c["ecvet_points"]), text(c["awarded_at"])] for c in credits])),
        Section("Practical implications", table=Table(
            ["Implication", "Description", "Unit", "ECVET points"],
            [[text(_IMPLICATIONS.get(i["kind"], i["kind"])), text(i["description"]), text(i["unit"]),
              text(i["ecvet_points"])] for i in implications]),
            text=None if implications else "None recorded yet."),
    ]
    current_hash = transcript.content_hash if transcript is not None else None
    signatures: list[Signature] = []
    seen: set[tuple[Any, ...]] = set()
    for v in validation_rows:
        key = (v.organisation_id, v.signer_name, v.decided_at)
        if key not in seen and not v.merged_with_recognition:
            seen.add(key)
            signatures.append(Signature(
                party=f"Validation: {_org_label(orgs, v.organisation_id)}", name=v.signer_name,
                position=v.signer_position, email=v.signer_email, signed_at=v.decided_at, mode="explicit",
                content_hash=v.transcript_hash, counts=v.transcript_hash == current_hash, place=v.signer_place))
    label = "Validation and recognition" if row.merged_with_validation else "Recognition"
    signatures.append(Signature(
        party=f"{label}: {_org_label(orgs, row.organisation_id)}", name=row.signer_name,
        position=row.signer_position, email=row.signer_email, signed_at=row.decided_at, mode="explicit",
        content_hash=row.transcript_hash, counts=row.transcript_hash == current_hash, place=row.signer_place))
    data = {"id": row.id, "mobility_id": mobility.id, "mobility_status": mobility.status,
            "learner": {"name": mobility.learner.name, "date_of_birth": mobility.learner.date_of_birth},
            "transcript_id": row.transcript_id, **decided}
    return Document(
        kind="recognition-record", record_id=row.id, title=KIND_TITLES["recognition-record"],
        subtitle=" · ".join([mobility.learner.name, mobility.qualification_title,
                             _org_label(orgs, row.organisation_id)]),
        reference=Reference(f"REC-{row.id}", None, data_hash(data), "document"), issued_at=row.decided_at,
        sections=sections, signatures=signatures, data=data, status=mobility.status,
    )


# --------------------------------------------------------------------------------------------------
# Review: evaluation sheets and action plan
# --------------------------------------------------------------------------------------------------

_REVIEW_PARTIES = {"sending": "Sending organisation", "hosting": "Hosting organisation", "learner": "Learner"}
_ACTION_STATUS = {"open": "open", "in_progress": "in progress", "done": "done", "dropped": "dropped"}


def _review_party_label(party: str, review: Review, orgs: Mapping[int, Organisation]) -> str:
    label = _REVIEW_PARTIES.get(party, party)
    organisation_id = {"sending": review.sending_organisation_id, "hosting": review.hosting_organisation_id}.get(party)
    return f"{label}: {_org_label(orgs, organisation_id)}" if organisation_id else label


def _review_section(review: Review, mobility: Mobility, orgs: Mapping[int, Organisation],
                    mou_code: str | None) -> Section:
    return Section("Mobility reviewed", _learner_fields(mobility, orgs) + _fields(
        ("Under the MoU", mou_code or (f"MoU {review.mou_id}" if review.mou_id else None)),
        ("Review", f"Review {review.id}: {review.status.replace('_', ' ')}")))


def _review_context(session: Session, review: Review) -> tuple[Mobility, dict[int, Organisation], str | None]:
    mobility = session.get(Mobility, review.mobility_id)
    assert mobility is not None
    orgs = _mobility_orgs(session, mobility)
    mou = session.get(Mou, review.mou_id) if review.mou_id is not None else None
    code = None
    if mou is not None and mou.current_version_id is not None:
        code = mous.current_version(mou).content.get("file_code") or mou.business_key
    return mobility, orgs, code


def _author(session: Session, user_id: int | None) -> tuple[str | None, str | None]:
    user = session.get(User, user_id) if user_id is not None else None
    return (user.name, user.email) if user is not None else (None, None)


def _build_evaluation(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    evaluation = reviews.get_evaluation(session, actor=actor, evaluation_id=record_id)
    review = reviews.get(session, actor=actor, review_id=evaluation.review_id)
    mobility, orgs, mou_code = _review_context(session, review)
    party = _review_party_label(evaluation.party, review, orgs)
    name, email = _author(session, evaluation.author_id)
    if evaluation.party == "learner":
        name = mobility.learner.name
    sections = [
        _review_section(review, mobility, orgs, mou_code),
        Section("Were the agreed learning outcomes appropriate?", _fields(
            ("Answer", evaluation.outcomes_appropriate), ("Why", evaluation.outcomes_comment))),
        Section("Was the documentation of the assessment sufficient evidence for recognition?", _fields(
            ("Answer", evaluation.evidence_sufficient), ("Why", evaluation.evidence_comment))),
        Section("What worked", text=text(evaluation.strengths)),
        Section("What should change", text=text(evaluation.changes_proposed)),
    ]
    if evaluation.unit_remarks:
        sections.append(Section("Remarks per unit", table=Table(
            ["Unit", "Remark"], [[text(r.get("unit")), text(r.get("remark"))] for r in evaluation.unit_remarks])))
    data = {**reviews.describe_evaluation(evaluation), "mobility_id": mobility.id,
            "learner": {"name": mobility.learner.name}}
    return Document(
        kind="evaluation", record_id=evaluation.id, title=KIND_TITLES["evaluation"],
        subtitle=" · ".join([party, mobility.learner.name, mobility.qualification_title]),
        reference=Reference(f"EV-{evaluation.id}", None, data_hash(data), "document"),
        issued_at=evaluation.created_at, sections=sections,
        signatures=[Signature(party=party, name=name, position=None, email=email, signed_at=evaluation.created_at,
                              mode="explicit", content_hash=None, counts=True)],
        data=data, status="handed in",
    )


def _build_action_plan(session: Session, actor: Actor, record_id: int, version: int | None) -> Document:
    action_plan = reviews.get_action_plan(session, actor=actor, action_plan_id=record_id)
    review = reviews.get(session, actor=actor, review_id=action_plan.review_id)
    mobility, orgs, mou_code = _review_context(session, review)
    described = reviews.describe_action_plan(session, action_plan)
    evaluations = reviews.evaluations_of(session, review)

    def owner(item: Mapping[str, Any]) -> str:
        who = _review_party_label(item["owner"], review, orgs)
        return f"{who} ({item['owner_name']})" if item.get("owner_name") else who

    items = described["items"]
    done = sum(1 for i in items if i["status"] == "done")
    sections = [
        _review_section(review, mobility, orgs, mou_code),
        Section("Evaluation sheets", table=Table(
            ["Party", "Learning outcomes appropriate", "Evidence sufficient", "Sheet"],
            [[_review_party_label(e.party, review, orgs), text(e.outcomes_appropriate), text(e.evidence_sufficient),
              f"EV-{e.id}"] for e in evaluations])),
        Section("Summary", text=text(action_plan.summary)),
        Section("Actions", _fields(("Done", f"{done} of {len(items)}")), table=Table(
            ["#", "Action", "Owner", "Due", "Status", "Note"],
            [[text(i["position"]), text(i["action"]), owner(i), text(i["due_date"]),
              text(_ACTION_STATUS.get(i["status"], i["status"])), text(i["status_note"])] for i in items])),
        Section("Revision of the MoU", _fields(
            ("Revision asked for", action_plan.revise_mou), ("What should change", action_plan.mou_changes),
            ("Version reviewed", review.mou_version_reviewed),
            ("Version that came of it", review.mou_version_revised))),
    ]
    name, email = _author(session, action_plan.created_by)
    data = {**described, "review_status": review.status, "mobility_id": mobility.id,
            "mou_id": review.mou_id, "mou_version_reviewed": review.mou_version_reviewed,
            "mou_version_revised": review.mou_version_revised,
            "evaluation_ids": [e.id for e in evaluations]}
    return Document(
        kind="action-plan", record_id=action_plan.id, title=KIND_TITLES["action-plan"],
        subtitle=" · ".join([mobility.learner.name, mobility.qualification_title,
                             f"{_org_label(orgs, review.sending_organisation_id)} – "
                             f"{_org_label(orgs, review.hosting_organisation_id)}"]),
        reference=Reference(f"AP-{action_plan.id}", None, data_hash(data), "document"),
        issued_at=action_plan.created_at, sections=sections,
        signatures=[Signature(party=_review_party_label("sending", review, orgs), name=name, position=None,
                              email=email, signed_at=action_plan.created_at, mode="explicit", content_hash=None,
                              counts=True)],
        data=data, status=review.status.replace("_", " "),
    )


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------

Builder = Callable[[Session, Actor, int, "int | None"], Document]

_BUILDERS: dict[str, Builder] = {
    "mou": _build_mou,
    "learning-agreement": _build_learning_agreement,
    "assessment-sheet": _build_assessment_sheet,
    "transcript": _build_transcript,
    "recognition-record": _build_recognition_record,
    "evaluation": _build_evaluation,
    "action-plan": _build_action_plan,
}

#: Kinds whose records carry versions (``?version=n``).
VERSIONED = frozenset({"mou", "learning-agreement"})


def build(session: Session, *, actor: Actor, kind: str, record_id: int, version: int | None = None) -> Document:
    """The document of one record, for whoever may read the record (anyone else: NotFound).

    ``version`` picks an earlier text of a versioned record (MoU, LA); the current one by default.
    An unknown kind, an unknown record and an invisible one all look the same (404)."""
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise NotFound(f"No document kind {kind!r}; kinds: {', '.join(KINDS)}")
    if version is not None and kind not in VERSIONED:
        raise NotFound(f"{KIND_TITLES[kind]} documents have no versions")
    return builder(session, actor, record_id, version)


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list | tuple) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def references_in(data: Mapping[str, Any]) -> list[DocumentRef]:
    """The documents a process's data refers to (by :data:`REFERENCE_KEYS`), in key order, once each.

    Titles are generic ("Learning Agreement 3"): this reads no records and checks no access."""
    found: list[DocumentRef] = []
    seen: set[tuple[str, int]] = set()
    for key, kind in REFERENCE_KEYS.items():
        for record_id in _ids(data.get(key)):
            if (kind, record_id) not in seen:
                seen.add((kind, record_id))
                found.append(DocumentRef(kind, record_id, f"{KIND_TITLES[kind]} {record_id}"))
    return found


def for_instance(session: Session, *, actor: Actor, instance_id: str) -> list[DocumentRef]:
    """The documents of a process instance that the caller may read, titled from their records.

    The instance itself is visible to its parties and admins only (NotFound otherwise); a document it
    refers to but the caller may not read (e.g. a transcript before it is released) is left out."""
    refs: list[DocumentRef] = []
    seen: set[tuple[str, int]] = set()
    for data in instances.process_data(session, actor=actor, instance_id=instance_id):
        for ref in references_in(data):
            if (ref.kind, ref.record_id) not in seen:
                seen.add((ref.kind, ref.record_id))
                refs.append(ref)
    order = {kind: i for i, kind in enumerate(KINDS)}
    visible: list[DocumentRef] = []
    for ref in sorted(refs, key=lambda r: (order[r.kind], r.record_id)):
        try:
            document = build(session, actor=actor, kind=ref.kind, record_id=ref.record_id)
        except NotFound:
            continue
        title = f"{document.title}: {document.subtitle}" if document.subtitle else document.title
        visible.append(DocumentRef(ref.kind, ref.record_id, title))
    return visible
