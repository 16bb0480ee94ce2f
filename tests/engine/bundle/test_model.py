"""engine/bundle/model.py: what a bundle yields, and the errors it is refused with."""
from __future__ import annotations

import pytest

from engine.bundle import BundleError, BundleInvalid, StartRule, parse_bundle
from engine.errors import Invalid


def test_bundle_invalid_is_an_engine_invalid_with_a_summary() -> None:
    with pytest.raises(Invalid) as info:
        parse_bundle({})
    assert isinstance(info.value, BundleInvalid)
    assert info.value.status == 422
    assert "1 problem" in info.value.message
    assert info.value.errors[0].to_dict() == {
        "file": None, "element_id": None, "message": "the bundle is empty", "line": None,
    }


def test_a_bundle_error_says_where_in_one_line() -> None:
    assert str(BundleError("p.bpmn", "task_1", "no form", 12)) == "p.bpmn:12 [task_1]: no form"
    assert str(BundleError("p.bpmn", None, "not XML")) == "p.bpmn: not XML"
    assert str(BundleError(None, None, "the bundle is empty")) == "bundle: the bundle is empty"


def test_bundle_invalid_counts_and_quotes_the_first_of_several_problems() -> None:
    errors = [BundleError("a.bpmn", None, "first"), BundleError("b.dmn", "d", "second")]
    refused = BundleInvalid(errors)
    assert refused.message == "bundle is invalid: 2 problems; first: a.bpmn: first"
    assert refused.errors == errors


def test_a_start_rule_describes_who_starts() -> None:
    assert StartRule().describe() == "any party that binds itself to one of its roles"
    assert StartRule(platform_only=True).describe() == "the platform only (a message another instance throws)"
    assert StartRule(roles=("sending", "hosting")).describe() == \
        "members of the organisation bound to 'sending' or 'hosting'"
