"""Scripts in tests: small processes running a script, a condition, a decision or a connector.

SpiffWorkflow and our script engine only, no database.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.scripting import SandboxedScriptEngine

ESCAPE = (
    "x = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
    "[0].__init__.__globals__['environ']"
)
NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://bpmn.io/schema/bpmn"'
)


def xml_escape(text: str) -> str:
    """Text as XML character data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def script_process(script: str) -> str:
    """Process ``proc``: start, a script task ``run`` with ``script``, end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run"/>
    <bpmn:scriptTask id="run" name="Run script">
      <bpmn:script>{xml_escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


GATEWAY_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="to_fail"/>
    <bpmn:sequenceFlow id="to_pass" sourceRef="gw" targetRef="pass">
      <bpmn:conditionExpression>score &gt;= 50 and len([m for m in modules if m]) &gt; 0
      </bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_fail" sourceRef="gw" targetRef="fail"/>
    <bpmn:scriptTask id="pass"><bpmn:script>outcome = 'pass'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="fail"><bpmn:script>outcome = 'fail'</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="pass" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fail" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def service_process(operator: str) -> str:
    """Process ``proc`` calling connector ``operator`` with ``code`` and ``weeks`` parameters."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Call connector">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="answer">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="code" type="str" value="country.upper()"/>
            <spiffworkflow:parameter id="weeks" type="int" value="weeks * 2"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


DECISION_PROCESS = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS}>
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:businessRuleTask id="decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>grant</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def decision_table(first_rule_weeks: str) -> str:
    """DMN decision ``grant``: amount from weeks and country; the first rule's weeks entry as given."""
    rule = '<rule id="{id}"><inputEntry id="{id}a"><text>{weeks}</text></inputEntry>' \
        '<inputEntry id="{id}b"><text>{country}</text></inputEntry>' \
        '<outputEntry id="{id}c"><text>{amount}</text></outputEntry></rule>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="http://x">
  <decision id="grant" name="Grant">
    <decisionTable id="t">
      <input id="i1"><inputExpression id="ie1" typeRef="integer"><text>weeks</text></inputExpression></input>
      <input id="i2"><inputExpression id="ie2" typeRef="string"><text>country</text></inputExpression></input>
      <output id="o1" name="amount" typeRef="integer"/>
      {rule.format(id="r1", weeks=xml_escape(first_rule_weeks), country='"FI"', amount="weeks * 100")}
      {rule.format(id="r2", weeks="? &gt;= 4", country="", amount="weeks * 80")}
    </decisionTable>
  </decision>
</definitions>"""


def make_workflow(
    xml: str, engine: SandboxedScriptEngine | None = None, dmn: str | None = None, **data: Any
) -> BpmnWorkflow:
    """A workflow of process ``proc`` (and decision file ``dmn``), started with ``data``, not yet run."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode(), filename="test.bpmn")
    if dmn is not None:
        parser.add_dmn_str(dmn.encode(), filename="test.dmn")
    workflow = BpmnWorkflow(parser.get_spec("proc"), script_engine=engine or SandboxedScriptEngine())
    workflow.task_tree.data.update(data)
    return workflow


def task_named(workflow: BpmnWorkflow, spec_name: str) -> Any:
    """The first task of that spec."""
    return next(t for t in workflow.get_tasks() if t.task_spec.name == spec_name)


def run_script_task(script: str, engine: SandboxedScriptEngine | None = None, **data: Any) -> BpmnWorkflow:
    """Run a one-script process to its end (or its error)."""
    workflow = make_workflow(script_process(script), engine, **data)
    workflow.do_engine_steps()
    return workflow
