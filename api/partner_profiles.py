"""/api/partner-profiles: one saved partner profile (a partnership's history is under /api/partnerships)."""
from __future__ import annotations

from typing import Any

from ecvet.partnership import profiles, views

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("partner_profiles", __name__, url_prefix="/api/partner-profiles",
                description="Partner profiles: what each partner offers, as saved")


ProfileSchema = schema_for(views.ProfileView, "ProfileSchema")


@blp.route("/<id:profile_id>", methods=["GET"])
@blp.response(200, ProfileSchema)
def get_profile(profile_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        return views.profile(session, profiles.get(session, actor=actor, profile_id=profile_id))
