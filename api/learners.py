"""/api/learners: a learner's personal data and achievements (units, ECVET points), for the parties of
their mobilities."""
from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields

from ecvet.mobility import seal, service, views

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


class CredentialsOut(Schema):
    credentials = fields.List(fields.Dict(), metadata={
        "description": "one European Learning Model (ELM 3) credential per recognised unit, as JSON-LD, signed by "
        "the recognising organisation (Ed25519 Data Integrity proof with a detached JWS; public key in the proof "
        "and at /api/organisations/{id}/keys)"})


@blp.route("/<id:learner_id>/credentials", methods=["GET"])
@blp.response(200, CredentialsOut)
@blp.alt_response(404, response="NOT_FOUND")
def learner_credentials(learner_id: int) -> Any:
    """The learner's recognised units as Europass / European Learning Model credentials (JSON-LD), from the
    mobilities you take part in (all of them for the learner and admins)."""
    with authenticated() as (session, actor):  # writes the issuer's key pair on its first credential
        return {"credentials": seal.for_learner(session, actor=actor, learner_id=learner_id,
                                                secret=str(current_app.secret_key))}
