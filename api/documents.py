"""/api/documents: the records of a partnership or mobility as documents, in JSON or PDF, for their parties."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields, validate

from ecvet.documents import i18n, model, pdf, service
from engine.models import utcnow

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import schema_for

blp = Blueprint("documents", __name__, url_prefix="/api/documents",
                description="Documents for people: MoU, Learning Agreement, transcript... as JSON or PDF")

JSON = "application/json"
PDF = "application/pdf"


class DocumentArgs(Schema):
    format = fields.String(load_default=None, validate=validate.OneOf(["json", "pdf"]),
                           metadata={"description": "json (default) or pdf; without it, Accept decides"})
    version = Id(load_default=None,
                             metadata={"description": "an earlier version of a MoU or Learning Agreement"})
    lang = fields.String(load_default=None, validate=validate.Length(max=20),
                         metadata={"description": "the language of the fixed texts (en, de, es, nl, fr, it), "
                                                  "or two side by side, e.g. es,en; English by default"})


DocumentReferenceSchema = schema_for(model.ReferenceJson, "DocumentReferenceSchema")
DocumentTableSchema = schema_for(model.TableJson, "DocumentTableSchema")
DocumentSectionSchema = schema_for(model.SectionJson, "DocumentSectionSchema")
DocumentSignatureSchema = schema_for(model.SignatureJson, "DocumentSignatureSchema")
DocumentSchema = schema_for(model.DocumentJson, "DocumentSchema")


def _wants_pdf(requested: str | None) -> bool:
    if requested is not None:
        return requested == "pdf"
    best = request.accept_mimetypes.best_match([JSON, PDF], default=JSON)
    return best == PDF


def _filename(document: model.Document) -> str:
    version = f"-v{document.reference.version}" if document.reference.version else ""
    return f"{document.kind}-{document.record_id}{version}.pdf"


@blp.route("/<kind>/<id:record_id>", methods=["GET"])
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
    with authenticated() as (session, actor):  # writes the read down (audit trail, reads log)
        document = service.build(session, actor=actor, kind=kind, record_id=record_id, version=args["version"],
                                 languages=i18n.languages(args["lang"]))
        head = service.letterhead_of(session, document) if _wants_pdf(args["format"]) else None
    # Learners' personal data: never kept by shared caches.
    headers = {"Cache-Control": "private, no-store", "Vary": "Accept, Authorization"}
    if not _wants_pdf(args["format"]):
        return document.as_json(), headers
    response = Response(pdf.render(document, generated_at=utcnow(), letterhead=head), mimetype=PDF, headers=headers)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(document)}"'
    return response
