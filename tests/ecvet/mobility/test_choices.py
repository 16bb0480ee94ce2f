"""The choice lists the mobility forms pick units and assessors from (spiff dynamic enums)."""
from __future__ import annotations

from ecvet.mobility import service


def test_units_are_picked_by_code_with_their_title() -> None:
    units = [{"code": "U1", "title": "Cold kitchen"}, {"code": "U2", "title": None}, {"title": "no code"}, "U3"]
    assert service.unit_choices(units) == [
        {"value": "U1", "label": "U1 — Cold kitchen"}, {"value": "U2", "label": "U2"}]
    assert service.unit_choices([{"unit": "U4", "title": "Hygiene"}], key="unit") == [
        {"value": "U4", "label": "U4 — Hygiene"}]
    assert service.unit_choices(None) == []


def test_assessors_are_suggested_once_each_from_the_learning_agreement() -> None:
    content = {"assessment": {"assessors": [{"name": "Javier Ruiz"}, {"name": "Javier Ruiz"}, {"name": ""},
                                            {"organisation": "Hotel Sol"}, "x"]}}
    assert service.assessor_choices(content) == [{"value": "Javier Ruiz", "label": "Javier Ruiz"}]
    assert service.assessor_choices({}) == []
    assert service.assessor_choices(None) == []
