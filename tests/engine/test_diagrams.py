"""engine/diagrams.py: which file draws a process, and the state of each element of one instance."""
from __future__ import annotations

import pytest

from bench.generate import script_process
from engine import deployments, monitoring
from engine.config import ROOT
from engine.db import Database
from engine.errors import NotFound
from engine.parties import Actor
from tests.support.bpmn import intermediate_timer
from tests.support.engine import deploy
from tests.support.monitoring import T0, USES_TABLE, Scene, start

__all__ = ["T0"]  # the frozen fixture starts the clock at the module's T0


def test_element_states_highlight_completed_active_and_taken_flows(db: Database, scene: Scene) -> None:
    with db.transaction(write=False) as s:
        highlights = monitoring.element_states(s, actor=scene.sender, instance_id=scene.i2)
        done = monitoring.element_states(s, actor=scene.admin, instance_id=scene.i4)
        with pytest.raises(NotFound):
            monitoring.element_states(s, actor=scene.outsider, instance_id=scene.i2)
    assert highlights.ids("completed") == ["StartEvent_proposal", "propose"]
    assert highlights.ids("active") == ["review"]
    assert highlights.flows_taken == ["Flow_to_propose", "Flow_to_review"]
    assert highlights.filename == "two_lane_review.bpmn"
    assert set(done.ids("completed")) == {"StartEvent_proposal", "propose", "review", "Gateway_accepted",
                                         "EndEvent_accepted"}
    assert "Flow_accepted" in done.flows_taken
    assert "Flow_rejected" not in done.flows_taken


@pytest.mark.usefixtures("frozen")
def test_element_states_show_failed_and_waiting_elements(db: Database, admin: Actor) -> None:
    deploy(db, {"boom.bpmn": script_process("boom", "x = 1 / 0")})
    deploy(db, {"waiter.bpmn": intermediate_timer("waiter", "timeDuration", '"PT1H"')})
    boom = start(db, admin, "boom", {})
    wait = start(db, admin, "waiter", {})
    with db.transaction(write=False) as s:
        failed = monitoring.element_states(s, actor=admin, instance_id=boom)
        waiting = monitoring.element_states(s, actor=admin, instance_id=wait)
    assert failed.ids("failed") == ["script"]
    assert failed.ids("completed") == ["start"]
    assert waiting.ids("waiting") == ["wait"]
    assert waiting.flows_taken == ["f1"]


@pytest.mark.usefixtures("admin")
def test_diagram_file_is_the_bpmn_that_defines_the_process(db: Database) -> None:
    bundle = {name: (ROOT / "processes" / name).read_bytes() for name in ("national_models.dmn",)} | {
        USES_TABLE.name: USES_TABLE.read_bytes()}
    deploy(db, bundle)
    with db.transaction(write=False) as s:
        definition = deployments.get_definition(s, key="uses_national_model")
        assert monitoring.diagram_file(s, definition) == "uses_national_model.bpmn"
        assert sorted(f.filename for f in definition.files) == ["national_models.dmn", "uses_national_model.bpmn"]
