"""The documents of a record and of a process instance: :func:`build` dispatches to one builder per
document kind, with the same visibility as the record's own service (anyone else gets NotFound);
:func:`for_instance` lists the documents an instance's process data refers to."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ecvet.documents import (
    assessment,
    certificate,
    europass,
    i18n,
    learning_agreement,
    mou,
    pdf,
    recognition,
    review,
    transcript,
)
from ecvet.documents.model import KIND_TITLES, KINDS, Document, DocumentRef
from ecvet.partnership import letterhead
from ecvet.subject_access import reads
from engine import instances
from engine.errors import NotFound
from engine.models import Organisation
from engine.parties import Actor

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
    "certificate_learner_id": "certificate",
    "partnership_review_id": "partnership-review",
}

# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------

class Builder(Protocol):
    """Builds the document of one record (the current version of a versioned one)."""

    def __call__(self, session: Session, actor: Actor, record_id: int, /) -> Document: ...


class VersionedBuilder(Protocol):
    """Builds the document of one version of a record (``None``: the current one)."""

    def __call__(self, session: Session, actor: Actor, record_id: int, version: int | None = None, /) -> Document: ...

#: Kinds whose records carry versions (``?version=n``), and their builders.
VERSIONED: dict[str, VersionedBuilder] = {
    "mou": mou.build,
    "learning-agreement": learning_agreement.build,
}

#: One builder per document kind (a versioned one builds the current version).
BUILDERS: dict[str, Builder] = {
    **VERSIONED,
    "assessment-sheet": assessment.build,
    "transcript": transcript.build,
    "recognition-record": recognition.build,
    "evaluation": review.build_evaluation,
    "action-plan": review.build_action_plan,
    "certificate": certificate.build,
    "europass-mobility": europass.build,
    "partnership-review": review.build_partnership_review,
}


def build(session: Session, *, actor: Actor, kind: str, record_id: int, version: int | None = None,
          languages: Sequence[str] = (i18n.SOURCE,)) -> Document:
    """The document of one record, for whoever may read the record (anyone else: NotFound).

    ``version`` picks an earlier text of a versioned record (MoU, LA); the current one by default.
    ``languages``: its fixed texts in one language or two side by side (:func:`ecvet.documents.i18n.languages`).
    An unknown kind, an unknown record and an invisible one all look the same (404). Every document built
    here is shown to `actor`, so the read is audited and in the learner's reads log (issue 16)."""
    document = _build(session, actor=actor, kind=kind, record_id=record_id, version=version, languages=languages)
    reads.record_document_read(session, actor=actor, kind=kind, record_id=record_id)
    return document


def _build(session: Session, *, actor: Actor, kind: str, record_id: int, version: int | None = None,
           languages: Sequence[str] = (i18n.SOURCE,)) -> Document:
    """:func:`build` without writing the read down: for the titles of a list, which shows no content."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise NotFound(f"No document kind {kind!r}; kinds: {', '.join(KINDS)}")
    if version is None:
        return i18n.localise(builder(session, actor, record_id), languages)
    versioned = VERSIONED.get(kind)
    if versioned is None:
        raise NotFound(f"{KIND_TITLES[kind]} documents have no versions")
    return i18n.localise(versioned(session, actor, record_id, version), languages)


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
            document = _build(session, actor=actor, kind=ref.kind, record_id=ref.record_id)
        except NotFound:
            continue
        title = f"{document.title}: {document.subtitle}" if document.subtitle else document.title
        visible.append(DocumentRef(ref.kind, ref.record_id, title))
    return visible



def letterhead_of(session: Session, document: Document) -> pdf.Letterhead | None:
    """The letterhead of the organisation that issues `document` (its name, and the address and logo it
    saved, if any); None for a document no single organisation issues."""
    if document.issuer_organisation_id is None:
        return None
    organisation = session.get(Organisation, document.issuer_organisation_id)
    if organisation is None:
        return None
    saved = letterhead.current(session, organisation.id)
    if saved is None:
        return pdf.Letterhead(organisation.name)
    size = (saved.logo_width, saved.logo_height) if saved.logo_width and saved.logo_height else None
    return pdf.Letterhead(organisation.name, saved.address, saved.logo_png, size)
