"""/api/mobility-groups: nominate a group of learners (one mobility and process each, one programme and
Learning Agreement text), read it, and complete the group's waiting tasks of one step in one go."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ecvet.mobility import groups

from .deps import authenticated
from .mobilities import LearnerIn
from .parsing import Blueprint, Id
from .schemas import schema_for

blp = Blueprint("mobility_groups", __name__, url_prefix="/api/mobility-groups",
                description="Group mobilities: learners going together, each signing their own copy")


class GroupLearnerIn(LearnerIn):
    """A new learner (their details), or one nominated before (``learner_id`` alone)."""

    learner_id = Id(load_default=None)

    @validates_schema
    def _details_or_id(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("learner_id") is None and not all(data.get(k) for k in ("name", "date_of_birth", "email")):
            raise ValidationError("Give the learner's name, date_of_birth and email, or a learner_id")


class AccompanyingPersonIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "e.g. teacher, trainer, support person"})
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=200))


class GroupNominateRequest(Schema):
    mou_id = Id(required=True, metadata={"description": "an active MoU of your organisation"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    programme = fields.String(required=True, validate=validate.Length(min=1, max=20000),
                              metadata={"description": "the programme the whole group follows abroad"})
    accompanying_persons = fields.List(fields.Nested(AccompanyingPersonIn), load_default=list)
    # Each learner is new (details) or known (learner_id): partial, and GroupLearnerIn checks which.
    learners = fields.List(fields.Nested(GroupLearnerIn(partial=True)), required=True,
                           validate=validate.Length(min=1, max=groups.MAX_LEARNERS))
    hosting_organisation_id = Id(required=True, metadata={"description": "a signing partner of the MoU"})
    qualification_title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    qualification_eqf_level = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))
    sector = fields.String(load_default=None, validate=validate.Length(max=100))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    intermediary_organisation_id = Id(load_default=None,
                                      metadata={"description": "an intermediary organisation that signs each LA"})


class CompleteAllRequest(Schema):
    bpmn_id = fields.String(required=True, validate=validate.OneOf(groups.BATCHED_TASKS))
    data = fields.Dict(required=True, metadata={"description": "the form's answer, the same for every copy "
                                                               "(a signature quotes the shared text's la_hash)"})


GroupOut = schema_for(groups.GroupView, "MobilityGroupOut")
CompletedOut = schema_for(groups.CompletedTask, "GroupTaskCompletedOut")


def _learner(entry: dict[str, Any]) -> dict[str, Any]:
    if entry.get("learner_id") is not None:
        return {"learner_id": entry["learner_id"]}
    return {key: value for key, value in entry.items() if key != "learner_id"}


@blp.route("", methods=["POST"])
@blp.arguments(GroupNominateRequest)
@blp.response(201, GroupOut)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def nominate(body: dict[str, Any]) -> Any:
    """Nominate a group under your active MoU: one mobility and Mobility process per learner (each
    checked as ``POST /api/mobilities`` checks one), the group's programme and accompanying persons; all
    or nothing (422 naming ``learners.<i>.<field>``)."""
    learners = [_learner(entry) for entry in body.pop("learners")]
    with authenticated() as (session, actor):
        group = groups.nominate_group(session, actor=actor, learners=learners, **body)
        return groups.view(session, actor=actor, group_id=group.id)


@blp.route("/<id:group_id>", methods=["GET"])
@blp.response(200, GroupOut)
@blp.alt_response(404, response="NOT_FOUND")
def get(group_id: int) -> Any:
    """The group, the mobilities of it you take part in (a learner: their own) and your waiting tasks in
    it, batched by step."""
    with authenticated() as (session, actor):
        return groups.view(session, actor=actor, group_id=group_id)


@blp.route("/<id:group_id>/complete", methods=["POST"])
@blp.arguments(CompleteAllRequest)
@blp.response(200, CompletedOut(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def complete_all(body: dict[str, Any], group_id: int) -> Any:
    """Complete every task ``bpmn_id`` of the group that waits for you with the same answer ("sign all"):
    each through its own form and checks, each signature your own, one per Learning Agreement. All or
    nothing: 409 when none waits for you or one copy's text differs (stale ``la_hash``)."""
    with authenticated() as (session, actor):
        return groups.complete_all(session, actor=actor, group_id=group_id, **body)
