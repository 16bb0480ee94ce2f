"""A DMN-only bundle: one decision table of our own, deployed and evaluated without a process."""
from __future__ import annotations


def grade_table(pass_mark: int = 50, key: str = "grade_of") -> bytes:
    """Decision ``key``: (score) >= pass_mark -> "pass", else "fail"."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d_{key}" name="Grades" namespace="ecvet">
  <decision id="{key}" name="Grade">
    <decisionTable id="t_{key}" hitPolicy="FIRST">
      <input id="in_score" label="Score"><inputExpression id="ie_score" typeRef="integer"><text>(score)</text>
      </inputExpression></input>
      <output id="out_grade" label="Grade" name="grade" typeRef="string"/>
      <rule id="r_pass"><inputEntry id="ie_pass"><text>&gt;= {pass_mark}</text></inputEntry>
        <outputEntry id="oe_pass"><text>"pass"</text></outputEntry></rule>
      <rule id="r_fail"><inputEntry id="ie_fail"><text>-</text></inputEntry>
        <outputEntry id="oe_fail"><text>"fail"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>""".encode()
