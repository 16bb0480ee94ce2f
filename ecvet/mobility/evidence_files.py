"""Evidence files: photos, work samples or tests attached to one learning outcome of a unit during a mobility.

The bytes are stored like every attachment (:mod:`ecvet.partnership.attachments`: the type recognised
from the content, PDF, PNG, JPEG, ODT or DOCX only (415), at most ``ECVET_ATTACHMENT_MAX_BYTES`` (413),
once per SHA-256); an :class:`~ecvet.mobility.models.EvidenceFile` ties one to the mobility, the unit
and the learning outcome of the Learning Agreement in force. The assessment sheet prints each file
with its SHA-256, so the sheet says exactly which bytes the assessment rests on.

Who adds one: a member of the hosting organisation (the assessors) or the learner (their portfolio),
while the mobility is live and until the transcript is issued. Who reads one: whoever may read the
assessment sheets (:func:`ecvet.mobility.assessment.readable`): the host side, the learner, and the
home side once the transcript is ready for recognition. To anyone else the file does not exist (404),
and every download is audited.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility import assessment, learning_agreement, service
from ecvet.mobility.models import EvidenceFile, Mobility, MobilityStatus, PersonalTranscript
from ecvet.partnership import attachments
from ecvet.partnership.models import Attachment, AttachmentBlob
from ecvet.subject_access import reads
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.parties import Actor

_DESCRIPTION_MAX = 2_000


class EvidenceFileView(TypedDict):
    id: int
    mobility_id: int
    unit: str
    learning_outcome: Annotated[str, "the learning outcome of the unit (its text in the Learning Agreement)"]
    description: str | None
    filename: str
    media_type: Annotated[str, "recognised from the content, not from the upload"]
    size: Annotated[int, "bytes"]
    sha256: Annotated[str, "SHA-256 of the file: the assessment sheet prints it"]
    uploaded_by: int | None
    uploaded_at: datetime


def view(row: EvidenceFile, attachment: Attachment) -> EvidenceFileView:
    return {"id": row.id, "mobility_id": row.mobility_id, "unit": row.unit_code,
            "learning_outcome": row.learning_outcome, "description": row.description,
            "filename": attachment.filename, "media_type": attachment.media_type, "size": attachment.size,
            "sha256": attachment.sha256, "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at}


def _outcome_text(outcome: Any) -> str:
    return str(outcome.get("text") or "") if isinstance(outcome, dict) else str(outcome)


def _checked_target(session: Session, mobility: Mobility, unit: Any, learning_outcome: Any,
                    description: Any) -> tuple[str, str, str | None]:
    la = service.current_agreement(session, mobility)
    if la is None or not learning_agreement.in_force(session, la):
        raise Conflict("The Learning Agreement is not in force: evidence is attached to the units every party signed")
    units = {u["code"]: u for u in learning_agreement.current_version(session, la).content.get("units") or []}
    errors: dict[str, list[str]] = {}
    outcomes: list[str] = []
    if not isinstance(unit, str) or unit not in units:
        errors["unit"] = [f"A unit of the Learning Agreement in force: {sorted(units)}"]
    else:
        outcomes = [_outcome_text(o) for o in units[unit].get("learning_outcomes") or []]
        if learning_outcome not in outcomes:
            errors["learning_outcome"] = ["One of the unit's learning outcomes, as the Learning Agreement writes it"]
    if description is not None and (not isinstance(description, str) or len(description) > _DESCRIPTION_MAX):
        errors["description"] = [f"A text of at most {_DESCRIPTION_MAX} characters"]
    if errors:
        raise Invalid("The evidence is not attached to a learning outcome of the Learning Agreement", errors=errors)
    text = description.strip() if isinstance(description, str) else ""
    return str(unit), str(learning_outcome), text or None


def upload(
    session: Session, *, actor: Actor, mobility_id: int, unit: Any, learning_outcome: Any, filename: str | None,
    content: bytes, description: Any = None,
) -> tuple[EvidenceFile, Attachment]:
    """A member of the host or the learner attaches a file to a learning outcome of a unit. 404 for
    anyone outside the mobility, 403 for a party other than the host and the learner, 409 outside a live
    mobility or once the transcript is issued, 413/415 for a file too large or of another type, 422
    for a unit or outcome not in the Learning Agreement in force."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    host = service.is_host(actor, mobility)
    if not (host or service.is_learner(actor, mobility)):
        raise Forbidden("Evidence is attached by the hosting organisation's assessors or by the learner")
    mobility = service.locked(session, mobility.id)
    if mobility.status != MobilityStatus.LIVE:
        raise Conflict(f"The mobility is {mobility.status}: evidence is attached while it is live")
    if session.scalar(select(PersonalTranscript.id).where(PersonalTranscript.mobility_id == mobility.id)):
        raise Conflict("The transcript is issued: the assessment and its evidence are final")
    code, outcome, text = _checked_target(session, mobility, unit, learning_outcome, description)
    stored = attachments.upload(session, actor=actor, filename=filename, content=content,
                                organisation_id=mobility.hosting_organisation_id if host else None)
    row = EvidenceFile(mobility_id=mobility.id, attachment_id=stored.id, unit_code=code, learning_outcome=outcome,
                       description=text, uploaded_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="evidence_file.added", mobility_id=mobility.id,
                 evidence_file_id=row.id, attachment_id=stored.id, sha256=stored.sha256, unit=code)
    return row, stored


def from_assessment_form(session: Session, *, actor: Actor, mobility_id: int, assessments: Any) -> list[EvidenceFile]:
    """The files a task page uploaded into the assessment form (``assessments[].outcomes[].evidence_files``:
    attachment ids), attached to their learning outcomes. An id the person cannot see reads like one that
    does not exist (422), so the form cannot be used to claim another organisation's file."""
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    found: list[tuple[str, str, str, Any]] = []
    for i, entry in enumerate(assessments if isinstance(assessments, list) else []):
        outcomes = entry.get("outcomes") if isinstance(entry, dict) else None
        for j, outcome in enumerate(outcomes if isinstance(outcomes, list) else []):
            ids = outcome.get("evidence_files") if isinstance(outcome, dict) else None
            for k, value in enumerate(ids if isinstance(ids, list) else []):
                found.append((f"assessments.{i}.outcomes.{j}.evidence_files.{k}", entry.get("unit"),
                              outcome.get("learning_outcome"), value))
    errors = attachments.check_usable(session, actor=actor, ids=[(path, value) for path, _, _, value in found])
    if errors:
        raise Invalid("An evidence file is not one you uploaded", errors=errors)
    rows = []
    for _, unit, outcome, attachment_id in found:
        code, text, _ = _checked_target(session, mobility, unit, outcome, None)
        rows.append(EvidenceFile(mobility_id=mobility.id, attachment_id=attachment_id, unit_code=code,
                                 learning_outcome=text, uploaded_by=actor.user_id))
    session.add_all(rows)
    session.flush()
    if rows:
        audit.record(session, actor_id=actor.user_id, action="evidence_file.added", mobility_id=mobility.id,
                     evidence_file_ids=[r.id for r in rows], attachment_ids=[r.attachment_id for r in rows])
    return rows


def _readable_mobility(session: Session, actor: Actor, mobility_id: int) -> Mobility:
    mobility = service.get(session, actor=actor, mobility_id=mobility_id)
    if not assessment.readable(session, actor, mobility):
        raise NotFound(f"No evidence of mobility {mobility_id} you can read yet")
    return mobility


def of_mobility(session: Session, mobility: Mobility) -> list[tuple[EvidenceFile, Attachment]]:
    """Every evidence file of the mobility with its attachment, in the order they were added (no check)."""
    rows = session.execute(select(EvidenceFile, Attachment)
                           .join(Attachment, Attachment.id == EvidenceFile.attachment_id)
                           .where(EvidenceFile.mobility_id == mobility.id).order_by(EvidenceFile.id))
    return [(e, a) for e, a in rows]


def list_for(session: Session, *, actor: Actor, mobility_id: int) -> list[EvidenceFileView]:
    """The mobility's evidence files, for whoever may read its assessment sheets (404 for anyone else)."""
    mobility = _readable_mobility(session, actor, mobility_id)
    return [view(e, a) for e, a in of_mobility(session, mobility)]


def content(session: Session, *, actor: Actor, mobility_id: int, file_id: int) -> tuple[Attachment, bytes]:
    """The file and its bytes, for a download (audited); 404 unless it is evidence of this mobility and
    the caller may read the mobility's assessment."""
    mobility = _readable_mobility(session, actor, mobility_id)
    row = session.get(EvidenceFile, file_id)
    if row is None or row.mobility_id != mobility.id:
        raise NotFound(f"No evidence file {file_id} of mobility {mobility_id}")
    attachment = session.get(Attachment, row.attachment_id)
    assert attachment is not None, "evidence always has its attachment"
    blob = session.get(AttachmentBlob, attachment.sha256)
    assert blob is not None, "an attachment always has its blob"
    audit.record(session, actor_id=actor.user_id, action="evidence_file.downloaded", mobility_id=mobility.id,
                 evidence_file_id=row.id, sha256=attachment.sha256)
    reads.log_read(session, actor=actor, learner_id=mobility.learner_id, what="evidence-file", record_id=row.id)
    return attachment, bytes(blob.content)
