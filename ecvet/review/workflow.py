"""Task actions and the connector of the Review process (``processes/review.bpmn``).

Importing this module registers them (:mod:`ecvet.wiring` lists it for the app and the worker).

* ``review.evaluate`` (action): the party of the task's lane (sending, hosting or learner) hands in
  its evaluation sheet (:func:`ecvet.review.service.evaluate`). The review is opened by the first sheet,
  from ``mobility_id`` in the process data. Returns ``review_id`` and ``<party>_evaluation_id``.
* ``review.plan`` (action): the sending organisation's action plan (``summary``, ``items``,
  ``revise_mou``, ``mou_changes``). Returns ``action_plan_id``, ``evaluation_ids``, ``revise_mou``,
  ``mou_id``, ``mou_changes`` and ``review_status``: with ``revise_mou`` the process sends
  ``mou_revision_requested`` to the partnership.
* ``review.revision_done`` (connector, run by the worker when the partnership answers ``mou_revised``):
  records the MoU version the revision produced and returns the review's status.
"""
from __future__ import annotations

from typing import Any

from ecvet.review import service
from ecvet.review.models import ReviewParty
from engine import services
from engine.actions import ActionContext, action
from engine.errors import Invalid


def _review(context: ActionContext) -> Any:
    return service.for_instance(context.session, actor=context.actor, instance=context.instance,
                                mobility_id=context.task_data.get("mobility_id"))


@action("review.evaluate")
def evaluate(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The evaluation sheet of the party whose lane the task is in."""
    party = context.task.role
    if party not in ReviewParty.ALL:
        raise Invalid("Evaluation sheets are written in the sending, hosting or learner lane",
                      errors={"_": [f"lane role {party!r}"]})
    review = _review(context)
    evaluation = service.evaluate(context.session, actor=context.actor, review=review, party=party, answers=data)
    return {"review_id": review.id, f"{party}_evaluation_id": evaluation.id}


@action("review.plan")
def plan(context: ActionContext, data: dict[str, Any]) -> dict[str, Any]:
    """The action plan, and whether the MoU is to be revised."""
    review = _review(context)
    action_plan = service.plan(context.session, actor=context.actor, review=review, items=data.get("items"),
                               summary=data.get("summary"), revise_mou=bool(data.get("revise_mou", False)),
                               mou_changes=data.get("mou_changes"))
    return {
        "review_id": review.id, "action_plan_id": action_plan.id,
        "evaluation_ids": [e.id for e in service.evaluations_of(context.session, review)],
        "revise_mou": action_plan.revise_mou, "mou_id": review.mou_id, "mou_changes": action_plan.mou_changes,
        "review_status": review.status,
    }


@services.connector("review.revision_done")
def revision_done(review_id: int, mou_version: int) -> str:
    """The partnership answered: note the MoU version the review's revision request produced."""
    review = service.record_revision(services.current_session(), review_id=review_id, mou_version=mou_version)
    return review.status
