"""/api/learners: a learner's personal data and achievements (units, ECVET points), for the parties of
their mobilities."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ecvet.mobility import service, views

from .deps import authenticated
from .parsing import Blueprint

blp = Blueprint("learners", __name__, url_prefix="/api/learners", description="Learners and their achievements")


class LearnerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    date_of_birth = fields.Date()
    email = fields.String()
    guardian_name = fields.String(allow_none=True)
    guardian_email = fields.String(allow_none=True)
    european_student_identifier = fields.String(allow_none=True)
    is_minor = fields.Boolean(allow_none=True, metadata={"description": "on the first day of the mobility"})
    has_account = fields.Boolean()
    guardian_has_account = fields.Boolean()


class CreditOut(Schema):
    id = fields.Integer()
    mobility_id = fields.Integer()
    unit = fields.String()
    unit_title = fields.String(allow_none=True)
    qualification_title = fields.String()
    eqf_level = fields.Integer(allow_none=True)
    ecvet_points = fields.Float()
    awarded_by_organisation_id = fields.Integer()
    awarded_at = fields.DateTime()
    recognition_id = fields.Integer()


class ImplicationOut(Schema):
    id = fields.Integer()
    mobility_id = fields.Integer()
    kind = fields.String(metadata={"description": "exempted_activity | no_retake | extra_credits | other"})
    description = fields.String()
    unit = fields.String(allow_none=True)
    ecvet_points = fields.Float(allow_none=True)
    recorded_at = fields.DateTime()


class AchievementsOut(Schema):
    learner = fields.Nested(LearnerOut)
    credits = fields.List(fields.Nested(CreditOut), metadata={"description": "units and ECVET points awarded"})
    implications = fields.List(fields.Nested(ImplicationOut))
    total_ecvet_points = fields.Float(metadata={"description": "sum of the credits listed"})
    extra_ecvet_points = fields.Float(metadata={"description": "extra credits recorded as practical implications"})
    mobility_ids = fields.List(fields.Integer(), metadata={"description": "the mobilities these come from"})


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
