"""engine/bundle/camunda.py: Camunda models translated at deploy (timer literals, simple JUEL), reported
(forms, assignees) or refused with the element and the reason (Java, JavaScript, listeners)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import instances
from engine.bundle import parse_bundle
from engine.bundle.camunda import JuelUnsupportedError, juel_to_python, timer_literal
from engine.db import Database
from engine.models import HumanTask
from engine.parties import Actor
from tests.support.bundles import errors_of
from tests.support.engine import deploy

CAMUNDA_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'id="defs" targetNamespace="http://bpmn.io/schema/bpmn">'
)


def camunda_process(body: str, key: str = "loan") -> bytes:
    return (CAMUNDA_HEADER + f'<bpmn:process id="{key}" isExecutable="true">{body}</bpmn:process>'
            "</bpmn:definitions>").encode()


def gateway(condition: str) -> bytes:
    """start -> exclusive gateway: `condition` -> 'big', otherwise -> 'small'."""
    return camunda_process(f"""
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:exclusiveGateway id="gw" default="f_small"><bpmn:incoming>f0</bpmn:incoming>
  <bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:userTask id="big" camunda:candidateGroups="management"><bpmn:incoming>f_big</bpmn:incoming>
  <bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
<bpmn:userTask id="small" camunda:formKey="embedded:app:forms/small.html"><bpmn:incoming>f_small</bpmn:incoming>
  <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>
<bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="big">
  <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_small" sourceRef="gw" targetRef="small"/>
<bpmn:sequenceFlow id="f1" sourceRef="big" targetRef="end"/>
<bpmn:sequenceFlow id="f2" sourceRef="small" targetRef="end"/>""")


@pytest.mark.parametrize(("juel", "python"), [
    ("${approved}", "approved"),
    ("${amount > 1000}", "amount > 1000"),
    ("${status == 'ok'}", "status == 'ok'"),
    ("#{!approved && amount ge 10}", "not approved and amount >= 10"),
    ("${empty comment || score lt 5.5}", "not comment or score < 5.5"),
    ("${x == null}", "x == None"),
    ("${(a or b) and not c}", "(a or b) and not c"),
])
def test_simple_juel_becomes_python(juel: str, python: str) -> None:
    assert juel_to_python(juel) == python


@pytest.mark.parametrize(("juel", "reason"), [
    ("${customer.age > 21}", "property or method access"),
    ("${execution.getVariable('x')}", "a variable of Camunda's Java engine"),
    ("${nrOfCompletedInstances >= 2}", "'nrOfCompletedInstances' is a variable of Camunda's Java engine"),
    ("${isBig(amount)}", "function call 'isBig(...)'"),
    ("${a ? b : c}", "?:"),
    ("amount > ${limit}", "whole expression"),
    ("${}", "empty"),
])
def test_other_juel_is_refused_with_the_reason(juel: str, reason: str) -> None:
    with pytest.raises(JuelUnsupportedError, match=reason.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        juel_to_python(juel)


def test_python_is_not_juel() -> None:
    assert juel_to_python("amount > 1000") is None


@pytest.mark.parametrize("text", ["PT5M", "R/PT10S", "R3/PT1H", "P1DT2H", "2026-01-01T09:00:00Z",
                                  "R/2026-01-01T09:00:00Z/P1D", " PT0.5S "])
def test_iso_8601_literals_are_read_as_strings(text: str) -> None:
    assert timer_literal(text) == repr(text.strip())


@pytest.mark.parametrize("text", ['"PT5M"', "delay", "P", "PT", "0 0/5 * * * ?"])
def test_anything_else_is_no_timer_literal(text: str) -> None:
    assert timer_literal(text) is None


def test_a_camunda_model_deploys_with_its_translations_reported() -> None:
    parsed = parse_bundle({"loan.bpmn": gateway("${amount > 1000}")}).processes[0]
    assert parsed.roles == {"management": "management"}
    assert {t.bpmn_id: t.role for t in parsed.user_tasks} == {"big": "management", "small": None}
    messages = {w.element_id: w.message for w in parsed.warnings}
    assert messages["f_big"] == "JUEL condition ${amount > 1000} is run as the Python condition: amount > 1000"
    assert "camunda:formKey" in messages["small"]
    assert "person who started the instance" not in messages["small"]  # no lanes: nothing to warn about


def test_unquoted_timer_literal_is_translated() -> None:
    bpmn = camunda_process("""
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT5M</bpmn:timeDuration>
  </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="end"/>""", key="waits")
    parsed = parse_bundle({"waits.bpmn": bpmn}).processes[0]
    assert [(w.element_id, w.message) for w in parsed.warnings] == [
        ("wait", "timeDuration PT5M is read as the string 'PT5M' (Camunda's unquoted ISO 8601)")]
    assert parsed.spec.task_specs["wait"].event_definition.expression == "'PT5M'"


def test_what_needs_camundas_java_engine_is_refused_with_file_element_and_reason() -> None:
    bpmn = camunda_process("""
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:serviceTask id="charge" camunda:class="org.example.ChargeCard"><bpmn:incoming>f0</bpmn:incoming>
  <bpmn:outgoing>f1</bpmn:outgoing></bpmn:serviceTask>
<bpmn:scriptTask id="greet" scriptFormat="javascript"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  <bpmn:script>print("hi");</bpmn:script></bpmn:scriptTask>
<bpmn:serviceTask id="fetch" camunda:type="external" camunda:topic="fetch"><bpmn:incoming>f2</bpmn:incoming>
  <bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>
<bpmn:endEvent id="end">
  <bpmn:extensionElements><camunda:executionListener class="org.example.Done" event="end"/></bpmn:extensionElements>
  <bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="charge"/>
<bpmn:sequenceFlow id="f1" sourceRef="charge" targetRef="greet"/>
<bpmn:sequenceFlow id="f2" sourceRef="greet" targetRef="fetch"/>
<bpmn:sequenceFlow id="f3" sourceRef="fetch" targetRef="end"/>""")
    errors = errors_of({"loan.bpmn": bpmn})
    found = {e.element_id: e.message for e in errors}
    assert {e.file for e in errors} == {"loan.bpmn"}
    assert all(e.line for e in errors)
    assert len(errors) == 4  # one reason per element, not SpiffWorkflow's follow-ups ("must have an operator")
    assert "calls a Java class (org.example.ChargeCard), which needs Camunda's Java engine" in found["charge"]
    assert found["greet"] == "script task 'greet' is written in javascript: only Python scripts run here"
    assert "external task" in found["fetch"]
    assert "executionListener" in found["end"]


def test_juel_beyond_the_simple_forms_is_refused_on_its_flow() -> None:
    (error,) = errors_of({"loan.bpmn": gateway("${customer.prop('age') > 21}")})
    assert (error.file, error.element_id) == ("loan.bpmn", "f_big")
    assert error.message.startswith("JUEL condition ${customer.prop('age') > 21} cannot run here: property or "
                                    "method access is not translated")


def _ready(db: Database, instance_id: str) -> list[tuple[str, Any, Any, Any]]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        return [(r.bpmn_id, r.role, r.organisation_id, r.user_id) for r in rows]


def test_a_translated_juel_condition_routes_the_instance(db: Database, admin: Actor, member: tuple[Actor, int]
                                                          ) -> None:
    (deployed,) = deploy(db, {"loan.bpmn": gateway("${amount &gt; 1000 &amp;&amp; !rejected}")})
    assert deployed.definition.warnings[0]["message"].endswith("amount > 1000 and not rejected")
    _actor, org_id = member
    with db.transaction() as s:
        big = instances.start(s, actor=admin, process_key="loan", parties={"management": org_id},
                              variables={"amount": 1500, "rejected": False}).id
        small = instances.start(s, actor=admin, process_key="loan", parties={"management": org_id},
                                variables={"amount": 10, "rejected": False}).id
    assert _ready(db, big) == [("big", "management", org_id, None)]
    assert _ready(db, small) == [("small", None, None, admin.user_id)]  # no lane: the initiator's
