"""Attachments: files partners upload (Europass Certificate Supplements, VET system descriptions...).

* Only a few document types are accepted, recognised from the bytes themselves (the client's
  ``Content-Type`` and file name are not trusted): PDF, PNG, JPEG, OpenDocument text (ODT) and Word
  (DOCX). Anything else is refused with 415, anything larger than :func:`max_bytes` with 413.
* The bytes are stored once per SHA-256 (``attachment_blobs``); each upload is its own
  :class:`~ecvet.partnership.models.Attachment` row with the uploader and their organisation.
* An attachment is visible to the uploader, to the members of the uploader's organisation, to the
  parties of every partnership whose records refer to it (:func:`reference`), and to
  administrators. To anyone else it does not exist (404).
* Forms refer to attachments by id with the JSON Schema property
  ``{"type": "integer", "format": "attachment-id"}`` (or an array of them). Record actions check
  such ids with :func:`check_usable` (the id exists and the person completing the task may see it)
  before they store anything, then record the reference, which lets the partnership's parties read it.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.partnership import service
from ecvet.partnership.models import Attachment, AttachmentBlob, AttachmentReference, Partnership
from engine import audit
from engine.config import settings
from engine.errors import EngineError, Forbidden, Invalid, NotFound
from engine.models import Organisation
from engine.parties import Actor

FORMAT = "attachment-id"

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Accepted media types and a file name extension for each.
MEDIA_TYPES = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", ODT: ".odt", DOCX: ".docx"}

_MAX_ZIP_MEMBERS = 10_000
_MIMETYPE_MAX_BYTES = 100  # the "mimetype" member of an ODF package names a type, nothing more
_NAME_MAX = 255
_EXTENSION_MAX = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ContentTooLargeError(EngineError):
    """The upload is over the size limit (413)."""

    status = 413
    title = "Content too large"


class UnsupportedMediaTypeError(EngineError):
    """The upload is not one of the accepted document types (415)."""

    status = 415
    title = "Unsupported media type"


def max_bytes() -> int:
    """The size limit of one attachment (a setting: ``attachment_max_bytes``)."""
    return max(1, settings().attachment_max_bytes)


def _zip_type(content: bytes) -> str | None:
    """ODT or DOCX, recognised from the package's own parts; any other ZIP is not a document we take."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            if len(members) > _MAX_ZIP_MEMBERS:
                return None
            names = {m.filename for m in members}
            first = members[0] if members else None
            # ODF: the first member is an uncompressed "mimetype" file naming the type (ODF 1.2, 3.3).
            if first is not None and first.filename == "mimetype" and first.file_size <= _MIMETYPE_MAX_BYTES:
                if archive.read(first).strip() == ODT.encode():
                    return ODT
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError,
            NotImplementedError):
        return None
    return None


def sniff(content: bytes) -> str | None:
    """The media type the bytes really are, among :data:`MEDIA_TYPES`; None for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _zip_type(content)
    return None


def clean_filename(name: str | None, media_type: str) -> str:
    """A file name safe to store and to send back: no folders, no control characters, at most 255."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _CONTROL.sub("", base).strip().strip(".")
    if not base:
        base = "attachment" + MEDIA_TYPES[media_type]
    if len(base) > _NAME_MAX:
        stem, dot, ext = base.rpartition(".")
        keeps_extension = dot and len(ext) <= _EXTENSION_MAX
        base = (stem[: _NAME_MAX - len(ext) - 1] + dot + ext) if keeps_extension else base[:_NAME_MAX]
    return base


def _uploading_organisation(session: Session, actor: Actor, organisation_id: int | None) -> int | None:
    if organisation_id is not None:
        if session.get(Organisation, organisation_id) is None:
            raise Invalid("Unknown organisation", errors={"organisation_id": [f"No organisation {organisation_id}"]})
        if not (actor.is_admin or organisation_id in actor.organisation_ids):
            raise Forbidden("You upload only for an organisation you belong to")
        return organisation_id
    if len(actor.organisation_ids) == 1:
        return next(iter(actor.organisation_ids))
    if len(actor.organisation_ids) > 1:
        raise Invalid("You belong to several organisations: say for which one you upload",
                      errors={"organisation_id": [f"One of {sorted(actor.organisation_ids)}"]})
    return None


def upload(
    session: Session,
    *,
    actor: Actor,
    filename: str | None,
    content: bytes,
    organisation_id: int | None = None,
) -> Attachment:
    """Store an uploaded file after checking its size and recognising its type from its bytes."""
    limit = max_bytes()
    if len(content) > limit:
        raise ContentTooLargeError(f"The file is {len(content)} bytes; attachments may be at most {limit} bytes",
                              errors={"file": [f"At most {limit} bytes"]})
    if not content:
        raise Invalid("The file is empty", errors={"file": ["Empty"]})
    media_type = sniff(content)
    if media_type is None:
        raise UnsupportedMediaTypeError("Only PDF, PNG, JPEG, ODT and DOCX documents are accepted; the content of "
                                   "this file is none of them",
                                   errors={"file": [f"Accepted: {', '.join(sorted(MEDIA_TYPES))}"]})
    owner = _uploading_organisation(session, actor, organisation_id)
    digest = hashlib.sha256(content).hexdigest()
    if session.get(AttachmentBlob, digest) is None:
        session.add(AttachmentBlob(sha256=digest, content=content, size=len(content)))
        session.flush()
    attachment = Attachment(sha256=digest, filename=clean_filename(filename, media_type), media_type=media_type,
                            size=len(content), organisation_id=owner, uploaded_by=actor.user_id)
    session.add(attachment)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="attachment.uploaded", attachment_id=attachment.id,
                 sha256=digest, media_type=media_type, size=len(content), organisation_id=owner,
                 filename=attachment.filename)
    return attachment


def _referencing_partnerships(session: Session, attachment_id: int) -> list[Partnership]:
    return list(session.scalars(
        select(Partnership).join(AttachmentReference, AttachmentReference.partnership_id == Partnership.id)
        .where(AttachmentReference.attachment_id == attachment_id).distinct()
    ))


def can_see(session: Session, actor: Actor, attachment: Attachment) -> bool:
    if actor.is_admin or attachment.uploaded_by == actor.user_id:
        return True
    if attachment.organisation_id is not None and attachment.organisation_id in actor.organisation_ids:
        return True
    return any(service.is_party(session, actor, p) for p in _referencing_partnerships(session, attachment.id))


def get(session: Session, *, actor: Actor, attachment_id: int) -> Attachment:
    """Metadata of an attachment the caller may see; 404 otherwise."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not can_see(session, actor, attachment):
        raise NotFound(f"No attachment {attachment_id}")
    return attachment


def content(session: Session, *, actor: Actor, attachment_id: int) -> tuple[Attachment, bytes]:
    """The attachment and its bytes, for a download."""
    attachment = get(session, actor=actor, attachment_id=attachment_id)
    blob = session.get(AttachmentBlob, attachment.sha256)
    assert blob is not None, "an attachment always has its blob"
    return attachment, bytes(blob.content)


def check_usable(session: Session, *, actor: Actor, ids: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
    """Errors per form path for attachment ids that do not exist or that the actor may not see
    (both read the same, so a form cannot be used to probe for other organisations' files)."""
    errors: dict[str, list[str]] = {}
    for path, value in ids:
        if isinstance(value, bool) or not isinstance(value, int):
            errors[path] = ["An attachment id (upload the file first: POST /api/attachments)"]
            continue
        attachment = session.get(Attachment, value)
        if attachment is None or not can_see(session, actor, attachment):
            errors[path] = [f"No attachment {value}"]
    return errors


def reference(
    session: Session, *, attachment_ids: Iterable[int], partnership: Partnership, record_type: str, record_id: int
) -> None:
    """Record that a partnership record refers to these attachments (its parties may now read them)."""
    for attachment_id in dict.fromkeys(attachment_ids):
        session.add(AttachmentReference(attachment_id=attachment_id, partnership_id=partnership.id,
                                        record_type=record_type, record_id=record_id))
    session.flush()


def ids_in(value: Any, schema: dict[str, Any], path: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every ``format: attachment-id`` field of `schema` found in `value`.

    Lets a record action find the attachment ids of any form without knowing its layout."""
    found: list[tuple[str, Any]] = []
    if not isinstance(schema, dict):
        return found
    if schema.get("format") == FORMAT:
        if value is not None:
            found.append((path, value))
        return found
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                found += ids_in(value[name], sub, f"{path}.{name}" if path else name)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += ids_in(item, schema["items"], f"{path}.{i}" if path else str(i))
    return found
