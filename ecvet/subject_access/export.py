"""Everything held about a learner, as JSON and as a readable PDF (GDPR art. 15 and 20: access and portability).

The rows come from the holdings catalogue (:mod:`ecvet.privacy.holdings`: for every table, how its rows about a
learner are found), so a table added to the schema is exported once it is in the catalogue, and the catalogue's
own test fails until it is. Values are made JSON-safe; bytes are never exported, only their size and SHA-256
(the files are listed with a link to download them); secrets (password and token hashes, private keys) never.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.documents.i18n import LANGUAGES, SOURCE, localise, say
from ecvet.documents.model import Document, Reference, Section, Table, text
from ecvet.evidence import content_hash
from ecvet.mobility.models import EvidenceFile, Learner, Mobility
from ecvet.partnership.models import Attachment
from engine import audit, clock
from engine.errors import NotFound
from engine.models import User
from engine.parties import Actor

from . import holdings_rows
from .labels import label
from .reads import acts_for, all_reads, record_read

SCHEMA = "ecvet-flow/learner-export/v1"

#: Columns never exported, whatever table holds them: they prove nothing to the learner and would let
#: whoever holds the file act as someone.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "secret", "private_key", "private_key_encrypted",
                            "encrypted_private_key", "key_hash"})

#: The PDF's parts, in reading order: the tables each shows (the rest go under "Other records").
PDF_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Learner", ("learners",)),
    ("Mobilities", ("mobilities", "mobility_periods", "mobility_status_changes")),
    ("Learning Agreements", ("learning_agreements", "la_versions")),
    ("Assessments", ("assessment_records", "assessment_acknowledgements", "evidence_files")),
    ("Transcripts", ("personal_transcripts",)),
    ("Recognitions", ("validation_decisions", "recognition_decisions", "credit_awards", "practical_implications",
                      "qualification_awards", "europass_mobilities")),
    ("Signatures", ("la_signatures", "assessment_signatures", "europass_signatures")),
    ("Accounts", ("users", "memberships", "api_tokens")),
)


def may_export(session: Session, actor: Actor, learner: Learner) -> bool:
    """The learner, their guardian while a minor, a member of the sending organisation of one of the learner's
    mobilities (on the learner's request: the organisation answers it), and admins."""
    if actor.is_admin or acts_for(actor, learner):
        return True
    sending = set(session.scalars(select(Mobility.sending_organisation_id).where(Mobility.learner_id == learner.id)))
    return bool(sending & actor.organisation_ids)


def jsonable(value: Any) -> Any:
    """A column value as JSON types: times in ISO 8601, bytes as their size and SHA-256 (never the bytes)."""
    out: Any
    if value is None or isinstance(value, str | int | float | bool):
        out = value
    elif isinstance(value, datetime | date):
        out = value.isoformat()
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        out = {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    elif isinstance(value, Mapping):
        out = {str(k): jsonable(v) for k, v in value.items()}
    elif isinstance(value, list | tuple | set | frozenset):
        out = [jsonable(v) for v in value]
    else:  # Decimal, UUID...
        out = str(value)
    return out


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in values.items() if k not in SECRET_COLUMNS}


def _files(session: Session, learner_id: int) -> list[dict[str, Any]]:
    """The learner's evidence files: name, size, SHA-256 and where to download the bytes."""
    rows = session.execute(
        select(EvidenceFile, Attachment).join(Attachment, Attachment.id == EvidenceFile.attachment_id)
        .join(Mobility, Mobility.id == EvidenceFile.mobility_id).where(Mobility.learner_id == learner_id)
        .order_by(EvidenceFile.id))
    return [{"table": "evidence_files", "id": f.id, "name": a.filename, "media_type": a.media_type, "size": a.size,
             "sha256": a.sha256, "url": f"/api/mobilities/{f.mobility_id}/evidence-files/{f.id}/content"}
            for f, a in rows]


def collect(session: Session, *, actor: Actor, learner_id: int) -> dict[str, Any]:
    """Everything held about the learner as JSON types, for who may export it (404 for anyone else); the
    export is audited (``learner.exported``) and is itself a read in the learner's reads log."""
    learner = session.get(Learner, learner_id)
    if learner is None or not may_export(session, actor, learner):
        raise NotFound(f"No learner {learner_id}")
    record_read(session, actor=actor, learner_id=learner.id, what="export", record_id=learner.id)
    tables = {held.table: {"heading": held.heading, "purpose": held.purpose, "kind": held.kind,
                           "rows": [_row(r) for r in held.rows]}
              for held in holdings_rows.about(session, learner.id)}
    reads = [{"at": r.at.isoformat(), "reader": r.reader_name, "reader_email": r.reader_email,
              "organisation_id": r.organisation_id, "organisation": r.organisation_name, "what": r.what,
              "record_id": r.record_id, "by_learner": r.by_learner} for r in all_reads(session, learner)]
    files = _files(session, learner.id)
    audit.record(session, actor_id=actor.user_id, action="learner.exported", learner_id=learner.id,
                 tables=sorted(t for t, held in tables.items() if held["rows"]), files=len(files))
    return {"schema": SCHEMA, "learner_id": learner.id, "name": learner.name,
            "generated_at": clock.now().isoformat(), "tables": tables, "files": files, "reads": reads}


# --------------------------------------------------------------------------------------------------
# The readable PDF: the same export as a document
# --------------------------------------------------------------------------------------------------


#: A printed value longer than this is cut (the JSON export holds it whole); a word longer than
#: :data:`WORD_MAX` is split so a column of the page can hold it (hashes, links, JSON without spaces).
VALUE_MAX = 1200
WORD_MAX = 32
#: Said after a value cut at :data:`VALUE_MAX` (a msgid of the documents' catalogue).
CUT = "… (cut here: the JSON export holds it whole)"
#: The PDF's fixed texts besides the parts' headings and the field labels (msgids of the documents' catalogue).
TITLE = "Everything held about the learner"
NONE_HELD = "None held."
NOBODY_READ = "Nobody has read the data yet."


def readable(value: Any, langs: Sequence[str] = (SOURCE,)) -> str:
    """A value as the PDF prints it: as a document field, long words split, long texts cut (said in `langs`)."""
    said = text(value)
    if len(said) > VALUE_MAX:
        said = f"{said[:VALUE_MAX]} {say(CUT, langs)}"
    return " ".join(" ".join(word[i:i + WORD_MAX] for i in range(0, len(word), WORD_MAX)) or word
                    for word in said.split(" "))


def _record_section(heading: str, row: Mapping[str, Any], langs: Sequence[str]) -> Section:
    """A record with a field per column, labelled in words (:mod:`.labels`; ``localise`` says them in `langs`)."""
    return Section(heading, [(label(column), readable(value, langs)) for column, value in row.items()])


#: A working record outside the named parts is printed as one line of at most this many characters.
SUMMARY_MAX = 300


def _summary(row: Mapping[str, Any], langs: Sequence[str]) -> str:
    """A working record in one line: its short values (long texts and JSON are in the JSON export)."""
    said = "; ".join(f"{say(label(k), langs)}: {text(v)}" for k, v in row.items()
                     if k != "id" and v not in (None, "", [], {}) and not isinstance(v, dict | list))
    return readable(said[:SUMMARY_MAX] + (" …" if len(said) > SUMMARY_MAX else ""), langs)


def as_document(held: Mapping[str, Any], langs: Sequence[str] = (SOURCE,)) -> Document:
    """The export as a :class:`~ecvet.documents.model.Document` (for the PDF renderer) in the languages
    `langs` (:func:`ecvet.documents.i18n.languages`; localised with :func:`~ecvet.documents.i18n.localise`):
    a part per kind of record (learner, mobilities, agreements, assessments, transcripts, recognitions,
    signatures, accounts), each record with all its fields; then every other table (working data: processes,
    tasks, mails, the audit trail) a line per record; the files and who read the data."""
    tables: Mapping[str, Mapping[str, Any]] = held["tables"]
    sections: list[Section] = []
    named = {t for _h, names in PDF_PARTS for t in names}
    none_held = say(NONE_HELD, langs)
    for part, names in PDF_PARTS:
        rows = [(name, row) for name in names if name in tables for row in tables[name]["rows"]]
        sections.append(Section(part, text=None if rows else none_held))
        sections.extend(_record_section(f"{say(tables[name]['heading'], langs)} {row.get('id', '')}".strip(), row,
                                        langs) for name, row in rows)
    others = [t for t in sorted(tables) if t not in named and tables[t]["rows"]]
    sections.append(Section("Other records", text=None if others else none_held))
    sections.extend(Section(tables[t]["heading"], text=readable(tables[t]["purpose"], langs), table=Table(
        ["Record", "Held"], [[text(r.get("id", "")), _summary(r, langs)] for r in tables[t]["rows"]]))
        for t in others)
    files = held["files"]
    sections.append(Section("Files", table=Table(["Name", "Size (bytes)", "SHA-256", "Link"], [
        [readable(f["name"], langs), str(f["size"]), readable(f["sha256"], langs), readable(f["url"], langs)]
        for f in files]) if files else None, text=None if files else none_held))
    reads = held["reads"]
    sections.append(Section("Who read the data", table=Table(["When", "Who", "Organisation", "What", "Record"], [
        [readable(r["at"], langs), readable(r["reader"], langs), readable(r["organisation"], langs), r["what"],
         text(r["record_id"])] for r in reads])
        if reads else None, text=None if reads else say(NOBODY_READ, langs)))
    document = Document(kind="learner-export", record_id=held["learner_id"], title=TITLE, subtitle=held["name"],
                        reference=Reference(None, None, content_hash(held), "document"),
                        issued_at=datetime.fromisoformat(held["generated_at"]), sections=sections, signatures=[],
                        data={}, status=None)
    return localise(document, langs)


def reader_languages(session: Session, actor: Actor) -> tuple[str, ...]:
    """The language the signed-in person chose on their profile (``users.language``), else English."""
    user = session.get(User, actor.user_id)
    chosen = user.language if user is not None else None
    return (chosen,) if chosen in LANGUAGES else (SOURCE,)
