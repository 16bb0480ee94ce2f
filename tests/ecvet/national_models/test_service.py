"""National models are data: the DMN table answers, and redeploying a changed table changes the answer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecvet.national_models.models import CompetenceFunction
from ecvet.national_models.service import (
    SHIPPED_TABLE,
    decide,
    institutions_for,
    list_competences,
    register_competence,
)
from ecvet.partnership import mou
from ecvet.partnership.models import Mou
from engine import deployments, instances
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.execution import open_workflow
from engine.parties import Actor
from tests.support.ecvet_factories import make_party, mou_content, register
from tests.support.engine import FORMS, actor_for
from tests.support.factories import make_user

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ecvet"
LOOKUP = (FIXTURES / "uses_national_model.bpmn").read_bytes()
SHIPPED = SHIPPED_TABLE.read_bytes()


def set_entry(table: bytes, entry_id: str, value: str) -> bytes:
    """Change the text of one input or output entry of the table, as a process owner would."""
    pattern = rf'(<(?:inputEntry|outputEntry) id="{re.escape(entry_id)}">\s*<text>)(.*?)(</text>)'
    changed, count = re.subn(pattern, lambda m: m.group(1) + value + m.group(3), table.decode(), flags=re.S)
    assert count == 1, entry_id
    return changed.encode()


def deploy_table(db: Database, table: bytes) -> deployments.Deployed:
    with db.transaction() as s:
        (deployed,) = deployments.deploy(s, actor=None, files={"national_models.dmn": table,
                                                               "uses_national_model.bpmn": LOOKUP},
                                         forms_dir=FORMS)
    return deployed


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def outputs(country: str, sector: str | None = None, eqf_level: int | None = None, **kw: object) -> tuple:
    m = decide(country, sector, eqf_level, **kw)  # type: ignore[arg-type]
    return (m.model, m.mou_approval, m.mou_approval_days, m.la_approval, m.la_approval_days, m.recognition_by,
            m.validation_recognition_merged)


def test_the_three_illustrative_models_and_the_default() -> None:
    # (a) full provider responsibility
    assert outputs("NL") == ("provider_responsibility", "none", 0, "none", 0, "sending", True)
    # (b) a chamber approves the MoU explicitly and recognises the units
    assert outputs("DE", eqf_level=4) == ("chamber_approval", "explicit", 28, "none", 0, "competent_institution",
                                          False)
    # (c) a regional authority approves Learning Agreements (and MoUs) implicitly after a period
    assert outputs("es") == ("regional_authority", "implicit", 20, "implicit", 10, "sending", False)
    # anything else: only the partners approve
    assert outputs("FR", "hospitality", 3) == ("default", "none", 0, "none", 0, "sending", False)
    # sector rows come first: the crafts chamber also approves each LA
    assert outputs("DE", " Crafts ") == ("chamber_crafts", "explicit", 28, "explicit", 14, "competent_institution",
                                         False)


def test_the_shipped_table_says_it_is_illustrative() -> None:
    text = SHIPPED.decode()
    assert 'hitPolicy="FIRST"' in text
    assert 'decision id="national_model"' in text
    assert "illustrative, not legal advice" in text
    assert text.count("<rule ") == 5


def test_without_a_deployment_the_shipped_table_answers(db: Database) -> None:
    with db.transaction(write=False) as s:
        model = decide("NL", session=s)
    assert model.source == "shipped: processes/national_models.dmn"
    assert model.model == "provider_responsibility"


def test_redeploying_a_changed_table_changes_the_answer(db: Database, admin: Actor) -> None:
    # Version 1: the NL row now also covers BE and asks for an explicit MoU approval.
    table_v1 = set_entry(SHIPPED, "UnaryTests_provider_responsibility_country", 'in ["NL", "BE"]')
    table_v1 = set_entry(table_v1, "LiteralExpression_provider_responsibility_mou_approval", '"explicit"')
    first = deploy_table(db, table_v1)
    assert first.created
    assert first.definition.version == 1
    with db.transaction(write=False) as s:
        nl, be = decide("NL", session=s), decide("BE", session=s)
    assert (nl.model, nl.mou_approval, nl.source) == ("provider_responsibility", "explicit",
                                                       "deployed: uses_national_model v1")
    assert be.model == "provider_responsibility"

    # Version 2: the DE chamber row only applies below EQF level 6; higher levels fall to the default.
    table_v2 = set_entry(table_v1, "UnaryTests_chamber_approval_eqf_level", "&lt; 6")
    second = deploy_table(db, table_v2)
    assert second.created
    assert second.definition.version == 2
    with db.transaction(write=False) as s:
        assert decide("DE", eqf_level=4, session=s).model == "chamber_approval"
        assert decide("DE", session=s).model == "chamber_approval"  # unknown level counts as 0
        higher = decide("DE", eqf_level=6, session=s)
    assert (higher.model, higher.source) == ("default", "deployed: uses_national_model v2")

    # The process that carries the table answers the same through its business rule task.
    with db.transaction() as s:
        instance = instances.start(s, actor=admin, process_key="uses_national_model", parties={},
                                   variables={"country": "DE", "sector": None, "eqf_level": 6})
        last = open_workflow(instance).last_task
        assert last is not None
        data = last.data
    assert instance.status == "completed"
    assert (data["model"], data["mou_approval"]) == (higher.model, higher.mou_approval)


def test_who_must_approve_a_mou_follows_the_deployed_table(db: Database) -> None:
    nl, be = make_party(db, "NL"), make_party(db, "BE")
    nl_ministry = make_party(db, "NL", "Ministerie OCW")
    register(db, nl_ministry.org_id, "NL")
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=nl.actor, sending_organisation_id=nl.org_id, content=mou_content(nl, be))
    with db.transaction(write=False) as s:
        assert mou.required_approvals(s.get_one(Mou, memorandum.id)) == [(nl.org_id, "partner"), (be.org_id, "partner")]
    deploy_table(db, set_entry(SHIPPED, "LiteralExpression_provider_responsibility_mou_approval", '"explicit"'))
    with db.transaction(write=False) as s:
        assert mou.required_approvals(s.get_one(Mou, memorandum.id)) == [
            (nl.org_id, "partner"), (be.org_id, "partner"), (nl_ministry.org_id, "competent_institution"),
        ]


def test_an_answer_the_services_cannot_use_is_refused_naming_the_column() -> None:
    broken = set_entry(SHIPPED, "LiteralExpression_provider_responsibility_mou_approval", '"maybe"')
    broken = set_entry(broken, "LiteralExpression_provider_responsibility_validation_recognition_merged", '"yes"')
    with pytest.raises(Invalid) as refused:
        decide("NL", dmn_bytes=broken)
    assert set(refused.value.errors) == {"mou_approval", "validation_recognition_merged"}
    without_default = set_entry(SHIPPED, "UnaryTests_default_country", '"XX"')
    with pytest.raises(Invalid, match="No row"):
        decide("FR", dmn_bytes=without_default)
    assert decide("NL", dmn_bytes=without_default).model == "provider_responsibility"


def test_inputs_are_checked() -> None:
    for country in ("", "DEU", "1A"):
        with pytest.raises(Invalid):
            decide(country)
    with pytest.raises(Invalid):
        decide("DE", eqf_level=9)


def test_a_sector_is_a_code_not_free_text() -> None:
    """"handwerk" no longer falls silently to the general German row: it is refused with the codes."""
    assert outputs("DE", "crafts")[0] == "chamber_crafts"
    assert outputs("DE", " Crafts ")[0] == "chamber_crafts", "codes compare trimmed and lower-cased"
    with pytest.raises(Invalid) as refused:
        decide("DE", "handwerk")
    assert "crafts" in refused.value.errors["sector"][0]
    with pytest.raises(Invalid) as refused:
        decide("ES", region="DE-NW", qualification_system="apprenticeship")
    assert set(refused.value.errors) == {"region", "qualification_system"}


def test_region_and_qualification_system_are_inputs_of_the_table() -> None:
    """A process owner can make a row regional or specific to a qualification system."""
    table = set_entry(SHIPPED, "UnaryTests_regional_authority_region", '"ES-VC"')
    table = set_entry(table, "UnaryTests_chamber_approval_qualification_system", '"dual"')
    valencia = decide("ES", region="es-vc", dmn_bytes=table)
    assert (valencia.model, valencia.region) == ("regional_authority", "ES-VC")
    assert decide("ES", region="ES-CT", dmn_bytes=table).model == "default", "another region: not this row"
    assert decide("ES", dmn_bytes=table).model == "default", "no region known: not a regional row"
    dual = decide("DE", qualification_system="dual", dmn_bytes=table)
    assert (dual.model, dual.qualification_system) == ("chamber_approval", "dual")
    assert decide("DE", qualification_system="school_based", dmn_bytes=table).model == "default"


def test_the_registry_answers_with_the_most_specific_scope(db: Database) -> None:
    valencia, catalonia, ministry = (make_party(db, "ES", name) for name in ("GVA", "Generalitat", "Ministerio"))
    chamber_a, chamber_b = make_party(db, "DE", "HWK A"), make_party(db, "DE", "HWK B")
    register(db, valencia.org_id, "ES", region="ES-VC")
    register(db, catalonia.org_id, "ES", region="ES-CT")
    register(db, ministry.org_id, "ES")
    register(db, chamber_a.org_id, "DE", sector="crafts")
    register(db, chamber_b.org_id, "DE", sector="crafts")
    mou_approval = CompetenceFunction.MOU_APPROVAL
    with db.transaction(write=False) as s:
        def who(country: str, region: str | None = None, sector: str | None = None) -> list[int]:
            return institutions_for(s, country=country, function=mou_approval, region=region, sector=sector)

        assert who("ES", "ES-VC") == [valencia.org_id]
        assert who("ES", "ES-CT") == [catalonia.org_id]
        assert who("ES", "ES-AN") == [ministry.org_id], "no authority of Andalucía: the country-wide one"
        assert who("ES") == [ministry.org_id], "a regional authority never acts for an unknown region"
        assert who("DE", sector="crafts") == [chamber_a.org_id, chamber_b.org_id], "several share one function"
        assert who("DE", sector="hospitality") == []


def test_registering_checks_the_scope_and_records_supporting_actors(db: Database, admin: Actor) -> None:
    agency = make_party(db, "DE", "NA beim BIBB")
    with db.transaction() as s:
        for function in CompetenceFunction.SUPPORTING:
            register_competence(s, actor=admin, organisation_id=agency.org_id, country="DE", function=function)
        with pytest.raises(Invalid) as refused:
            register_competence(s, actor=admin, organisation_id=agency.org_id, country="DE",
                                function=CompetenceFunction.MOU_APPROVAL, region="ES-VC", sector="handwerk")
        assert set(refused.value.errors) == {"region", "sector"}
        register_competence(s, actor=admin, organisation_id=agency.org_id, country="DE",
                            function=CompetenceFunction.MOU_APPROVAL, region="de-by")
        register_competence(s, actor=admin, organisation_id=agency.org_id, country="DE",
                            function=CompetenceFunction.MOU_APPROVAL, region="DE-NW")
        with pytest.raises(Conflict):
            register_competence(s, actor=admin, organisation_id=agency.org_id, country="DE",
                                function=CompetenceFunction.MOU_APPROVAL, region="DE-BY")
    with db.transaction(write=False) as s:
        rows = list_competences(s, actor=admin, country="DE", region="DE-BY")
        assert sorted((r.function, r.region) for r in rows) == [
            ("mou_approval", "DE-BY"), ("national_agency", None), ("national_europass_centre", None)]
