"""/api/partner-profiles: one saved partner profile (a partnership's history is under /api/partnerships)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ecvet.partnership import profiles, views

from .attachments import AttachmentSchema
from .deps import authenticated
from .parsing import Blueprint

blp = Blueprint("partner_profiles", __name__, url_prefix="/api/partner-profiles",
                description="Partner profiles: what each partner offers, as saved")


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


@blp.route("/<id:profile_id>", methods=["GET"])
@blp.response(200, ProfileSchema)
def get_profile(profile_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.profile(session, profiles.get(session, actor=actor, profile_id=profile_id))
