"""/api/retention/dry-run: what a retention purge would remove now (the periods themselves are an
organisation's: /api/organisations/{id}/retention)."""
from __future__ import annotations

from typing import Any

from ecvet.retention import purge

from .deps import authenticated
from .parsing import Blueprint

blp = Blueprint("retention", __name__, url_prefix="/api/retention", description="Retention purge")


@blp.route("/dry-run", methods=["GET"])
@blp.response(200)
def get_dry_run() -> Any:
    """What a purge would remove now, per record kind (table, row ids, learner ids); changes nothing but the
    audit row ``retention.dry_run``. Platform administrators only (403)."""
    with authenticated() as (session, actor):
        return purge.dry_run(session, actor=actor).as_dict()
