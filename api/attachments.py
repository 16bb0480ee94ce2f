"""/api/attachments: files a form refers to by id, uploaded here and downloaded by whoever may see them.

Who may see one: the uploader's organisation, the parties of a partnership whose records refer to it,
and administrators; anyone else gets 404.
"""
from __future__ import annotations

import io
from typing import Any

from flask import Response, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema

from ecvet.partnership import attachments, views

from .deps import authenticated
from .parsing import Blueprint, Id, multipart_fields
from .schemas import schema_for

blp = Blueprint("attachments", __name__, url_prefix="/api/attachments",
                description="Attachments: uploaded files that partnership records refer to")


AttachmentSchema = schema_for(views.AttachmentView, "AttachmentSchema")


class UploadRequest(Schema):
    """The multipart body: the file, and for members of several organisations the one uploading."""

    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG, ODT or DOCX; at most "
                                                          "ECVET_ATTACHMENT_MAX_BYTES (10 MiB by default)"})
    organisation_id = Id(
        load_default=None, metadata={"description": "only when you belong to several organisations"})


class UploadForm(Schema):
    organisation_id = Id(load_default=None)


@blp.route("", methods=["POST"])
@blp.arguments(UploadRequest, location="files")
@blp.response(201, AttachmentSchema)
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def upload(files: dict[str, Any]) -> Any:
    """Upload a file for a form to refer to (``{"type": "integer", "format": "attachment-id"}``).

    The type is recognised from the content: 415 for anything but PDF, PNG, JPEG, ODT and DOCX, 413
    above the size limit. Until a partnership record refers to it, only your organisation sees it.
    """
    upload_ = files["file"]
    form = multipart_fields(UploadForm(), "The upload is not valid")
    content = upload_.read(attachments.max_bytes() + 1)
    with authenticated() as (session, actor):
        attachment = attachments.upload(session, actor=actor, filename=upload_.filename, content=content,
                                        organisation_id=form["organisation_id"])
        return views.attachment(attachment)


@blp.route("/<id:attachment_id>", methods=["GET"])
@blp.response(200, AttachmentSchema)
def get_attachment(attachment_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.attachment(attachments.get(session, actor=actor, attachment_id=attachment_id))


@blp.route("/<id:attachment_id>/content", methods=["GET"])
@blp.response(200, description="The file as uploaded, always as a download")
def download(attachment_id: int) -> Response:
    """The bytes, with the recognised media type, as an attachment the browser does not render."""
    with authenticated(write=False) as (session, actor):
        attachment, content = attachments.content(session, actor=actor, attachment_id=attachment_id)
        media_type, filename, digest = attachment.media_type, attachment.filename, attachment.sha256
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True, download_name=filename,
                         etag=digest, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
