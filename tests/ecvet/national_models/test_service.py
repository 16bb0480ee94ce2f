"""National models are data: the DMN table answers, and redeploying a changed table changes the answer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecvet.national_models.service import SHIPPED_TABLE, decide
from ecvet.partnership import mou
from ecvet.partnership.models import Mou
from engine import deployments, instances
from engine.db import Database
from engine.errors import Invalid
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
