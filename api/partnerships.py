"""/api/partnerships, /api/partner-profiles and /api/attachments: partnership records for their parties.

Partnerships, their partner profiles and role maps are written by the Partnership process (task
actions); these routes read them. Attachments are uploaded here (a form then refers to them by id)
and downloaded by whoever may see them: the uploader's organisation, the parties of a partnership
whose records refer to them, and administrators; anyone else gets 404.
"""
from __future__ import annotations

import io
from typing import Any

from flask import Response, request, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields

from ecvet.partnership import attachments, profiles, roles, service, views
from engine.errors import Invalid, NotFound

from .deps import authenticated
from .parsing import Blueprint, Id
from .schemas import PageArgs, page_schema

blp = Blueprint("partnerships", __name__, url_prefix="/api",
                description="Partnerships: partner profiles, role maps and attachments")


class AttachmentSchema(Schema):
    id = fields.Integer()
    sha256 = fields.String(metadata={"description": "SHA-256 of the content"})
    filename = fields.String()
    media_type = fields.String(metadata={"description": "recognised from the content, not from the upload"})
    size = fields.Integer(metadata={"description": "bytes"})
    organisation_id = fields.Integer(allow_none=True, metadata={"description": "the uploader's organisation"})
    uploaded_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class UploadRequest(Schema):
    """The multipart body: the file, and for members of several organisations the one uploading."""

    file = Upload(required=True, metadata={"description": "PDF, PNG, JPEG, ODT or DOCX; at most "
                                                          "ECVET_ATTACHMENT_MAX_BYTES (10 MiB by default)"})
    organisation_id = Id(
        load_default=None, metadata={"description": "only when you belong to several organisations"})


class UploadForm(Schema):
    organisation_id = Id(load_default=None)


def _form_fields() -> dict[str, Any]:
    """The non-file fields of the multipart body (webargs reads the ``files`` location only)."""
    try:
        return UploadForm().load({k: v for k, v in request.form.items() if k in UploadForm().fields})
    except ValidationError as exc:
        raise Invalid("The upload is not valid", errors=exc.messages) from exc


class PartnershipSummary(Schema):
    id = fields.Integer()
    instance_id = fields.String(allow_none=True, metadata={"description": "the Partnership process instance"})
    sending_organisation_id = fields.Integer()
    hosting_organisation_id = fields.Integer()
    mou_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ProfileSchema(Schema):
    id = fields.Integer()
    partnership_id = fields.Integer()
    organisation_id = fields.Integer()
    side = fields.String(metadata={"description": "sending | hosting"})
    content = fields.Dict(metadata={"description": "organisation, qualifications_offered (units with learning "
                                                   "outcomes), vet_system, attachments "
                                                   "(see ecvet.partnership.profiles)"})
    content_hash = fields.String()
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    attachments = fields.List(fields.Nested(AttachmentSchema))


class RoleMapEntrySchema(Schema):
    function = fields.String(metadata={"description": "assessment | validation | recognition | award_of_credit | "
                                                      "mou_approval | la_approval"})
    side = fields.String(metadata={"description": "home | host"})
    country = fields.String()
    organisation_id = fields.Integer(allow_none=True)
    organisation_name = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    registered = fields.Boolean(allow_none=True, metadata={
        "description": "whether the platform's registry of competent institutions knows this organisation for "
                       "this function and country (null when the entry names no registered organisation)"})


class RoleMapSchema(Schema):
    id = fields.Integer()
    partnership_id = fields.Integer()
    notes = fields.String(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    entries = fields.List(fields.Nested(RoleMapEntrySchema))


class MouSummary(Schema):
    id = fields.Integer()
    status = fields.String()
    version = fields.Integer()
    content_hash = fields.String()
    valid_until = fields.String(allow_none=True)


class PartnershipDetail(PartnershipSummary):
    home_country = fields.String()
    host_country = fields.String()
    parties = fields.List(fields.Integer(), metadata={"description": "organisations that may read the records"})
    profiles = fields.List(fields.Nested(ProfileSchema), metadata={"description": "each partner's current profile"})
    role_map = fields.Nested(RoleMapSchema, allow_none=True)
    mou = fields.Nested(MouSummary, allow_none=True)


@blp.route("/attachments", methods=["POST"])
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
    form = _form_fields()
    content = upload_.read(attachments.max_bytes() + 1)
    with authenticated() as (session, actor):
        attachment = attachments.upload(session, actor=actor, filename=upload_.filename, content=content,
                                        organisation_id=form["organisation_id"])
        return views.attachment(attachment)


@blp.route("/attachments/<id:attachment_id>", methods=["GET"])
@blp.response(200, AttachmentSchema)
def get_attachment(attachment_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.attachment(attachments.get(session, actor=actor, attachment_id=attachment_id))


@blp.route("/attachments/<id:attachment_id>/content", methods=["GET"])
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


@blp.route("/partnerships", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(PartnershipSummary, "PartnershipPage"))
def list_partnerships(args: dict[str, Any]) -> Any:
    """Partnerships your organisation is a party of (administrators: all)."""
    with authenticated(write=False) as (session, actor):
        return service.list_for(session, actor=actor, cursor=args["cursor"], limit=args["limit"])


@blp.route("/partnerships/<id:partnership_id>", methods=["GET"])
@blp.response(200, PartnershipDetail)
def get_partnership(partnership_id: int) -> Any:
    """The partnership with each partner's current profile, the current role map and its MoU."""
    with authenticated(write=False) as (session, actor):
        return views.partnership(session, actor=actor, partnership_id=partnership_id)


@blp.route("/partnerships/<id:partnership_id>/profiles", methods=["GET"])
@blp.response(200, ProfileSchema(many=True))
def list_profiles(partnership_id: int) -> Any:
    """Every profile saved in the partnership, oldest first (a save never overwrites an earlier one)."""
    with authenticated(write=False) as (session, actor):
        return [views.profile(session, p)
                for p in profiles.history(session, actor=actor, partnership_id=partnership_id)]


@blp.route("/partner-profiles/<id:profile_id>", methods=["GET"])
@blp.response(200, ProfileSchema)
def get_profile(profile_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.profile(session, profiles.get(session, actor=actor, profile_id=profile_id))


@blp.route("/partnerships/<id:partnership_id>/role-map", methods=["GET"])
@blp.response(200, RoleMapSchema)
def get_role_map(partnership_id: int) -> Any:
    """Who holds which ECVET function in each country, as the partners mapped it (404 before they did)."""
    with authenticated(write=False) as (session, actor):
        role_map = roles.get_current(session, actor=actor, partnership_id=partnership_id)
        if role_map is None:
            raise NotFound(f"Partnership {partnership_id} has no role map yet")
        return views.role_map(session, role_map)

