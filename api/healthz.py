"""/healthz: liveness plus a database round trip, for load balancers and `make run` checks."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine.health import check

from .deps import database
from .parsing import Blueprint, public

blp = Blueprint("healthz", __name__, url_prefix="/healthz", description="Health")


class Health(Schema):
    status = fields.String()
    database = fields.String()
    schema_revision = fields.String(allow_none=True)


@blp.route("", methods=["GET"])
@blp.response(200, Health)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE",
                  description="The database is unreachable or not migrated (with Retry-After)")
@public
def healthz() -> Any:
    return check(database())
