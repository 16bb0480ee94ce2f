"""DMN tables evaluated for the domain through the engine, as a business rule task would."""
from __future__ import annotations

import pytest

from engine import decisions
from engine.config import ROOT
from engine.errors import Invalid

TABLE = (ROOT / "processes" / "national_models.dmn").read_bytes()
ANSWER = {"decision_id": "national_model", "filename": "national_models.dmn"}

SCORE_TABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="grade" name="Grade">
    <decisionTable id="t" hitPolicy="COLLECT">
      <input id="i" label="Score">
        <inputExpression id="ie" typeRef="integer"><text>score</text></inputExpression>
      </input>
      <output id="o" name="grade" typeRef="string" />
      <rule id="r1"><inputEntry id="e1"><text>&gt;= 50</text></inputEntry>
        <outputEntry id="o1"><text>"pass"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="e2"><text>&gt;= 90</text></inputEntry>
        <outputEntry id="o2"><text>"distinction"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


def test_the_first_matching_rule_answers_with_its_outputs() -> None:
    answer = decisions.evaluate(TABLE, inputs={"country": "NL", "sector": None, "eqf_level": 4}, **ANSWER)
    assert answer["mou_approval"] == "none"
    assert answer["recognition_by"] == "sending"
    german = decisions.evaluate(TABLE, inputs={"country": "DE", "sector": None, "eqf_level": 4}, **ANSWER)
    assert german != answer


def test_a_collect_table_lists_every_matching_rule() -> None:
    args = {"decision_id": "grade", "filename": "grade.dmn"}
    assert decisions.evaluate(SCORE_TABLE, inputs={"score": 95}, **args) == {"grade": ["pass", "distinction"]}
    assert decisions.evaluate(SCORE_TABLE, inputs={"score": 10}, **args) == {}


def test_a_rule_failing_on_the_inputs_is_the_tables_problem_not_an_engine_crash() -> None:
    with pytest.raises(Invalid) as caught:
        decisions.evaluate(SCORE_TABLE, inputs={"score": "high"}, decision_id="grade", filename="grade.dmn")
    assert "grade.dmn failed" in caught.value.message


@pytest.mark.parametrize(
    ("content", "decision_id"),
    [(b"<definitions", "grade"), (SCORE_TABLE, "no_such_decision"),
     (b'<!DOCTYPE x [<!ENTITY e "boom">]><definitions>&e;</definitions>', "grade")],
)
def test_a_table_that_cannot_be_read_is_refused_clearly(content: bytes, decision_id: str) -> None:
    with pytest.raises(Invalid):
        decisions.evaluate(content, inputs={"score": 1}, decision_id=decision_id, filename="grade.dmn")
