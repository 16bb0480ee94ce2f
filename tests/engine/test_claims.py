"""engine/claims.py: claim, unclaim, assign within the organisation, comments; all audited; a claimed task is
completed only by its claimer."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import claims, inbox, tasks
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent, TaskComment, TaskOwner, TaskState, User
from engine.parties import Actor
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.two_lane import PROPOSAL, deploy_two_lane, ready_task, start_two_lane


@pytest.fixture
def team(db: Database, orgs: dict[str, Any]) -> dict[str, Any]:
    """The two-lane process waiting for the sending school, which has two members."""
    deploy_two_lane(db)
    instance_id = start_two_lane(db, orgs["sender"], orgs, business_key="M-1")
    colleague = actor_for(db, make_user(db, organisation_ids=[orgs["sending"]], name="Colleague Two").id)
    return {**orgs, "instance_id": instance_id, "task": ready_task(db, instance_id), "colleague": colleague}


def actions_of(db: Database, task_id: str) -> list[str]:
    with db.transaction(write=False) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task_id,
                                                              AuditEvent.action.like("task.%"),
                                                              AuditEvent.action != "task.created")
                              .order_by(AuditEvent.id)))


def test_a_claimed_task_is_completed_only_by_its_claimer_until_unclaimed(db: Database, team: dict[str, Any]) -> None:
    task, sender, colleague = team["task"], team["sender"], team["colleague"]
    with db.transaction() as s:
        claimed = claims.claim(s, actor=sender, task_id=task.id)
        assert claimed.claimed_by == sender.user_id
        assert claimed.claimed_at is not None
        assert claims.claim(s, actor=sender, task_id=task.id).claimed_by == sender.user_id  # again: no change
    with db.transaction() as s, pytest.raises(Conflict, match="works on this task"):
        claims.claim(s, actor=colleague, task_id=task.id)
    with db.transaction() as s, pytest.raises(Conflict, match="claimed this task"):
        tasks.complete(s, actor=colleague, task_id=task.id, data=PROPOSAL)
    with db.transaction() as s, pytest.raises(Forbidden, match="can unclaim it"):
        claims.unclaim(s, actor=colleague, task_id=task.id)
    with db.transaction() as s:
        assert claims.unclaim(s, actor=sender, task_id=task.id).claimed_by is None
    with db.transaction() as s:
        tasks.complete(s, actor=colleague, task_id=task.id, data=PROPOSAL)
    assert actions_of(db, task.id) == ["task.claimed", "task.unclaimed", "task.completed"]


def test_the_claimer_completes_and_other_parties_cannot_claim(db: Database, team: dict[str, Any], admin: Actor) -> None:
    task = team["task"]
    with db.transaction() as s, pytest.raises(NotFound):
        claims.claim(s, actor=team["host"], task_id=task.id)
    with db.transaction() as s, pytest.raises(Forbidden):
        claims.claim(s, actor=admin, task_id=task.id)  # an administrator assigns, never works on it
    with db.transaction() as s:
        claims.claim(s, actor=team["sender"], task_id=task.id)
        tasks.complete(s, actor=team["sender"], task_id=task.id, data=PROPOSAL)
    with db.transaction() as s, pytest.raises(Conflict, match="no longer be claimed"):
        claims.unclaim(s, actor=team["sender"], task_id=task.id)


def test_assign_only_to_a_colleague_of_the_same_organisation(db: Database, team: dict[str, Any], admin: Actor) -> None:
    task, sender, colleague = team["task"], team["sender"], team["colleague"]
    with db.transaction(write=False) as s:
        names = [u.name for u in claims.colleagues(s, actor=sender, task=tasks.get(s, actor=sender, task_id=task.id))]
    assert "Colleague Two" in names
    assert len(names) == 2
    for stranger in (team["host"].user_id, team["outsider"].user_id, admin.user_id):
        with db.transaction() as s, pytest.raises(Invalid) as refused:
            claims.assign(s, actor=sender, task_id=task.id, user_id=stranger)
        assert set(refused.value.errors) == {"user_id"}
    with db.transaction() as s:
        handed = claims.assign(s, actor=sender, task_id=task.id, user_id=colleague.user_id)
        assert handed.claimed_by == colleague.user_id
    with db.transaction() as s, pytest.raises(Conflict):
        claims.assign(s, actor=sender, task_id=task.id, user_id=sender.user_id)  # the colleague has it now
    with db.transaction() as s:  # an administrator may hand it back
        assert claims.assign(s, actor=admin, task_id=task.id, user_id=sender.user_id).claimed_by == sender.user_id
    assert actions_of(db, task.id) == ["task.assigned", "task.assigned"]


def test_inbox_filters_by_assignment_and_shows_the_claimer(db: Database, team: dict[str, Any]) -> None:
    task, sender, colleague = team["task"], team["sender"], team["colleague"]

    def listed(actor: Actor, assignment: str | None) -> list[str]:
        with db.transaction(write=False) as s:
            return [r.task.id for r in inbox.list_for(s, actor=actor, assignment=assignment).items]

    assert listed(sender, "unassigned") == [task.id]
    assert listed(sender, "me") == []
    with db.transaction() as s:
        claims.claim(s, actor=sender, task_id=task.id)
    assert listed(sender, "me") == [task.id]
    assert listed(colleague, "me") == []
    assert listed(colleague, "organisation") == [task.id]
    assert listed(colleague, "unassigned") == []
    with db.transaction(write=False) as s:
        sender_name = s.get(User, sender.user_id).name  # type: ignore[union-attr]
    for order in ("created", "due"):
        with db.transaction(write=False) as s:
            (row,) = inbox.list_for(s, actor=colleague, order=order, assignment="organisation").items
        assert row.claimer == sender_name
    with db.transaction(write=False) as s, pytest.raises(Invalid):
        tasks.list_for(s, actor=sender, assignment="everybody")


def test_comments_are_kept_in_order_audited_and_visible_to_the_party_only(db: Database, team: dict[str, Any]) -> None:
    task, sender, colleague = team["task"], team["sender"], team["colleague"]
    with db.transaction() as s:
        claims.comment(s, actor=sender, task_id=task.id, body="  I will call the hotel first.  ")
        claims.comment(s, actor=colleague, task_id=task.id, body="Fine, the dates are on the MoU.")
    with db.transaction(write=False) as s:
        shown = claims.comments(s, actor=colleague, task_id=task.id)
    assert [(c.author, c.body) for c in shown] == [
        (shown[0].author, "I will call the hotel first."), ("Colleague Two", "Fine, the dates are on the MoU.")]
    for body in ("   ", "x" * (claims.COMMENT_MAX_CHARS + 1)):
        with db.transaction() as s, pytest.raises(Invalid):
            claims.comment(s, actor=sender, task_id=task.id, body=body)
    with db.transaction(write=False) as s, pytest.raises(NotFound):
        claims.comments(s, actor=team["host"], task_id=task.id)
    with db.transaction() as s, pytest.raises(NotFound):
        claims.comment(s, actor=team["host"], task_id=task.id, body="hello")
    assert actions_of(db, task.id) == ["task.commented", "task.commented"]
    with db.transaction(write=False) as s:
        assert s.scalar(select(TaskComment.task_id).limit(1)) == task.id
        assert tasks.get(s, actor=sender, task_id=task.id).state == TaskState.READY


def test_task_and_people_names_for_audit_lines(db: Database, team: dict[str, Any]) -> None:
    with db.transaction(write=False) as s:
        assert claims.task_names(s, instance_id=team["instance_id"]) == {team["task"].id: team["task"].name}
        assert claims.people(s, {team["colleague"].user_id}) == {team["colleague"].user_id: "Colleague Two"}
        assert claims.people(s, set()) == {}


def test_a_task_with_named_owners_is_handed_only_among_them(db: Database, team: dict[str, Any]) -> None:
    task, sender, colleague = team["task"], team["sender"], team["colleague"]
    with db.transaction() as s:
        s.add(TaskOwner(task_id=task.id, user_id=colleague.user_id))
    with db.transaction(write=False) as s:
        shown = tasks.get(s, actor=colleague, task_id=task.id)
        assert [u.id for u in claims.colleagues(s, actor=colleague, task=shown)] == [colleague.user_id]
    with db.transaction() as s, pytest.raises(NotFound):
        claims.claim(s, actor=sender, task_id=task.id)  # not an owner: the task is not theirs any more
    with db.transaction() as s:
        assert claims.claim(s, actor=colleague, task_id=task.id).claimed_by == colleague.user_id
