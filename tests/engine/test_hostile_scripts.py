"""Hostile scripts and expressions against a real database: each becomes an incident with a clear
message, the instance state stays small, and the engine (and a real `ecvet worker`) goes on."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select

from bench.generate import NS, script_process
from engine import execution, instances, tasks
from engine.config import ROOT, load_settings
from engine.db import Database
from engine.models import HumanTask, Incident, InstanceStatus, Job, JobStatus, ProcessInstance
from engine.parties import Actor
from engine.sandbox import pool
from engine.sandbox.pool import Limits
from tests.support.attacks import (
    ALIASED_TASK_DATA,
    CPU_BOMB,
    CPU_BOMB_AS_REPORTED,
    CPU_BOMB_EXPRESSION,
    FSTRING_BOMB,
    MRO_ESCAPE,
    PERCENT_BOMB,
    STR_BOMB,
    TASK_DATA_BOMB,
)
from tests.support.bpmn import intermediate_timer
from tests.support.engine import deploy

ATTACKS = [
    pytest.param(MRO_ESCAPE, "Access to 'mro' is not allowed in scripts", id="mro"),
    pytest.param(CPU_BOMB_AS_REPORTED, "too long", id="cpu-as-reported"),
    pytest.param(CPU_BOMB, r"Script exceeded its time limit of 1\.0 s", id="cpu-c-level"),
    pytest.param(FSTRING_BOMB, "formatted text too long", id="memory-fstring"),
    pytest.param(PERCENT_BOMB, "formatted text too long", id="memory-percent"),
    pytest.param(TASK_DATA_BOMB, "too long", id="task-data"),
    pytest.param(ALIASED_TASK_DATA, "larger than the limit of 1048576 characters of JSON", id="task-data-aliased"),
]
# The instance state holds at most what a script may leave (its partial writes included) plus the rest.
STATE_BOUND = load_settings().script_max_data_bytes + 100_000


def condition_process(key: str, condition: str) -> bytes:
    """start -> exclusive gateway on `condition` -> user task 'yes' or 'no' -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="defs_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="yes"><bpmn:incoming>f2</bpmn:incoming></bpmn:userTask>
    <bpmn:userTask id="no"><bpmn:incoming>f3</bpmn:incoming></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="yes">
      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="no"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def _start(db: Database, admin: Actor, key: str, files: dict[str, bytes], **variables: Any) -> str:
    deploy(db, files)
    with db.transaction() as s:
        return instances.start(s, actor=admin, process_key=key, parties={}, variables=variables).id


def _outcome(db: Database, instance_id: str) -> tuple[str, list[str], int, list[str]]:
    with db.transaction(write=False) as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None
        messages = list(s.scalars(select(Incident.message).where(Incident.instance_id == instance_id)))
        tasks = list(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id)))
        return instance.status, messages, len(instance.state), tasks


@pytest.fixture
def engine_limits() -> Iterator[None]:
    """Restore the engine's script settings after a test changed them."""
    yield
    execution.configure(time_limit=load_settings().script_time_limit)
    pool.reset()


@pytest.mark.parametrize(("script", "message"), ATTACKS)
def test_hostile_script_becomes_an_incident_and_the_next_instance_runs(
    db: Database, admin: Actor, script: str, message: str
) -> None:
    execution.configure(time_limit=1.0)
    hostile = _start(db, admin, "hostile", {"hostile.bpmn": script_process("hostile", script)})
    status, incidents, state_size, tasks = _outcome(db, hostile)
    assert status == InstanceStatus.ERROR
    assert tasks == []
    assert len(incidents) == 1, incidents
    assert re.search(message, incidents[0]), incidents
    assert state_size < STATE_BOUND  # nothing past the limit reached the instance state
    fine = _start(db, admin, "fine", {"fine.bpmn": script_process("fine", "total = 40 + 2")})
    assert _outcome(db, fine)[0] == InstanceStatus.WAITING
    assert _outcome(db, fine)[3] == ["check"]


@pytest.mark.usefixtures("engine_limits")
def test_memory_bomb_becomes_an_incident(db: Database, admin: Actor) -> None:
    pool.configure(limits=Limits(memory_mb=200))
    execution.configure(time_limit=30.0)
    hostile = _start(db, admin, "hostile", {"hostile.bpmn": script_process("hostile", STR_BOMB)})
    status, incidents, state_size, _tasks = _outcome(db, hostile)
    assert status == InstanceStatus.ERROR
    assert state_size < STATE_BOUND
    assert incidents == [incidents[0]]
    assert "Script exceeded its memory limit of 200 MB" in incidents[0]


@pytest.mark.usefixtures("engine_limits")
def test_hostile_condition_becomes_an_incident(db: Database, admin: Actor) -> None:
    execution.configure(time_limit=0.5)
    hostile = _start(db, admin, "gate", {"gate.bpmn": condition_process("gate", CPU_BOMB_EXPRESSION)})
    status, incidents, _size, tasks = _outcome(db, hostile)
    assert status == InstanceStatus.ERROR
    assert tasks == []
    assert len(incidents) == 1
    assert "Script exceeded its time limit of 0.5 s" in incidents[0]


@pytest.mark.usefixtures("engine_limits")
def test_hostile_timer_expression_becomes_an_incident(db: Database, admin: Actor) -> None:
    execution.configure(time_limit=0.5)
    xml = intermediate_timer("clock", "timeDuration", CPU_BOMB_EXPRESSION.replace("==", "!=") + " and 'PT1S'")
    hostile = _start(db, admin, "clock", {"clock.bpmn": xml})
    status, incidents, _size, tasks = _outcome(db, hostile)
    assert status == InstanceStatus.ERROR
    assert tasks == []
    assert len(incidents) == 1
    assert "Script exceeded its time limit of 0.5 s" in incidents[0]


def test_simple_conditions_still_choose_the_path(db: Database, admin: Actor) -> None:
    taken = _start(db, admin, "gate", {"gate.bpmn": condition_process("gate", "score >= 50")}, score=70)
    assert _outcome(db, taken)[3] == ["yes"]


def test_an_exception_spiff_raises_itself_is_an_incident_not_a_crash(
    db: Database, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not every failure inside SpiffWorkflow is a SpiffWorkflowException (AttributeError, TypeError...).
    def broken(_self: Any) -> None:
        raise AttributeError("'NoneType' object has no attribute 'bpmn_id'")

    iid = _start(db, admin, "fine", {"fine.bpmn": script_process("fine", "x = 1")})
    monkeypatch.setattr(BpmnWorkflow, "do_engine_steps", broken)
    with db.transaction() as s:
        [check] = instances.ready_tasks(s, s.get_one(ProcessInstance, iid))
        tasks.complete(s, actor=admin, task_id=check.id, data={}, on_behalf=True)
    status, incidents, _size, _tasks = _outcome(db, iid)
    assert status == InstanceStatus.ERROR
    assert incidents == ["AttributeError: 'NoneType' object has no attribute 'bpmn_id'"]


# -- a real worker process survives every attack and runs later jobs ----------------------------------


def test_worker_survives_every_hostile_script_and_runs_later_jobs(db_url: str, admin: Actor) -> None:
    db = Database(db_url)
    scripts = [str(param.values[0]) for param in ATTACKS] + [STR_BOMB]
    hostile_ids = []
    for index, script in enumerate(scripts):
        key = f"hostile{index}"
        xml = _timer_then_script(key, script)
        hostile_ids.append(_start(db, admin, key, {f"{key}.bpmn": xml}))
    env = {**os.environ, "DATABASE_URL": db.url, "PYTHONPATH": str(ROOT), "ECVET_SCRIPT_TIME_LIMIT": "1.0"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--poll", "0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: all(_outcome(db, iid)[0] == InstanceStatus.ERROR for iid in hostile_ids), proc)
        assert proc.poll() is None, "the worker exited"
        # A job created after all the attacks ran: the same worker process runs it.
        later = _start(db, admin, "later", {"later.bpmn": _timer_then_script("later", "x = 'still working'")})
        _wait(lambda: _outcome(db, later)[3] == ["check"], proc)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0  # stopped by SIGTERM, gracefully
    for iid in hostile_ids:
        status, incidents, state_size, _tasks = _outcome(db, iid)
        assert status == InstanceStatus.ERROR
        assert len(incidents) == 1
        assert state_size < STATE_BOUND
    with db.transaction(write=False) as s:
        assert not list(s.scalars(select(Job).where(Job.status == JobStatus.RUNNING)))
    db.dispose()


def _timer_then_script(key: str, script: str) -> bytes:
    """start -> timer 'PT1S' (so the worker, not the test, runs what follows) -> script -> 'check' -> end."""
    xml = script_process(key, script).decode()
    timer = ('<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f0'
             '</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>"PT1S"</bpmn:timeDuration>'
             '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
             '<bpmn:sequenceFlow id="f0" sourceRef="wait" targetRef="script"/>')
    xml = xml.replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>',
                      '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>' + timer)
    old = "<bpmn:incoming>f1</bpmn:incoming>\n      <bpmn:outgoing>f2"
    return xml.replace(old, "<bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f2").encode()


def _wait(condition: Any, proc: subprocess.Popen[bytes], seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited with {proc.returncode}")
        time.sleep(0.2)
    raise AssertionError("the worker did not get there")
