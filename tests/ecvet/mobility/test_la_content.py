"""The Learning Agreement's text (ecvet/mobility/la_content.py): every template field is part of the signed
text, learning outcomes are required per unit and come from the MoU or its qualification when left out."""
from __future__ import annotations

from typing import Any

import pytest

from ecvet import evidence
from ecvet.mobility import learning_agreement
from ecvet.qualification import service as qualifications
from engine.db import Database
from engine.errors import Invalid
from tests.support.learning_agreement_case import CONTENT, TEMPLATE_CONTENT, make_case


def test_every_template_field_is_kept_in_the_signed_text(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare(TEMPLATE_CONTENT)
    state = case.state(la_id)
    content = state["content"]
    for name in ("mobility_identifier", "project_code", "learner_contact", "contact_persons",
                 "qualification_details", "annexes"):
        assert content[name] == TEMPLATE_CONTENT[name]
    assert content["assessment"]["where"] == "Hotel kitchen in Brussels"
    assert content["assessment"]["criteria"] == TEMPLATE_CONTENT["assessment"]["criteria"]
    assert [p["function"] for p in content["validation_and_recognition"]["responsible"]] == ["validation",
                                                                                            "recognition"]
    assert content["units"][0]["parts"] == ["Cold starters and salads"]
    assert case.digest(la_id) == evidence.content_hash(content)


def test_a_new_mobility_id_is_a_new_text_to_sign(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare(TEMPLATE_CONTENT)
    before = case.digest(la_id)
    with db.transaction() as s:
        version = learning_agreement.change(s, actor=case.sending.actor, la_id=la_id,
                                            sections={"mobility_identifier": "MOB-2027-000999"},
                                            reason="The Beneficiary Module gave a new Mobility ID")
        assert (version.number, version.changes[0]["section"]) == (2, "mobility_identifier")
    assert case.digest(la_id) != before


@pytest.mark.parametrize(("change", "field"), [
    ({"learner_contact": {"gender": "unknown"}}, "learner_contact.gender"),
    ({"qualification_details": {"partnership_language": "French"}}, "qualification_details.partnership_language"),
    ({"validation_and_recognition": {"responsible": [{"role": "board"}]}}, "validation_and_recognition.responsible.0"),
    ({"annexes": {"europass_cv": "yes"}}, "annexes.europass_cv"),
])
def test_template_fields_are_checked(db: Database, change: dict[str, Any], field: str) -> None:
    case = make_case(db)
    with pytest.raises(Invalid) as refused:
        case.prepare({**CONTENT, **change})
    assert field in refused.value.errors


def test_a_unit_without_learning_outcomes_anywhere_is_refused(db: Database) -> None:
    case = make_case(db, mou_content={"qualifications": [{"title": "Cook", "units": [
        {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12}]}]})
    with pytest.raises(Invalid) as refused:
        case.prepare({"units": [{"code": "U1"}]})
    assert "units.0.learning_outcomes" in refused.value.errors
    la_id = case.prepare({"units": [{"code": "U1", "learning_outcomes": ["Prepares cold starters"]}]})
    assert case.state(la_id)["content"]["units"][0]["learning_outcomes"] == ["Prepares cold starters"]


def test_learning_outcomes_come_from_the_qualification_unit_with_their_kind(db: Database) -> None:
    with db.transaction() as s:
        cook = qualifications.register(s, actor=None, title="Cook", country="NL", eqf_level=4, units=[
            {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "learning_outcomes": [
                {"kind": "knowledge", "text": "Knows the hygiene rules for cold food"},
                {"kind": "skills", "text": "Prepares cold starters following the recipe"}]}])
        entry = qualifications.mou_entry(cook)
    case = make_case(db, mou_content={"qualifications": [entry]})
    la_id = case.prepare({"units": [{"code": "U1"}]})
    assert case.state(la_id)["content"]["units"][0]["learning_outcomes"] == [
        {"kind": "knowledge", "text": "Knows the hygiene rules for cold food"},
        {"kind": "skills", "text": "Prepares cold starters following the recipe"}]


def test_an_esco_skill_of_the_qualification_goes_through_the_mou_into_the_agreement(db: Database) -> None:
    esco = "http://data.europa.eu/esco/skill/0b5d7a2c-1f4e-4c8a-9f3d-2e6b8a7c5d41"
    with db.transaction() as s:
        cook = qualifications.register(s, actor=None, title="Cook", country="NL", eqf_level=4, units=[
            {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "learning_outcomes": [
                {"kind": "skills", "text": "Prepares cold starters following the recipe", "esco_skill": esco}]}])
        entry = qualifications.mou_entry(cook)
    assert entry["units"][0]["learning_outcomes"][0]["esco_skill"] == esco
    case = make_case(db, mou_content={"qualifications": [entry]})
    la_id = case.prepare({"units": [{"code": "U1"}]})
    assert case.state(la_id)["content"]["units"][0]["learning_outcomes"] == [
        {"kind": "skills", "text": "Prepares cold starters following the recipe", "esco_skill": esco}]
    with pytest.raises(Invalid) as refused:  # an outcome typed into the agreement: an ESCO URI or nothing
        case.prepare({"units": [{"code": "U1", "learning_outcomes": [
            {"text": "Plates starters", "esco_skill": "https://example.org/skills/plating"}]}]})
    assert any(key.startswith("units.0.learning_outcomes.0") for key in refused.value.errors)
