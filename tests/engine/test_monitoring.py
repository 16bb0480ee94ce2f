"""Monitoring aggregates: per-status, per-phase, overdue, incidents, time series, heatmap, highlights."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from bench.generate import script_process
from engine import monitoring, operations
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import NotFound
from engine.models import InstanceStatus
from engine.parties import Actor
from tests.support.bpmn import boundary_timer, intermediate_timer
from tests.support.engine import actor_for, deploy
from tests.support.factories import make_org, make_user
from tests.support.monitoring import MESSAGES, PROPOSAL, T0, TWO_LANE, Scene, complete, start


def _statuses(rows: list[monitoring.StatusCount]) -> dict[tuple[str, str], int]:
    return {(r.process_key, r.status): r.count for r in rows}


def test_instances_by_status_counts_only_what_the_caller_may_see(db: Database, scene: Scene) -> None:
    with db.transaction(write=False) as s:
        everything = monitoring.instances_by_status(s, actor=scene.admin)
        ours = monitoring.instances_by_status(s, actor=scene.sender)
        theirs = monitoring.instances_by_status(s, actor=scene.outsider)
    assert _statuses(everything) == {("two_lane_review", "waiting"): 3, ("two_lane_review", "completed"): 1}
    assert everything[0].process_name == "Two-lane review"
    assert _statuses(ours) == {("two_lane_review", "waiting"): 2, ("two_lane_review", "completed"): 1}
    assert _statuses(theirs) == {("two_lane_review", "waiting"): 1}


def test_phase_is_the_ready_task_per_element_with_its_role(db: Database, scene: Scene) -> None:
    with db.transaction(write=False) as s:
        admin_view = monitoring.instances_by_phase(s, actor=scene.admin)
        sender_view = monitoring.instances_by_phase(s, actor=scene.sender, process_key="two_lane_review")
        none = monitoring.instances_by_phase(s, actor=scene.sender, process_key="no_such_process")
    assert {(p.phase, p.role, p.bpmn_id, p.instances) for p in admin_view} == {
        ("Propose placement", "sending", "propose", 2),
        ("Review placement", "hosting", "review", 1),
    }
    assert {(p.bpmn_id, p.instances) for p in sender_view} == {("propose", 1), ("review", 1)}
    assert none == []


@pytest.mark.usefixtures("frozen")
def test_open_instances_without_a_ready_task_get_a_waiting_phase(db: Database, admin: Actor) -> None:
    deploy(db, {"waiter.bpmn": intermediate_timer("waiter", "timeDuration", '"PT1H"')})
    deploy(db, {"boom.bpmn": script_process("boom", "x = 1 / 0")})
    deploy(db, {"await_confirmation.bpmn": (MESSAGES / "await_confirmation.bpmn").read_bytes()})
    org = make_org(db)
    start(db, admin, "waiter", {})
    start(db, admin, "boom", {})
    start(db, admin, "await_confirmation", {"sending": org.id}, mobility_id="M-1")
    with db.transaction(write=False) as s:
        phases = {(p.process_key, p.phase, p.instances) for p in monitoring.instances_by_phase(s, actor=admin)}
    assert phases == {
        ("waiter", monitoring.PHASE_TIMER, 1),
        ("boom", monitoring.PHASE_INCIDENT, 1),
        ("await_confirmation", monitoring.PHASE_MESSAGE, 1),
    }


def test_overdue_tasks_are_past_due_ready_tasks_of_visible_instances(
    db: Database, admin: Actor, frozen: FrozenClock
) -> None:
    deploy(db, {"sig.bpmn": boundary_timer("sig", interrupting=False, kind="timeDuration", expression='"PT1H"')})
    school, other = make_org(db, name="Berufskolleg Nord"), make_org(db)
    member = actor_for(db, make_user(db, organisation_ids=[school.id]).id)
    stranger = actor_for(db, make_user(db, organisation_ids=[other.id]).id)
    iid = start(db, admin, "sig", {"sending": school.id, "competent-institution": other.id})
    start(db, admin, "sig", {"sending": other.id, "competent-institution": other.id})
    with db.transaction(write=False) as s:
        assert monitoring.overdue_tasks(s, actor=admin) == []
    frozen.advance(minutes=61)
    with db.transaction(write=False) as s:
        late = monitoring.overdue_tasks(s, actor=member)
        assert len(monitoring.overdue_tasks(s, actor=admin)) == 2
        assert len(monitoring.overdue_tasks(s, actor=stranger)) == 2  # party of both instances
        phase = {p.bpmn_id: p.overdue_tasks for p in monitoring.instances_by_phase(s, actor=member)}
    assert [(t.instance_id, t.name, t.role, t.assignee) for t in late] == [
        (iid, "Sign the Learning Agreement", "sending", "Berufskolleg Nord")]
    assert late[0].due_at == T0 + timedelta(hours=1)
    assert phase == {"sign": 1}


def test_open_incidents_only_for_admins_or_parties(db: Database, admin: Actor, member: tuple[Actor, int]) -> None:
    deploy(db, {"boom.bpmn": script_process("boom", "x = 1 / 0")})
    iid = start(db, admin, "boom", {})
    with db.transaction(write=False) as s:
        found = monitoring.open_incidents(s, actor=admin)
        assert monitoring.open_incidents(s, actor=member[0]) == []
        assert monitoring.open_incidents(s, actor=admin, instance_id="nope") == []
    assert [(i.instance_id, i.bpmn_id, i.kind, i.process_key) for i in found] == [(iid, "script", "script", "boom")]
    assert "division by zero" in found[0].message


def test_counts_over_time_per_day_with_zero_days(db: Database, admin: Actor, frozen: FrozenClock) -> None:
    deploy(db, TWO_LANE)
    org = make_org(db)
    parties = {"sending": org.id, "hosting": org.id}
    frozen.set(T0 - timedelta(days=2))
    first = start(db, admin, "two_lane_review", parties)
    frozen.set(T0)
    start(db, admin, "two_lane_review", parties)
    complete(db, admin, first, PROPOSAL)
    complete(db, admin, first, {"accepted": True})
    frozen.set(T0 - timedelta(days=40))
    start(db, admin, "two_lane_review", parties)  # outside the window
    frozen.set(T0)
    outsider = actor_for(db, make_user(db).id)
    with db.transaction(write=False) as s:
        series = monitoring.counts_over_time(s, actor=admin, days=7)
        nothing = monitoring.counts_over_time(s, actor=outsider, days=7)
    assert [d.day for d in series] == [date(2027, 3, 4) + timedelta(days=i) for i in range(7)]
    assert {d.day: (d.started, d.completed) for d in series if d.started or d.completed} == {
        date(2027, 3, 8): (1, 0),
        date(2027, 3, 10): (1, 1),
    }
    assert all(d.started == d.completed == 0 for d in nothing)


def test_heatmap_counts_ready_tasks_per_element_by_visibility(db: Database, scene: Scene) -> None:
    with db.transaction(write=False) as s:
        admin_map = monitoring.heatmap(s, actor=scene.admin, process_key="two_lane_review")
        sender_map = monitoring.heatmap(s, actor=scene.sender, process_key="two_lane_review", version=1)
        with pytest.raises(NotFound):
            monitoring.heatmap(s, actor=scene.admin, process_key="two_lane_review", version=9)
    assert admin_map.filename == "two_lane_review.bpmn"
    assert admin_map.version == 1
    assert admin_map.totals() == {"propose": 2, "review": 1}
    assert admin_map.open_instances == 3
    assert sender_map.totals() == {"propose": 1, "review": 1}
    assert sender_map.open_instances == 2


@pytest.mark.usefixtures("frozen")
def test_heatmap_places_message_waits_timers_and_incidents(db: Database, admin: Actor) -> None:
    deploy(db, {"await_confirmation.bpmn": (MESSAGES / "await_confirmation.bpmn").read_bytes()})
    deploy(db, {"waiter.bpmn": intermediate_timer("waiter", "timeDuration", '"PT1H"')})
    deploy(db, {"boom.bpmn": script_process("boom", "x = 1 / 0")})
    org = make_org(db)
    for _ in range(2):
        start(db, admin, "await_confirmation", {"sending": org.id}, mobility_id="M-1")
    start(db, admin, "waiter", {})
    start(db, admin, "boom", {})
    with db.transaction(write=False) as s:
        messages = monitoring.heatmap(s, actor=admin, process_key="await_confirmation")
        timers = monitoring.heatmap(s, actor=admin, process_key="waiter")
        failed = monitoring.heatmap(s, actor=admin, process_key="boom")
    assert [(c.element_id, c.kind, c.count) for c in messages.cells] == [("confirmation", "message", 2)]
    assert [(c.element_id, c.kind, c.count) for c in timers.cells] == [("wait", "timer", 1)]
    assert timers.unplaced_timers == 0
    assert [(c.element_id, c.kind, c.count) for c in failed.cells] == [("script", "incident", 1)]


def test_definitions_overview_counts_instances_per_version(db: Database, scene: Scene) -> None:
    changed = TWO_LANE["two_lane_review.bpmn"].replace(b'name="Review placement"', b'name="Review the placement"')
    deploy(db, {"two_lane_review.bpmn": changed})
    with db.transaction() as s:
        operations.terminate(s, actor=scene.admin, instance_id=scene.i1)
    with db.transaction(write=False) as s:
        overview = monitoring.definitions_overview(s)
        with pytest.raises(NotFound):
            monitoring.definitions_overview(s, key="nope")
        on_v1 = monitoring.instances_of_version(s, actor=scene.sender, process_key="two_lane_review", version=1)
    (process,) = overview
    assert process.key == "two_lane_review"
    assert [v.version for v in process.versions] == [1, 2]
    assert [(v.instances, v.open_instances) for v in process.versions] == [(4, 2), (0, 0)]
    assert process.latest.files == ["two_lane_propose.json", "two_lane_review.bpmn", "two_lane_review.json"]
    assert {i.id for i in on_v1} == {scene.i1, scene.i2, scene.i4}
    assert all(i.status != InstanceStatus.RUNNING for i in on_v1)


def test_parties_of_names_each_role(db: Database, scene: Scene) -> None:
    with db.transaction(write=False) as s:
        parties = monitoring.parties_of(s, actor=scene.sender, instance_id=scene.i1)
    assert [(p["role"], p["lane"]) for p in parties] == [("hosting", "Hosting organisation"),
                                                          ("sending", "Sending organisation")]
    assert parties[1]["organisation"]["name"].startswith("Berufsschule")


def test_instance_overview_names_assignees_and_actors(db: Database, scene: Scene) -> None:
    with db.transaction(write=False) as s:
        overview = monitoring.instance_overview(s, actor=scene.sender, instance_id=scene.i2)
        with pytest.raises(NotFound):
            monitoring.instance_overview(s, actor=scene.outsider, instance_id=scene.i2)
    (task,) = overview.ready_tasks
    assert task["name"] == "Review placement"
    assert task["assignee"].startswith("Empresa")
    assert task["overdue"] is False
    assert task["actionable"] is False
    completed = next(e for e in overview.audit if e["action"] == "task.completed")
    assert completed["actor"].startswith("user")
    assert completed["detail"]["bpmn_id"] == "propose"
    assert overview.highlights.ids("active") == ["review"]
    assert overview.process_name == "Two-lane review"
    assert overview.highlights.names["review"] == "Review placement"


def test_heatmap_opens_on_the_newest_version_with_open_instances(db: Database, scene: Scene) -> None:
    changed = TWO_LANE["two_lane_review.bpmn"].replace(b'name="Review placement"', b'name="Review the placement"')
    deploy(db, {"two_lane_review.bpmn": changed})  # version 2: nothing runs on it yet
    with db.transaction(write=False) as s:
        assert monitoring.busiest_version(s, actor=scene.admin, process_key="two_lane_review") == 1
        assert monitoring.heatmap(s, actor=scene.admin, process_key="two_lane_review").version == 1
        assert monitoring.heatmap(s, actor=scene.admin, process_key="two_lane_review", version=2).version == 2
        assert monitoring.busiest_version(s, actor=scene.admin, process_key="nothing_runs") is None
