"""The Review process (processes/review.bpmn) after a partnership, for each illustrative national model.

A partnership with two partners gets its MoU approved through the gates its national model requires
(DE: after a rejected-then-revised round), a learner's mobility under it is recognised, then the
review: evaluation sheets by sending, hosting and learner (each task only in that party's inbox), an
action plan, and a revision of the MoU that the Partnership process runs through the same gates again
(the ES regional authority's implicit approval by the worker alone). The records hold what was agreed.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
import ecvet.review.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.partnership.models import MouStatus
from ecvet.review import service, views
from ecvet.review.models import ActionItemStatus, Evaluation, Review, ReviewStatus
from engine import deployments, instances, jobs, messages, tasks
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import InstanceStatus, ProcessInstance
from engine.parties import Actor
from tests.support.ecvet_factories import make_party
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import PartnershipRun, reject, start
from tests.support.review_driver import (
    ReviewRun,
    action_items,
    deploy_review,
    evaluation,
    recognised_mobility,
    start_review,
)

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MODELS = {
    "provider_responsibility": ("NL", "BE"),
    "chamber_approval": ("DE", "NL"),
    "regional_authority": ("ES", "NL"),
}


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def pass_the_gates(p: PartnershipRun, frozen: FrozenClock) -> None:
    """Whatever the home country's national model requires, and nothing else, is asked."""
    if p.home == "NL":
        assert p.open_steps() == {"approve_hosting"}
        p.approve_all("hosting")
    elif p.home == "DE":
        assert p.open_steps() == {"approve_hosting", "approve_ci_home"}
        p.approve_all("hosting", "competent-institution-home")
    else:
        # The regional authority approves by silence: it sees the objection period coming as a task.
        assert p.open_steps() == {"approve_hosting", "object_mou_ci_home"}
        p.approve_all("hosting")
        assert p.mou()[0] == MouStatus.IN_APPROVAL
        frozen.advance(days=20, seconds=1)
        jobs.run_due(p.db)


def partnership_in_force(db: Database, admin: Actor, frozen: FrozenClock, model: str) -> PartnershipRun:
    home, abroad = MODELS[model]
    p = start(db, admin, home, abroad, ci_home_for=home if home != "NL" else None)
    p.build()
    if home == "DE":  # a rejected-then-revised round first
        p.draft_and_submit()
        p.complete("hosting", "approve_hosting",
                   reject(p.form_values("hosting", "approve_hosting"), "At most eight weeks, please."))
        assert p.open_steps() == {"draft_mou"}
        p.draft_and_submit(mobility_duration_weeks={"min": 3, "max": 8})
    else:
        p.draft_and_submit()
    assert p.data()["national_model_home"]["model"] == model
    pass_the_gates(p, frozen)
    status, version, _count, active = p.mou()
    assert (status, active) == (MouStatus.ACTIVE, True)
    assert version == (2 if home == "DE" else 1)
    return p


@pytest.mark.parametrize("model", list(MODELS))
def test_review_with_action_plan_and_a_mou_revision_through_the_gates(
    db: Database, admin: Actor, frozen: FrozenClock, model: str
) -> None:
    p = partnership_in_force(db, admin, frozen, model)
    version_before = p.mou()[1]
    r = start_review(db, p)

    # Evaluation sheets in parallel, each only in its party's inbox (the learner's own account).
    assert r.open_steps() == {"evaluate_sending", "evaluate_hosting", "evaluate_learner"}
    r.only_for("learner", "evaluate_learner")
    r.complete("learner", "evaluate_learner", evaluation(unit_remarks=[{"unit": "U1", "remark": "Too short"}]))
    r.complete("hosting", "evaluate_hosting", evaluation("partly", "no"))
    assert r.open_steps() == {"evaluate_sending"}, "the action plan waits for every sheet"
    r.complete("sending", "evaluate_sending", evaluation("partly", "yes"))

    assert r.open_steps() == {"plan_actions"}
    changes = "Eight weeks for unit U1; assessment criteria in the transcript."
    r.complete("sending", "plan_actions", {"summary": "U1 needs more time; the host documents criteria.",
                                           "items": action_items(), "revise_mou": True, "mou_changes": changes})
    review = r.review()
    assert (review.status, review.mou_version_reviewed, review.mobility_id) == (
        ReviewStatus.REVISION_REQUESTED, version_before, r.mobility_id)
    assert r.status() in InstanceStatus.ACTIVE
    assert r.ready() == []

    # The worker delivers the request: the partnership's sending organisation drafts the revision.
    jobs.run_due(db)
    assert p.open_steps() == {"draft_mou"}
    assert p.form_values("sending", "draft_mou")["revision_request"] == {
        "mou_id": p.partnership().mou_id, "review_id": review.id, "source": "review", "changes": changes,
        "comment": None}
    p.draft_and_submit(mobility_duration_weeks={"min": 4, "max": 8})
    assert p.mou()[:2] == (MouStatus.IN_APPROVAL, version_before + 1)
    assert p.in_force_version() == version_before
    pass_the_gates(p, frozen)
    assert p.mou()[0] == MouStatus.ACTIVE
    assert p.mou()[1] == version_before + 1

    # The partnership answers; the worker records the new version in the review, which ends.
    jobs.run_due(db)
    review = r.review()
    assert (review.status, review.mou_version_revised) == (ReviewStatus.COMPLETED, version_before + 1)
    assert review.completed_at is not None
    assert r.status() == InstanceStatus.COMPLETED
    assert p.ready() == [], "the partnership is back in force"
    assert p.status() in InstanceStatus.ACTIVE, "the partnership is back in force"

    with db.transaction(write=False) as s:
        own = views.review(s, actor=p.sender.actor, review_id=review.id)
        found = views.review(s, actor=admin, review_id=review.id)
    assert [e["party"] for e in own["evaluations"]] == ["sending"]  # each party its own sheet (issue 16)
    sheets = {e["party"]: e for e in found["evaluations"]}
    assert (sheets["hosting"]["outcomes_appropriate"], sheets["hosting"]["evidence_sufficient"]) == ("partly", "no")
    assert sheets["hosting"]["evidence_comment"] == "The transcript names no assessment criteria."
    assert sheets["learner"]["unit_remarks"] == [{"unit": "U1", "remark": "Too short"}]
    assert sheets["learner"]["organisation_id"] is None
    assert sheets["sending"]["organisation_id"] == p.sender.org_id
    plan = found["action_plan"]
    assert plan is not None
    assert (plan["revise_mou"], plan["mou_changes"]) == (True, changes)
    assert [(i["owner"], i["owner_organisation_id"], i["owner_user_id"], i["due_date"], i["status"])
            for i in plan["items"]] == [
        ("hosting", p.host.org_id, None, date(2099, 6, 30), ActionItemStatus.OPEN),
        ("sending", p.sender.org_id, None, date(2099, 6, 30), ActionItemStatus.OPEN),
        ("learner", None, r.learner.user_id, date(2099, 6, 30), ActionItemStatus.OPEN),
    ]


def test_a_review_without_revision_ends_with_its_action_plan(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    r = start_review(db, p)
    r.evaluate_all()
    r.complete("sending", "plan_actions", {"items": action_items()[:1], "revise_mou": False})
    assert r.review().status == ReviewStatus.COMPLETED
    assert r.status() == InstanceStatus.COMPLETED
    jobs.run_due(db)
    assert p.ready() == [], "nothing is asked of the partnership"


def test_the_action_plan_form_refuses_a_revision_without_changes_and_past_due_dates(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    r = start_review(db, p)
    r.evaluate_all()
    with pytest.raises(Invalid) as refused:
        r.complete("sending", "plan_actions", {"items": action_items(), "revise_mou": True})
    assert "mou_changes" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        r.complete("sending", "plan_actions", {"items": action_items(due="2027-02-28"), "revise_mou": False})
    assert refused.value.errors["items.0.due_date"] == ["The due date has passed"]
    assert r.open_steps() == {"plan_actions"}
    assert r.review().status == ReviewStatus.EVALUATING


def test_an_evaluation_that_is_not_all_yes_needs_its_reason(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    r = start_review(db, p)
    with pytest.raises(Invalid) as refused:
        r.complete("hosting", "evaluate_hosting", {"outcomes_appropriate": "no", "evidence_sufficient": "yes"})
    assert "outcomes_comment" in refused.value.errors
    with db.transaction(write=False) as s:
        assert s.scalar(select(Evaluation.id)) is None
    assert r.open_steps() == {"evaluate_sending", "evaluate_hosting", "evaluate_learner"}


def test_a_review_of_someone_elses_mobility_cannot_be_started(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    """An outsider binds themselves as sending organisation of a review naming another school's
    mobility (and its real host and learner): the Review process's start check refuses it, so no
    instance exists, nobody is asked anything and no review is recorded. (A review an administrator
    starts so is still refused a record by service.for_instance: tests/ecvet/review/test_service.py.)"""
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    genuine = start_review(db, p)
    outsider = make_party(db, "FR", "Outsider school")
    with db.transaction(write=False) as s:
        before = s.scalar(select(func.count(ProcessInstance.id)))
    bindings = [
        {"sending": outsider.org_id, "hosting": p.host.org_id, "learner": {"user_id": genuine.learner.user_id}},
        # binding the real sending school does not help: the outsider does not speak for it
        {"sending": p.sender.org_id, "hosting": p.host.org_id, "learner": {"user_id": genuine.learner.user_id}},
    ]
    for parties, refusal in zip(bindings, (Invalid, Forbidden), strict=True):
        with pytest.raises(refusal), db.transaction() as s:
            messages.deliver(s, actor=outsider.actor, name="mobility_recognized", correlation_keys=None,
                             payload={"mobility_id": genuine.mobility_id}, parties=parties)
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(ProcessInstance.id))) == before
        assert tasks.list_for(s, actor=outsider.actor).items == []
        assert service.list_for(s, actor=outsider.actor).items == []
        assert s.scalar(select(func.count(Review.id))) == 0


def test_evaluation_sheets_are_append_only(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    r = start_review(db, p)
    r.complete("learner", "evaluate_learner", evaluation())
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.execute(text("UPDATE evaluations SET outcomes_appropriate = 'no'"))
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.execute(text("DELETE FROM evaluations"))
    with db.transaction(write=False) as s:
        assert s.scalars(select(Evaluation.outcomes_appropriate)).all() == ["yes"]


def test_the_review_is_visible_to_its_parties_only(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = partnership_in_force(db, admin, frozen, "chamber_approval")
    r = start_review(db, p)
    r.evaluate_all()
    review_id = r.review().id
    outsider = make_party(db, "FR", "Outsider")
    with db.transaction(write=False) as s:
        for actor in (p.sender.actor, p.host.actor, r.learner, admin):
            assert views.review(s, actor=actor, review_id=review_id)["status"] == ReviewStatus.EVALUATING
        for actor in (outsider.actor, p.ci_home.actor):
            with pytest.raises(Exception, match="No review"):
                service.get(s, actor=actor, review_id=review_id)
        evaluation_id = s.scalars(select(Evaluation.id)).first()
        assert evaluation_id is not None
        with pytest.raises(Exception, match="No evaluation sheet"):
            service.get_evaluation(s, actor=outsider.actor, evaluation_id=evaluation_id)


def test_action_items_move_on_by_their_owner_or_the_sender(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    r = start_review(db, p)
    r.evaluate_all()
    r.complete("sending", "plan_actions", {"items": action_items(), "revise_mou": False})
    with db.transaction(write=False) as s:
        plan = service.action_plan_of(s, r.review())
        assert plan is not None
        hosting_item, sending_item, learner_item = (i.id for i in plan.items)
        plan_id = plan.id
    with db.transaction() as s:
        item = service.update_item(s, actor=p.host.actor, action_plan_id=plan_id, item_id=hosting_item,
                                   status=ActionItemStatus.DONE, note="New template in use")
        assert (item.status, item.updated_by) == (ActionItemStatus.DONE, p.host.user_id)
    with db.transaction() as s:
        service.update_item(s, actor=r.learner, action_plan_id=plan_id, item_id=learner_item,
                            status=ActionItemStatus.IN_PROGRESS)
    with pytest.raises(Exception, match="Only the sending organisation or the item's owner"), db.transaction() as s:
        service.update_item(s, actor=r.learner, action_plan_id=plan_id, item_id=sending_item,
                            status=ActionItemStatus.DONE)
    with pytest.raises(Invalid), db.transaction() as s:
        service.update_item(s, actor=p.sender.actor, action_plan_id=plan_id, item_id=sending_item, status="finished")
    outsider = make_party(db, "FR", "Outsider")
    with pytest.raises(Exception, match="No action plan"), db.transaction() as s:
        service.update_item(s, actor=outsider.actor, action_plan_id=plan_id, item_id=sending_item,
                            status=ActionItemStatus.DONE)
    with pytest.raises(Conflict), db.transaction() as s:
        service.record_revision(s, review_id=r.review().id, mou_version=9)


def test_a_review_can_still_ask_for_a_revision_after_the_renewal_reminder_was_declined(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """Reminded and told to let the MoU expire, the partnership still listens for revision requests
    until the validity date; a revision that extends the validity gets a reminder of its own."""
    home, abroad = MODELS["provider_responsibility"]
    p = start(db, admin, home, abroad, valid_until="2027-12-31")
    p.build()
    p.draft_and_submit()
    pass_the_gates(p, frozen)
    frozen.set(datetime(2027, 11, 2, 9, tzinfo=UTC))
    jobs.run_due(db)
    p.complete("sending", "renew_mou", {"decision": "let_expire"})
    assert p.ready() == []

    r = start_review(db, p)
    r.evaluate_all()
    r.complete("sending", "plan_actions", {"items": action_items(), "revise_mou": True,
                                           "mou_changes": "Run the exchange two more years"})
    jobs.run_due(db)
    assert p.open_steps() == {"draft_mou"}
    p.valid_until = "2029-12-31"
    p.draft_and_submit()
    pass_the_gates(p, frozen)
    jobs.run_due(db)
    assert r.review().mou_version_revised == 2
    assert r.status() == InstanceStatus.COMPLETED
    frozen.set(datetime(2028, 1, 2, tzinfo=UTC))
    jobs.run_due(db)
    assert p.mou()[0] == MouStatus.ACTIVE, "the revised MoU is valid until 2029"
    frozen.set(datetime(2029, 11, 2, 0, 0, 1, tzinfo=UTC))
    jobs.run_due(db)
    assert p.open_steps() == {"renew_mou"}


def test_the_end_of_a_mobility_starts_its_review_with_the_same_parties(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    """The contract with the Mobility process: it ends by throwing ``mobility_recognized`` with
    ``{"mobility_id": n}``; the worker starts the review, binding the roles both processes have."""
    p = partnership_in_force(db, admin, frozen, "provider_responsibility")
    deploy_review(db)
    mobility_id, learner = recognised_mobility(db, p)
    fixture = (Path(__file__).resolve().parents[2] / "fixtures" / "ecvet" / "mobility_recognized.bpmn")
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={"mobility_recognized.bpmn": fixture.read_bytes()},
                           forms_dir=ROOT / "forms")
        mobility_instance = instances.start(s, actor=admin, process_key="mobility_recognized_fixture", parties={
            "sending": p.sender.org_id, "hosting": p.host.org_id, "learner": {"user_id": learner.user_id},
            "competent-institution-home": p.ci_home.org_id}, variables={"mobility_id": mobility_id})
        (task,) = instances.ready_tasks(s, mobility_instance)
    with db.transaction() as s:
        tasks.complete(s, actor=p.sender.actor, task_id=task.id, data={})
    jobs.run_due(db)
    with db.transaction(write=False) as s:
        (review_instance,) = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "review")).all()
        bound = {b.role: (b.organisation_id, b.user_id) for b in review_instance.parties}
    assert bound == {"sending": (p.sender.org_id, None), "hosting": (p.host.org_id, None),
                     "learner": (None, learner.user_id)}
    r = ReviewRun(db, p, mobility_id, learner, review_instance.id)
    assert r.open_steps() == {"evaluate_sending", "evaluate_hosting", "evaluate_learner"}
    r.evaluate_all()
    assert r.review().mobility_id == mobility_id
