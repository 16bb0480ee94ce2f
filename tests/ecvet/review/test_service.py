"""ecvet.review.service: opening a review from its mobility, evaluation sheets, the action plan, the revision."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ecvet.mobility.models import Mobility, MobilityStatus
from ecvet.partnership import approvals, mou
from ecvet.partnership.models import Mou, MouStatus
from ecvet.review import service
from ecvet.review.models import Review, ReviewStatus
from engine import deployments, instances
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import ProcessInstance
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, Party, make_learner_mobility, make_party, mou_content
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.review_driver import action_items, evaluation

T0 = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("frozen")


@dataclass
class World:
    db: Database
    sender: Party
    host: Party
    outsider: Party
    admin: Actor
    mou_id: int
    mobility_id: int
    learner: Actor


def active_mou(db: Database, sender: Party, host: Party) -> int:
    """NL and BE need no competent institution: both partners sign, the MoU is in force."""

    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sender.actor, sending_organisation_id=sender.org_id,
                                content=mou_content(sender, host, countries=("NL", "BE")))
        approvals.submit(s, actor=sender.actor, mou_id=memorandum.id)
        digest = mou.current_version(memorandum).content_hash
        for party in (sender, host):
            approvals.approve(s, actor=party.actor, mou_id=memorandum.id, content_hash=digest, signer=SIGNER)
        assert memorandum.status == MouStatus.ACTIVE
        return memorandum.id


@pytest.fixture
def world(db: Database) -> World:
    sender, host, outsider = make_party(db, "NL", "School"), make_party(db, "BE", "Hotel"), make_party(db, "FR")
    mou_id = active_mou(db, sender, host)
    made = make_learner_mobility(db, sending=sender, hosting=host, mou_id=mou_id)
    set_status(db, made.mobility_id, MobilityStatus.RECOGNIZED)
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={"review.bpmn": (ROOT / "processes" / "review.bpmn").read_bytes()},
                           forms_dir=ROOT / "forms")
    admin = actor_for(db, make_user(db, is_admin=True).id)
    return World(db, sender, host, outsider, admin, mou_id, made.mobility_id, made.learner)


def set_status(db: Database, mobility_id: int, status: str) -> None:
    with db.transaction() as s:
        mobility = s.get_one(Mobility, mobility_id)
        assert mobility is not None
        mobility.status = status


def instance(w: World, **parties: object) -> str:
    """A review process instance an administrator started (so no start check stops it; it waits at its
    message start event for this mobility's message) with the given parties."""
    bound = {"sending": w.sender.org_id, "hosting": w.host.org_id, "learner": {"user_id": w.learner.user_id},
             **parties}
    with w.db.transaction() as s:
        return instances.start(s, actor=w.admin, process_key="review", parties=bound,
                               variables={"mobility_id": w.mobility_id}).id


def opened(w: World) -> int:
    instance_id = instance(w)
    with w.db.transaction() as s:
        return service.for_instance(s, actor=w.sender.actor, instance=s.get_one(ProcessInstance, instance_id),
                                    mobility_id=w.mobility_id).id


def act(w: World, fn: object, **kw: object) -> object:
    with w.db.transaction() as s:
        review = s.get_one(Review, kw.pop("review_id"))
        return fn(s, review=review, **kw)  # type: ignore[operator]


def test_a_review_copies_its_parties_from_the_mobility(db: Database, world: World) -> None:
    review_id = opened(world)
    with db.transaction(write=False) as s:
        review = s.get_one(Review, review_id)
        assert (review.mobility_id, review.mou_id, review.sending_organisation_id, review.hosting_organisation_id,
                review.learner_user_id, review.status) == (
            world.mobility_id, world.mou_id, world.sender.org_id, world.host.org_id, world.learner.user_id,
            ReviewStatus.EVALUATING)


def test_only_the_mobilitys_own_parties_can_review_it(db: Database, world: World) -> None:
    wrong = instance(world, hosting=world.outsider.org_id)
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.for_instance(s, actor=world.outsider.actor, instance=s.get_one(ProcessInstance, wrong),
                             mobility_id=world.mobility_id)
    assert list(refused.value.errors) == ["parties.hosting"]
    other_learner = actor_for(db, make_user(db).id)
    wrong = instance(world, learner={"user_id": other_learner.user_id})
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        service.for_instance(s, actor=other_learner, instance=s.get_one(ProcessInstance, wrong),
                             mobility_id=world.mobility_id)
    assert list(refused.value.errors) == ["parties.learner"]
    for missing in (None, "7", 999999):
        instance_id = instance(world)
        with pytest.raises(Invalid), db.transaction() as s:
            service.for_instance(s, actor=world.sender.actor, instance=s.get_one(ProcessInstance, instance_id),
                                 mobility_id=missing)
    with db.transaction(write=False) as s:
        assert s.scalar(select(Review.id)) is None


def test_a_mobility_is_reviewed_once_it_is_over(db: Database, world: World) -> None:
    set_status(db, world.mobility_id, MobilityStatus.LIVE)
    instance_id = instance(world)
    with pytest.raises(Conflict, match="live"), db.transaction() as s:
        service.for_instance(s, actor=world.sender.actor, instance=s.get_one(ProcessInstance, instance_id),
                             mobility_id=world.mobility_id)


@pytest.mark.usefixtures("db")
def test_one_sheet_per_party_written_by_that_party(world: World) -> None:
    review_id = opened(world)
    with pytest.raises(Forbidden):
        act(world, service.evaluate, review_id=review_id, actor=world.sender.actor, party="hosting",
            answers=evaluation())
    with pytest.raises(Forbidden):
        act(world, service.evaluate, review_id=review_id, actor=world.sender.actor, party="learner",
            answers=evaluation())
    with pytest.raises(Invalid) as refused:
        act(world, service.evaluate, review_id=review_id, actor=world.learner, party="learner",
            answers={"outcomes_appropriate": "maybe", "evidence_sufficient": "partly",
                     "unit_remarks": [{"unit": "U1"}]})
    assert set(refused.value.errors) == {"outcomes_appropriate", "evidence_comment", "unit_remarks.0"}
    act(world, service.evaluate, review_id=review_id, actor=world.learner, party="learner", answers=evaluation())
    with pytest.raises(Conflict, match="already handed in"):
        act(world, service.evaluate, review_id=review_id, actor=world.learner, party="learner",
            answers=evaluation())


@pytest.mark.usefixtures("db")
def test_the_action_plan_waits_for_every_sheet_and_is_written_once(world: World) -> None:
    review_id = opened(world)
    for party, actor in (("sending", world.sender.actor), ("hosting", world.host.actor)):
        act(world, service.evaluate, review_id=review_id, actor=actor, party=party, answers=evaluation())
    with pytest.raises(Conflict, match="learner"):
        act(world, service.plan, review_id=review_id, actor=world.sender.actor, items=action_items())
    act(world, service.evaluate, review_id=review_id, actor=world.learner, party="learner", answers=evaluation())
    with pytest.raises(Forbidden):
        act(world, service.plan, review_id=review_id, actor=world.host.actor, items=action_items())
    with pytest.raises(Invalid) as refused:
        act(world, service.plan, review_id=review_id, actor=world.sender.actor,
            items=[{"action": "", "owner": "mentor", "due_date": "soon"}])
    assert set(refused.value.errors) == {"items.0.action", "items.0.owner", "items.0.due_date"}
    with pytest.raises(Invalid):
        act(world, service.plan, review_id=review_id, actor=world.sender.actor, items=[])
    plan = act(world, service.plan, review_id=review_id, actor=world.sender.actor, items=action_items(),
               summary="Fine overall")
    assert [i.position for i in plan.items] == [1, 2, 3]  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="completed"):
        act(world, service.plan, review_id=review_id, actor=world.sender.actor, items=action_items())
    with pytest.raises(Conflict, match="closed"):
        act(world, service.evaluate, review_id=review_id, actor=world.host.actor, party="hosting",
            answers=evaluation())


def test_a_revision_needs_a_mou_in_force_not_already_being_revised(db: Database, world: World) -> None:
    review_id = opened(world)
    for party, actor in (("sending", world.sender.actor), ("hosting", world.host.actor),
                         ("learner", world.learner)):
        act(world, service.evaluate, review_id=review_id, actor=actor, party=party, answers=evaluation())
    with db.transaction() as s:
        s.get_one(Mou, world.mou_id).status = MouStatus.IN_APPROVAL  # an amendment is under way
    with pytest.raises(Conflict, match="in_approval"):
        act(world, service.plan, review_id=review_id, actor=world.sender.actor, items=action_items(),
            revise_mou=True, mou_changes="Longer stays")
    with db.transaction() as s:
        s.get_one(Mou, world.mou_id).status = MouStatus.ACTIVE
    act(world, service.plan, review_id=review_id, actor=world.sender.actor, items=action_items(),
        revise_mou=True, mou_changes="Longer stays")
    with pytest.raises(Forbidden), db.transaction() as s:
        service.record_revision(s, review_id=review_id, mou_version=2, actor=world.sender.actor)
    with db.transaction() as s:
        review = service.record_revision(s, review_id=review_id, mou_version=2)
        assert (review.status, review.mou_version_reviewed, review.mou_version_revised) == (
            ReviewStatus.COMPLETED, 1, 2)
