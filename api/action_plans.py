"""/api/action-plans: a review's action plan, and moving one of its actions on (its owner or the sending
organisation)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from ecvet.review import service, views
from ecvet.review.models import ActionItemStatus

from .deps import authenticated
from .parsing import Blueprint
from .schemas import schema_for

blp = Blueprint("action_plans", __name__, url_prefix="/api/action-plans", description="Action plans of reviews")


ActionItemSchema = schema_for(views.ActionItemView, "ActionItemSchema")
ActionPlanSchema = schema_for(views.ActionPlanView, "ActionPlanSchema")


class ItemUpdate(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ActionItemStatus.ALL))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


@blp.route("/<id:action_plan_id>", methods=["GET"])
@blp.response(200, ActionPlanSchema)
def get_action_plan(action_plan_id: int) -> Any:
    with authenticated(write=False) as (session, actor):
        plan = service.get_action_plan(session, actor=actor, action_plan_id=action_plan_id)
        return views.action_plan(session, plan)


@blp.route("/<id:action_plan_id>/items/<id:item_id>", methods=["PATCH"])
@blp.arguments(ItemUpdate)
@blp.response(200, ActionPlanSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def update_item(body: dict[str, Any], action_plan_id: int, item_id: int) -> Any:
    """Move an action on (open, in_progress, done, dropped): its owner or the sending organisation."""
    with authenticated() as (session, actor):
        service.update_item(session, actor=actor, action_plan_id=action_plan_id, item_id=item_id, **body)
        plan = service.get_action_plan(session, actor=actor, action_plan_id=action_plan_id)
        return views.action_plan(session, plan)
