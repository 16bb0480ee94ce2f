"""/api/learners: a learner's personal data and achievements (units, ECVET points), for the parties of
their mobilities."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app
from marshmallow import Schema, fields, validate

from ecvet.documents import i18n, pdf
from ecvet.mobility import qualification_award, views
from ecvet.privacy import service as erasure_service
from ecvet.privacy import views as privacy_views
from ecvet.subject_access import audited, export, reads
from engine.pagination import Page

from .deps import authenticated
from .erasure_requests import ErasureRequestOut
from .parsing import Blueprint, Id
from .schemas import PageArgs, SignerIn, page_schema, schema_for

blp = Blueprint("learners", __name__, url_prefix="/api/learners", description="Learners and their achievements")


LearnerOut = schema_for(views.LearnerView, "LearnerOut")
CreditOut = schema_for(views.CreditView, "CreditOut")
ImplicationOut = schema_for(views.ImplicationView, "ImplicationOut")
AchievementsOut = schema_for(views.Achievements, "AchievementsOut")
QualificationAwardOut = schema_for(qualification_award.QualificationAwardView, "QualificationAwardOut")
ReadOut = schema_for(reads.ReadView, "ReadOut")


class QualificationAwardRequest(Schema):
    qualification_id = Id(required=True, metadata={"description": "a registered qualification whose every unit "
                                                                  "is recognised for the learner"})
    comment = fields.String(load_default=None, metadata={"description": "optional, at most 4000 characters"})
    signer = fields.Nested(SignerIn, load_default=None, metadata={
        "description": "your position and place (from your profile when left out); you sign as yourself"})


@blp.route("/<id:learner_id>", methods=["GET"])
@blp.response(200, LearnerOut)
def get_learner(learner_id: int) -> Any:
    """A learner's personal data: the parties of their mobilities and admins only."""
    with authenticated() as (session, actor):  # writes the read down
        return audited.learner(session, actor=actor, learner_id=learner_id)


@blp.route("/<id:learner_id>/erasure-requests", methods=["POST"])
@blp.response(201, ErasureRequestOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def request_erasure(learner_id: int) -> Any:
    """Ask for the learner's data to be erased: the learner, their guardian while a minor, or a member of
    the sending organisation on the learner's behalf (409 while another request waits)."""
    with authenticated() as (session, actor):
        row = erasure_service.request(session, actor=actor, learner_id=learner_id)
        return privacy_views.erasure_request(session, row)


@blp.route("/<id:learner_id>/erasure-requests", methods=["GET"])
@blp.response(200, ErasureRequestOut(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def learner_erasure_requests(learner_id: int) -> Any:
    """The learner's erasure requests and their answers."""
    with authenticated(write=False) as (session, actor):
        return [privacy_views.erasure_request(session, r) for r in erasure_service.of_learner(session, actor=actor,
                                                                              learner_id=learner_id)]


@blp.route("/<id:learner_id>/achievements", methods=["GET"])
@blp.response(200, AchievementsOut)
def achievements(learner_id: int) -> Any:
    """Units and ECVET points awarded to the learner, and practical implications, from the mobilities you
    take part in (all of them for the learner and admins)."""
    with authenticated() as (session, actor):  # writes the read down
        return audited.achievements(session, actor=actor, learner_id=learner_id)


class CredentialsOut(Schema):
    credentials = fields.List(fields.Dict(), metadata={
        "description": "one European Learning Model (ELM 3) credential per recognised unit (and per qualification "
        "awarded whole), as JSON-LD, signed by "
        "the recognising organisation (Ed25519 Data Integrity proof with a detached JWS; public key in the proof "
        "and at /api/organisations/{id}/keys)"})


@blp.route("/<id:learner_id>/credentials", methods=["GET"])
@blp.response(200, CredentialsOut)
@blp.alt_response(404, response="NOT_FOUND")
def learner_credentials(learner_id: int) -> Any:
    """The learner's recognised units as Europass / European Learning Model credentials (JSON-LD), from the
    mobilities you take part in (all of them for the learner and admins)."""
    with authenticated() as (session, actor):  # writes the issuer's key pair on its first credential
        return {"credentials": audited.credentials(session, actor=actor, learner_id=learner_id,
                                                   secret=str(current_app.secret_key))}


@blp.route("/<id:learner_id>/qualification-awards", methods=["POST"])
@blp.arguments(QualificationAwardRequest)
@blp.response(201, QualificationAwardOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def award_qualification(body: dict[str, Any], learner_id: int) -> Any:
    """Award a whole qualification once every one of its units is recognised for the learner (409 before,
    or when awarded already): a member of the recognising institution (or of the qualification's awarding
    body) signs it; anyone else of the learner's mobilities gets 403."""
    signer = {k: v for k, v in (body.get("signer") or {}).items() if v is not None} or None
    with authenticated() as (session, actor):
        return qualification_award.view(qualification_award.award(
            session, actor=actor, learner_id=learner_id, qualification_id=body["qualification_id"], signer=signer,
            comment=body["comment"]))


@blp.route("/<id:learner_id>/qualification-awards", methods=["GET"])
@blp.response(200, QualificationAwardOut(many=True))
def list_qualification_awards(learner_id: int) -> Any:
    """The qualifications awarded to the learner, resting on mobilities you take part in."""
    with authenticated() as (session, actor):  # writes the read down
        return audited.qualification_awards(session, actor=actor, learner_id=learner_id)


class ReadsArgs(PageArgs):
    others_only = fields.Boolean(load_default=False, metadata={
        "description": "true: leave out the reads of the learner and of their guardian"})


@blp.route("/<id:learner_id>/reads", methods=["GET"])
@blp.arguments(ReadsArgs, location="query")
@blp.response(200, page_schema(ReadOut, "ReadPage"))
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def list_reads(args: dict[str, Any], learner_id: int) -> Any:
    """Who looked at the learner's data: every reading of a document or record about them (who, for which
    organisation, what, when), newest first. For the learner, their guardian while a minor, and admins; 404
    for anyone else."""
    with authenticated(write=False) as (session, actor):
        page = reads.reads_for(session, actor=actor, learner_id=learner_id, others_only=args["others_only"],
                               cursor=args["cursor"], limit=args["limit"])
        return Page(page.items, page.next_cursor)


class ExportArgs(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]),
                           metadata={"description": "json (default) or pdf"})
    lang = fields.String(load_default=None, validate=validate.Length(max=20),
                         metadata={"description": "the PDF's language (en, de, es, nl, fr, it), or two side by "
                                                  "side, e.g. de,en; the reader's profile language by default"})


class ExportOut(Schema):
    schema = fields.String()
    learner_id = fields.Integer()
    name = fields.String()
    generated_at = fields.String(metadata={"description": "ISO 8601"})
    tables = fields.Dict(metadata={"description": "per table: its heading and the rows about the learner"})
    files = fields.List(fields.Dict(), metadata={"description": "name, media type, size, SHA-256 and url"})
    reads = fields.List(fields.Dict(), metadata={"description": "who read the learner's data, oldest first"})


@blp.route("/<id:learner_id>/export", methods=["GET"])
@blp.arguments(ExportArgs, location="query")
@blp.response(200, ExportOut)
@blp.doc(responses={"200": {"description": "Everything held about the learner, as JSON or PDF (format=pdf)"}})
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def export_learner(args: dict[str, Any], learner_id: int) -> Any:
    """Everything held about the learner (every table's rows about them, files, who read the data), as JSON
    or as a readable PDF with `?format=pdf`. For the learner, their guardian while a minor, a member of the
    sending organisation (answering the learner's request) and admins; 404 for anyone else. Audited.
    The PDF is in the reader's profile language; `?lang=de` (or `de,en`: side by side) chooses (422 for
    another language)."""
    with authenticated() as (session, actor):  # writes the export down (audit trail, reads log)
        langs = i18n.languages(args["lang"]) if args["lang"] else export.reader_languages(session, actor)
        held = export.collect(session, actor=actor, learner_id=learner_id)
    headers = {"Cache-Control": "private, no-store"}
    if args["format"] == "json":
        return held, headers
    body = pdf.render(export.as_document(held, langs))
    return Response(body, mimetype="application/pdf", headers={
        **headers, "Content-Disposition": f'attachment; filename="learner-{learner_id}-data.pdf"'})
