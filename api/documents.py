"""/api/documents: the records of a partnership or mobility as documents, in JSON or PDF, for their parties."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields, validate

from ecvet.documents import i18n, model, pdf, service
from engine.models import utcnow

from .deps import authenticated
from .parsing import Blueprint, Id

blp = Blueprint("documents", __name__, url_prefix="/api",
                description="Documents for people: MoU, Learning Agreement, transcript... as JSON or PDF")

JSON = "application/json"
PDF = "application/pdf"


class DocumentArgs(Schema):
    format = fields.String(load_default=None, validate=validate.OneOf(["json", "pdf"]),
                           metadata={"description": "json (default) or pdf; without it, Accept decides"})
    version = Id(load_default=None,
                             metadata={"description": "an earlier version of a MoU or Learning Agreement"})
    lang = fields.String(load_default=None, validate=validate.Length(max=20),
                         metadata={"description": "the language of the fixed texts (en, de, es, nl), or two side "
                                                  "by side, e.g. es,en; English by default"})


class DocumentReferenceSchema(Schema):
    code = fields.String(allow_none=True, metadata={"description": "e.g. the MoU file code"})
    version = fields.Integer(allow_none=True)
    content_hash = fields.String(metadata={"description": "SHA-256 the document was generated from"})
    hash_basis = fields.String(metadata={"description": "record: the hash parties sign; document: of `data`"})


class DocumentTableSchema(Schema):
    columns = fields.List(fields.String())
    rows = fields.List(fields.List(fields.String()))


class DocumentSectionSchema(Schema):
    heading = fields.String()
    fields_ = fields.List(fields.List(fields.String()), attribute="fields", data_key="fields",
                          metadata={"description": "[label, value] pairs"})
    table = fields.Nested(DocumentTableSchema, allow_none=True)
    text = fields.String(allow_none=True)


class DocumentSignatureSchema(Schema):
    party = fields.String()
    name = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    place = fields.String(allow_none=True, metadata={"description": "where the signer signed"})
    signed_at = fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC"})
    mode = fields.String(metadata={"description": "explicit | implicit (no objection within the period)"})
    content_hash = fields.String(allow_none=True, metadata={"description": "the hash of the text signed"})
    counts = fields.Boolean(metadata={"description": "given for exactly this version and hash"})
    version = fields.Integer(allow_none=True)


class DocumentSchema(Schema):
    schema = fields.String(metadata={"description": "ecvet-flow/document/<kind>/v1"})
    kind = fields.String()
    languages = fields.List(fields.String(), metadata={"description": "the languages of the fixed texts"})
    record_id = fields.Integer()
    title = fields.String()
    subtitle = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    reference = fields.Nested(DocumentReferenceSchema)
    content_hash = fields.String()
    issued_at = fields.String(allow_none=True)
    sections = fields.List(fields.Nested(DocumentSectionSchema))
    signatures = fields.List(fields.Nested(DocumentSignatureSchema))
    data = fields.Dict(metadata={"description": "the record's own structured data"})


class DocumentRefSchema(Schema):
    kind = fields.String()
    record_id = fields.Integer()
    title = fields.String()
    href = fields.String(metadata={"description": "where to get it (add ?format=pdf for the PDF)"})


class DocumentRefList(Schema):
    items = fields.List(fields.Nested(DocumentRefSchema))


def _wants_pdf(requested: str | None) -> bool:
    if requested is not None:
        return requested == "pdf"
    best = request.accept_mimetypes.best_match([JSON, PDF], default=JSON)
    return best == PDF


def _filename(document: model.Document) -> str:
    version = f"-v{document.reference.version}" if document.reference.version else ""
    return f"{document.kind}-{document.record_id}{version}.pdf"


@blp.route("/documents/<kind>/<id:record_id>", methods=["GET"])
@blp.arguments(DocumentArgs, location="query")
@blp.response(200, DocumentSchema)
@blp.doc(responses={"200": {"description": "The document as JSON, or as PDF (format=pdf)", "content": {
    JSON: {"schema": {"$ref": "#/components/schemas/Document"}},
    PDF: {"schema": {"type": "string", "format": "binary"}},
}}})
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def get_document(args: dict[str, Any], kind: str, record_id: int) -> Any:
    """A record as a document: JSON by default, PDF with `?format=pdf` or `Accept: application/pdf`.

    Kinds: mou, learning-agreement, assessment-sheet, transcript, recognition-record, evaluation,
    action-plan. Readable by the parties of the partnership or mobility and by admins; to anyone else,
    and for an unknown kind, 404. `?version=n` for MoUs and Learning Agreements (422 if malformed).
    `?lang=de` writes the template's fixed texts in German, `?lang=es,en` in Spanish and English side by
    side (422 for another language); what people typed stays as typed."""
    with authenticated(write=False) as (session, actor):
        document = service.build(session, actor=actor, kind=kind, record_id=record_id, version=args["version"],
                                 languages=i18n.languages(args["lang"]))
    # Learners' personal data: never kept by shared caches.
    headers = {"Cache-Control": "private, no-store", "Vary": "Accept, Authorization"}
    if not _wants_pdf(args["format"]):
        return document.as_json(), headers
    response = Response(pdf.render(document, generated_at=utcnow()), mimetype=PDF, headers=headers)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(document)}"'
    return response


@blp.route("/process-instances/<instance_id>/documents", methods=["GET"])
@blp.response(200, DocumentRefList)
@blp.alt_response(404, response="NOT_FOUND")
def instance_documents(instance_id: str) -> Any:
    """The documents a process instance refers to (MoU, Learning Agreement, ...) that you may read."""
    with authenticated(write=False) as (session, actor):
        refs = service.for_instance(session, actor=actor, instance_id=instance_id)
    return {"items": [{"kind": r.kind, "record_id": r.record_id, "title": r.title,
                       "href": f"/api/documents/{r.kind}/{r.record_id}"} for r in refs]}
