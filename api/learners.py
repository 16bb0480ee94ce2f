"""/api/learners: a learner's personal data and achievements (units, ECVET points), for the parties of
their mobilities."""
from __future__ import annotations

from typing import Any

from ecvet.mobility import service, views

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("learners", __name__, url_prefix="/api/learners", description="Learners and their achievements")


LearnerOut = schema_for(views.LearnerView, "LearnerOut")
CreditOut = schema_for(views.CreditView, "CreditOut")
ImplicationOut = schema_for(views.ImplicationView, "ImplicationOut")
AchievementsOut = schema_for(views.Achievements, "AchievementsOut")


@blp.route("/<id:learner_id>", methods=["GET"])
@blp.response(200, LearnerOut)
def get_learner(learner_id: int) -> Any:
    """A learner's personal data: the parties of their mobilities and admins only."""
    with authenticated(write=False) as (session, actor):
        return views.learner(service.get_learner(session, actor=actor, learner_id=learner_id))


@blp.route("/<id:learner_id>/achievements", methods=["GET"])
@blp.response(200, AchievementsOut)
def achievements(learner_id: int) -> Any:
    """Units and ECVET points awarded to the learner, and practical implications, from the mobilities you
    take part in (all of them for the learner and admins)."""
    with authenticated(write=False) as (session, actor):
        return views.achievements(session, actor=actor, learner_id=learner_id)
