"""engine/clock.py: one clock for the engine and for SpiffWorkflow's timers, which tests move."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine import clock, timers
from engine.clock import Clock, FrozenClock
from engine.scripting import SandboxedScriptEngine
from tests.support.bpmn import intermediate_timer

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_a_frozen_clock_moves_only_when_told() -> None:
    frozen = FrozenClock(T0)
    assert frozen.now() == T0
    assert frozen.now() == T0
    assert frozen.advance(hours=2) == T0 + timedelta(hours=2)
    assert frozen.advance(timedelta(minutes=1)) == T0 + timedelta(hours=2, minutes=1)
    frozen.set(T0)
    assert frozen.now() == T0


def test_the_real_clock_tells_utc() -> None:
    assert Clock().now().tzinfo is UTC


def test_use_installs_a_clock_for_the_engine_and_hands_back_the_previous_one() -> None:
    frozen = FrozenClock(T0)
    previous = clock.use(frozen)
    try:
        assert clock.now() == T0
        frozen.advance(days=1)
        assert clock.now() == T0 + timedelta(days=1)
    finally:
        assert clock.use(previous) is frozen


def test_spiffworkflow_timers_read_the_engines_clock() -> None:
    """A duration timer's deadline is counted from our clock, not the machine's."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(intermediate_timer("wait", "timeDuration", '"PT1H"'), filename="wait.bpmn")
    previous = clock.use(FrozenClock(T0))
    try:
        workflow = BpmnWorkflow(parser.get_spec("wait"), script_engine=SandboxedScriptEngine())
        workflow.do_engine_steps()
        assert timers.next_due(workflow) == T0 + timedelta(hours=1)
    finally:
        clock.use(previous)
