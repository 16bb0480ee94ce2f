"""Versioning by content hash, refused bundles storing nothing, files kept per version."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.generate import sequential_process
from engine import deployments, instances
from engine.db import Database
from engine.errors import Forbidden, Invalid
from engine.models import AuditEvent, FileBlob, ProcessDefinition
from engine.parties import Actor
from tests.support.bundles import process, user_task
from tests.support.engine import deploy
from tests.support.factories import make_org
from tests.support.scripts import DECISION_PROCESS, decision_table


def count(db: Database, model: type) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_identical_content_returns_existing_version_changed_content_makes_next(db: Database) -> None:
    first = deploy(db, {"p.bpmn": sequential_process("p", 3)})
    assert [(d.definition.key, d.definition.version, d.created) for d in first] == [("p", 1, True)]
    again = deploy(db, {"p.bpmn": sequential_process("p", 3)})
    assert [(d.definition.version, d.created) for d in again] == [(1, False)]
    assert again[0].definition.id == first[0].definition.id
    changed = deploy(db, {"p.bpmn": sequential_process("p", 4)})
    assert [(d.definition.version, d.created) for d in changed] == [(2, True)]
    assert changed[0].definition.content_hash != first[0].definition.content_hash
    with db.transaction(write=False) as s:
        latest = deployments.get_definition(s, key="p")
        v1 = deployments.get_definition(s, key="p", version=1)
        assert (latest.version, v1.version) == (2, 1)
        assert deployments.definition_file(s, v1, "p.bpmn") == sequential_process("p", 3)
    assert count(db, ProcessDefinition) == 2
    assert count(db, FileBlob) == 2


def test_refused_bundle_stores_nothing_and_lists_every_error(db: Database) -> None:
    before = (count(db, ProcessDefinition), count(db, AuditEvent), count(db, FileBlob))
    with pytest.raises(Invalid) as caught:
        deploy(db, {
            "ok.bpmn": sequential_process("ok", 2),
            "broken.bpmn": b"<not-xml",
            "evil.bpmn": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        })
    files = {e["file"] for e in caught.value.errors}
    assert {"broken.bpmn", "evil.bpmn"} <= files
    assert all(e["message"] for e in caught.value.errors)
    assert "root:" not in str(caught.value.errors)
    assert (count(db, ProcessDefinition), count(db, AuditEvent), count(db, FileBlob)) == before


def test_only_admins_deploy(db: Database, member: tuple[Actor, int]) -> None:
    actor, _ = member
    with pytest.raises(Forbidden), db.transaction() as s:
        deployments.deploy(s, actor=actor, files={"p.bpmn": sequential_process("p", 1)}, forms_dir=None)
    assert count(db, ProcessDefinition) == 0


def test_spec_is_stored_once_per_version_not_per_instance(db: Database, admin: Actor) -> None:
    deploy(db, {"p.bpmn": sequential_process("p", 2, lanes=("Sending organisation",))})
    org_id = make_org(db).id
    with db.transaction() as s:
        inst = instances.start(s, actor=admin, process_key="p", parties={"sending": org_id})
        assert '"task_specs"' not in inst.state
        assert len(inst.state) < len(inst.definition.spec_json)


def test_latest_versions_gives_the_newest_version_of_each_key(db: Database) -> None:
    deploy(db, {"b.bpmn": sequential_process("b", 2)})
    deploy(db, {"a.bpmn": sequential_process("a", 2)})
    deploy(db, {"b.bpmn": sequential_process("b", 3)})
    with db.transaction(write=False) as s:
        assert [(d.key, d.version) for d in deployments.latest_versions(s)] == [("a", 1), ("b", 2)]


def test_warnings_are_kept_with_the_version_and_shown_in_its_summary(db: Database) -> None:
    bpmn = process("p", [("in_lane", user_task("in_lane")), ("stray", user_task("stray"))],
                   lanes={"Learner": ["p_start", "in_lane", "p_end"]})
    (deployed,) = deploy(db, {"p.bpmn": bpmn})
    expected = [{"file": "p.bpmn", "element_id": "stray", "line": 3,
                 "message": "user task 'stray' is in no lane: it goes to the person who started the instance"}]
    with db.transaction(write=False) as s:
        definition = deployments.get_definition(s, key="p")
        assert definition.id == deployed.definition.id
        assert definition.warnings == expected
        assert deployments.as_summary(definition)["warnings"] == expected


def test_a_dmn_only_bundle_is_a_decision_later_processes_call(db: Database, admin: Actor) -> None:
    """DMN-only bundles deploy (issue 11 item 8); a later bundle's business rule task resolves them."""
    found: list[deployments.DeployedDecision] = []
    with db.transaction() as s:
        assert deployments.deploy(s, actor=admin, files={"grant.dmn": decision_table("< 5").encode()},
                                  forms_dir=None, decisions=found) == []
    assert [(d.decision.key, d.decision.version, d.created) for d in found] == [("grant", 1, True)]
    (process,) = deploy(db, {"proc.bpmn": DECISION_PROCESS.encode()})
    assert process.created
    with db.transaction(write=False) as s:
        decision, content = deployments.get_decision(s, key="grant")
    assert decision.filename == "grant.dmn"
    assert content == decision_table("< 5").encode()
