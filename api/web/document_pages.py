"""Documents of the instances a participant is party of: readable HTML, PDF and JSON downloads.

The documents come from ``ecvet.documents`` (the same structure the API exports and the PDF
renders), with the visibility of each record's own service: a document that is not yours is 404.
"""
from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for

from ecvet.documents import i18n, model, pdf, service
from ecvet.mobility import assessment, evidence_files, seal
from ecvet.mobility.models import AssessmentRecord
from engine import instances
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ProcessInstance, utcnow

from . import messages
from .auth import page_session
from .messages import t

bp = Blueprint("web_documents", __name__)

PAGE_SIZE = 20


@dataclass
class InstanceDocuments:
    instance: ProcessInstance
    refs: list[model.DocumentRef]


def _version() -> int | None:
    raw = request.args.get("version")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid(messages.t("documents.version_invalid"),
                      errors={"version": [messages.t("documents.version_hint")]})
    return int(raw)


def _languages() -> tuple[str, ...]:
    """The languages asked for with ``?lang=``; else the reader's beside English, as the bilingual official
    templates are used (English alone for an English reader)."""
    asked = request.args.get("lang")
    return i18n.languages(asked) if asked else messages.document_languages()


def _title(title: str) -> str:
    """"Learning Agreement: Lea Hoffmann" in the reader's language: the kind is a fixed text, the rest not."""
    kind, sep, rest = title.partition(": ")
    return f"{i18n.say(kind, (messages.current_language(),))}{sep}{rest}"


@bp.route("/documents", endpoint="index")
def documents_index() -> Any:
    """Every document of the processes the signed-in person's organisation takes part in, by process."""
    cursor = request.args.get("cursor") or None
    with page_session(write=False) as (session, actor):
        page = instances.list_for(session, actor=actor, cursor=cursor, limit=PAGE_SIZE)
        groups = []
        for instance in page.items:
            refs = service.for_instance(session, actor=actor, instance_id=instance.id)
            if refs:
                said = [dataclasses.replace(r, title=_title(r.title)) for r in refs]
                groups.append(InstanceDocuments(instance, said))
    next_url = url_for("web_documents.index", cursor=page.next_cursor) if page.next_cursor else None
    first_url = url_for("web_documents.index") if cursor else None
    return render_template("documents/index.html", active="documents", groups=groups, next_url=next_url,
                           first_url=first_url)


@bp.route("/documents/<kind>/<id:record_id>", endpoint="document")
def document_page(kind: str, record_id: int) -> Any:
    """One document as a readable page (an earlier version of a MoU or LA with ?version=n)."""
    version = _version()
    with page_session() as (session, actor):  # writes the read down (audit trail, reads log)
        document = service.build(session, actor=actor, kind=kind, record_id=record_id, version=version,
                                 languages=_languages())
    choices = [(code, name, f"{code},{i18n.SOURCE}" if code != i18n.SOURCE else code)
               for code, name in messages.LANGUAGE_NAMES.items() if code in i18n.LANGUAGES]
    return render_template("documents/document.html", active="documents", document=document, choices=choices)


@bp.route("/documents/<kind>/<id:record_id>.<fmt>", endpoint="download")
def download(kind: str, record_id: int, fmt: str) -> Any:
    """The document as a PDF or JSON file to keep or send on."""
    if fmt not in ("pdf", "json"):
        abort(404)
    version = _version()
    with page_session() as (session, actor):  # writes the read down (audit trail, reads log)
        document = service.build(session, actor=actor, kind=kind, record_id=record_id, version=version,
                                 languages=_languages())
        head = service.letterhead_of(session, document) if fmt == "pdf" else None
    suffix = f"-v{document.reference.version}" if document.reference.version else ""
    name = f"{kind}-{record_id}{suffix}.{fmt}"
    if fmt == "pdf":
        body = pdf.render(document, generated_at=utcnow(), letterhead=head)
        mimetype = "application/pdf"
    else:
        body = json.dumps(document.as_json(), ensure_ascii=False, indent=2).encode("utf-8")
        mimetype = "application/json"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/learners/<id:learner_id>/credentials.json", endpoint="credentials")
def learner_credentials(learner_id: int) -> Any:
    """The learner's recognised units as European Learning Model credentials (JSON-LD), to take to Europass."""
    with page_session() as (session, actor):  # writes the issuer's key pair on its first credential
        found = seal.for_learner(session, actor=actor, learner_id=learner_id, secret=str(current_app.secret_key))
    body = json.dumps({"credentials": found}, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/ld+json", headers={
        "Content-Disposition": f'attachment; filename="credentials-learner-{learner_id}.jsonld"',
        "Cache-Control": "private, no-store"})


@bp.route("/documents/assessment-sheet/<id:record_id>/signatures", methods=["POST"], endpoint="sign_sheet")
def sign_sheet(record_id: int) -> Any:
    """An assessor of the host signs the sheet with their own account (the API's service decides who may)."""
    back = url_for("web_documents.document", kind="assessment-sheet", record_id=record_id) + "#assessor"
    place = (request.form.get("place") or "").strip()
    try:
        with page_session() as (session, actor):
            sheet = session.get(AssessmentRecord, record_id)
            if sheet is None:
                raise NotFound(f"No assessment sheet {record_id}")
            assessment.sign(session, actor=actor, mobility_id=sheet.mobility_id, assessment_id=record_id,
                            signer={"place": place} if place else None)
    except (Conflict, Forbidden, Invalid) as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(t("sheet.signed"), "success")
    return redirect(back)


@bp.route("/mobilities/<id:mobility_id>/evidence-files/<id:file_id>", endpoint="evidence_file")
def evidence_file(mobility_id: int, file_id: int) -> Any:
    """One evidence file as a download, for who may read the mobility's assessment (audited)."""
    with page_session() as (session, actor):
        attachment, content = evidence_files.content(session, actor=actor, mobility_id=mobility_id, file_id=file_id)
        media_type, filename = attachment.media_type, attachment.filename
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True, download_name=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
