"""Saving from the modeler: a new version with the rest of the bundle unchanged, or nothing at all."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import deployments, modeling
from engine.config import ROOT
from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import ProcessDefinition
from engine.parties import Actor
from tests.support.engine import FORMS, deploy

PROCESSES = ROOT / "processes"
TWO_LANE = (PROCESSES / "two_lane_review.bpmn").read_bytes()
USES_TABLE = ROOT / "tests" / "fixtures" / "modeling" / "uses_national_model.bpmn"
LIMIT = 20_000_000


def _versions(db: Database, key: str) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count(ProcessDefinition.id)).where(ProcessDefinition.key == key)) or 0


def _save(db: Database, actor: Actor, key: str, xml: bytes) -> list[deployments.Deployed]:
    with db.transaction() as s:
        return modeling.save_diagram(s, actor=actor, key=key, xml=xml, forms_dir=None, max_bundle_bytes=LIMIT)


def test_edited_diagram_becomes_the_next_version_with_its_forms(db: Database, admin: Actor) -> None:
    deploy(db, {"two_lane_review.bpmn": TWO_LANE})
    edited = TWO_LANE.replace(b'name="Review placement"', b'name="Review the placement"')
    (result,) = _save(db, admin, "two_lane_review", edited)
    assert result.created
    assert result.definition.version == 2
    with db.transaction(write=False) as s:
        v2 = deployments.get_definition(s, key="two_lane_review", version=2)
        files = modeling.version_files(s, v2)
        names = [t["name"] for t in v2.user_tasks]
    assert sorted(files) == ["two_lane_propose.json", "two_lane_review.bpmn", "two_lane_review.json"]
    assert files["two_lane_review.bpmn"] == edited
    assert files["two_lane_propose.json"] == (FORMS / "two_lane_propose.json").read_bytes()
    assert names == ["Propose placement", "Review the placement"]
    # the same content again is the same version
    assert not _save(db, admin, "two_lane_review", edited)[0].created


def test_invalid_diagram_stores_nothing_and_names_the_element(db: Database, admin: Actor) -> None:
    deploy(db, {"two_lane_review.bpmn": TWO_LANE})
    broken = TWO_LANE.replace(b'sourceRef="propose" targetRef="review"', b'sourceRef="propose" targetRef="nowhere"')
    with pytest.raises(Invalid) as caught:
        _save(db, admin, "two_lane_review", broken)
    assert any(e["file"] == "two_lane_review.bpmn" for e in caught.value.errors)
    assert _versions(db, "two_lane_review") == 1

    with pytest.raises(Invalid):
        _save(db, admin, "two_lane_review", b"<not xml")
    renamed = TWO_LANE.replace(b'id="two_lane_review"', b'id="another_key"').replace(
        b'processRef="two_lane_review"', b'processRef="another_key"')
    with pytest.raises(Invalid, match="no longer defines"):
        _save(db, admin, "two_lane_review", renamed)
    assert _versions(db, "two_lane_review") == 1
    assert _versions(db, "another_key") == 0


def test_only_admins_save_and_unknown_keys_are_404(db: Database, admin: Actor, member: tuple[Actor, int]) -> None:
    deploy(db, {"two_lane_review.bpmn": TWO_LANE})
    with pytest.raises(Forbidden):
        _save(db, member[0], "two_lane_review", TWO_LANE)
    with pytest.raises(NotFound):
        _save(db, admin, "nope", TWO_LANE)


def _table_bundle() -> dict[str, bytes]:
    return {name: (PROCESSES / name).read_bytes() for name in ("national_models.dmn",)} | {
        USES_TABLE.name: USES_TABLE.read_bytes()}


def test_decision_table_is_saved_with_every_process_using_it(db: Database, admin: Actor) -> None:
    deploy(db, _table_bundle())
    with db.transaction(write=False) as s:
        tables = modeling.decision_tables(s)
        content, users = modeling.decision_table(s, "national_models.dmn")
    assert tables == {"national_models.dmn": ["uses_national_model"]}
    assert content == (PROCESSES / "national_models.dmn").read_bytes()
    assert [u.key for u in users] == ["uses_national_model"]

    edited = content.replace(b"</definitions>", b"<!-- reviewed --></definitions>")
    assert edited != content
    with db.transaction() as s:
        results = modeling.save_decision_table(s, actor=admin, filename="national_models.dmn", xml=edited,
                                               forms_dir=FORMS, max_bundle_bytes=LIMIT)
    assert [(r.definition.key, r.definition.version, r.created) for r in results] == [
        ("uses_national_model", 2, True)]
    with db.transaction(write=False) as s:
        v1 = deployments.get_definition(s, key="uses_national_model", version=1)
        v2 = deployments.get_definition(s, key="uses_national_model", version=2)
        old, new = modeling.version_files(s, v1), modeling.version_files(s, v2)
        assert modeling.decision_table(s, "national_models.dmn")[0] == edited
    assert new["national_models.dmn"] == edited
    assert {k: v for k, v in new.items() if k != "national_models.dmn"} == \
        {k: v for k, v in old.items() if k != "national_models.dmn"}


def test_decision_table_refusals_store_nothing(db: Database, admin: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(db, _table_bundle())

    def refuse(_xml: bytes) -> None:
        raise Invalid("no", errors={"table": ["refused by the domain check"]})

    with db.transaction(write=False) as s:
        content, _ = modeling.decision_table(s, "national_models.dmn")
    with pytest.raises(Invalid), db.transaction() as s:
        modeling.save_decision_table(s, actor=admin, filename="national_models.dmn", xml=b"<definitions",
                                     forms_dir=FORMS, max_bundle_bytes=LIMIT)
    # a domain check registered for the file (engine.deployments.FILE_CHECKS) refuses on this path too
    monkeypatch.setitem(deployments.FILE_CHECKS, "national_models.dmn", refuse)
    with pytest.raises(Invalid, match="no"), db.transaction() as s:
        modeling.save_decision_table(s, actor=admin, filename="national_models.dmn", xml=content,
                                     forms_dir=FORMS, max_bundle_bytes=LIMIT)
    assert _versions(db, "uses_national_model") == 1
    with pytest.raises(NotFound), db.transaction() as s:
        modeling.decision_table(s, "other.dmn")
