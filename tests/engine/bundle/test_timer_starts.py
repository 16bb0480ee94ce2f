"""engine/bundle/timer_starts.py: a process that starts by itself declares the parties it binds."""
from __future__ import annotations

import pytest

from engine.bundle import BundleInvalid, parse_bundle
from engine.bundle.timer_starts import parse_parties
from tests.support.timer_starts import timer_started


def _errors(xml: bytes) -> list[str]:
    with pytest.raises(BundleInvalid) as refused:
        parse_bundle({"p.bpmn": xml})
    return [e.message for e in refused.value.errors]


def test_parties_are_role_keys_bound_to_organisation_ids() -> None:
    assert parse_parties("sending=3, hosting: 4") == {"sending": 3, "hosting": 4}
    assert parse_parties('{"sending": 3}') == {"sending": 3}
    for bad in ("sending", "sending=x", '{"sending": "3"}', "sending=3,"):
        with pytest.raises(ValueError, match=r"."):
            parse_parties(bad)


def test_a_timer_start_with_lanes_must_declare_its_parties() -> None:
    (message,) = _errors(timer_started("p", "timeCycle", '"R/P1D"'))
    assert "timerStartParties" in message
    assert "sending=<organisation id>" in message
    (message,) = _errors(timer_started("p", "timeCycle", '"R/P1D"', parties="hosting=4"))
    assert "missing ['sending']" in message


def test_a_declared_timer_start_is_read_with_its_parties() -> None:
    (process,) = parse_bundle({"p.bpmn": timer_started("p", "timeCycle", '"R3/PT1H"', parties="sending=3")}).processes
    (start,) = process.timer_starts
    assert (start.element_id, start.kind, start.text, start.parties) == ("tick", "cycle", "R3/PT1H", {"sending": 3})


def test_a_process_without_lanes_needs_no_parties_and_a_bare_iso_text_is_fine() -> None:
    (process,) = parse_bundle({"p.bpmn": timer_started("p", "timeDuration", "PT5M", lanes=False)}).processes
    assert [s.text for s in process.timer_starts] == ["PT5M"]


def test_an_expression_that_is_no_iso_text_is_refused_with_the_element() -> None:
    (message,) = _errors(timer_started("p", "timeDate", "due_date", parties="sending=3"))
    assert "timer start event 'tick'" in message
