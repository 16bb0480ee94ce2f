"""Documents for people: the records of a partnership or mobility as one printable, exportable structure.

:func:`ecvet.documents.service.build` turns a record (MoU, Learning Agreement, assessment sheet, ...)
into a :class:`Document`, with the same visibility as the record's own service (its ``get`` decides;
anyone else gets :class:`~engine.errors.NotFound`). Renderers consume that structure and nothing else: the PDF
(:mod:`ecvet.documents.pdf`), the web pages (HTML) and the JSON export (:meth:`Document.as_json`).

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

:func:`ecvet.documents.service.references_in` finds the document references a process keeps in its
data (the ids the records' task actions return, see :data:`ecvet.documents.service.REFERENCE_KEYS`);
:func:`ecvet.documents.service.for_instance` lists those an instance holds and the caller may read.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, TypedDict

from ecvet.evidence import content_hash

SCHEMA_PREFIX = "ecvet-flow/document/"

#: Every document kind, in the order of the mobility lifecycle.
KINDS = (
    "mou", "learning-agreement", "assessment-sheet", "transcript", "recognition-record", "evaluation",
    "action-plan", "certificate", "europass-mobility", "partnership-review",
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
    "certificate": "Certificate of learning achievements",
    "europass-mobility": "Europass Mobility",
    "partnership-review": "Review of the partnership",
}

#: Keys of process data that hold record ids (as the records' task actions return them), and the
#: document kind each refers to. A key ending in ``_ids`` holds a list. The one place this mapping lives.
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
    #: The languages its fixed texts are in (:mod:`ecvet.documents.i18n`), two for a bilingual document.
    languages: tuple[str, ...] = ("en",)
    #: The organisation that issues it: its letterhead heads the PDF (None: no letterhead).
    issuer_organisation_id: int | None = None

    @property
    def schema(self) -> str:
        return f"{SCHEMA_PREFIX}{self.kind}/v1"

    @property
    def content_hash(self) -> str:
        return self.reference.content_hash

    def as_json(self) -> DocumentJson:
        """The document as JSON types, stable for the same records: no generation time, ISO 8601 times."""
        return {
            "schema": self.schema,
            "kind": self.kind,
            "languages": list(self.languages),
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


class ReferenceJson(TypedDict):
    code: Annotated[str | None, "e.g. the MoU file code"]
    version: int | None
    content_hash: Annotated[str, "SHA-256 the document was generated from"]
    hash_basis: Annotated[str, "record: the hash parties sign; document: of `data`"]


class TableJson(TypedDict):
    columns: list[str]
    rows: list[list[str]]


class SectionJson(TypedDict):
    heading: str
    fields: Annotated[list[list[str]], "[label, value] pairs"]
    table: TableJson | None
    text: str | None


class SignatureJson(TypedDict):
    party: str
    name: str | None
    position: str | None
    email: str | None
    place: Annotated[str | None, "where the signer signed"]
    signed_at: Annotated[str | None, "ISO 8601, UTC"]
    mode: Annotated[str, "explicit | implicit (no objection within the period)"]
    content_hash: Annotated[str | None, "the hash of the text signed"]
    counts: Annotated[bool, "given for exactly this version and hash"]
    version: int | None


class DocumentJson(TypedDict):
    """A document as exported (:meth:`Document.as_json`): the one description of the API's answer too."""

    schema: Annotated[str, "ecvet-flow/document/<kind>/v1"]
    kind: str
    languages: Annotated[list[str], "the languages of the fixed texts"]
    record_id: int
    title: str
    subtitle: str | None
    status: str | None
    reference: ReferenceJson
    content_hash: str
    issued_at: str | None
    sections: list[SectionJson]
    signatures: list[SignatureJson]
    data: Annotated[dict[str, Any], "the record's own structured data"]


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
    return content_hash(jsonable(data))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def text(value: Any) -> str:
    """A value as a person reads it in a field or cell: nothing is a dash, lists and mappings joined."""
    if value is None or value in ("", [], {}):
        return EMPTY
    if isinstance(value, list | tuple):
        return "; ".join(text(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
    return _scalar_text(value)
