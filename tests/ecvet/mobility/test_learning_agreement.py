"""Learning Agreements: signing order, guardians of minors, hash-bound signatures, national approval,
changes with reasons that void signatures, the start-date rule, deletion and append-only evidence."""
from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import ecvet.mobility.workflow  # noqa: F401  (registers the mobility.* actions, as the app and worker do)
from ecvet.mobility import learning_agreement
from ecvet.mobility.models import (
    LaParty,
    LaSignature,
    LaStatus,
    LaVersion,
    LearningAgreement,
)
from ecvet.mobility.vocabulary import LaChange
from engine import actions
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid
from engine.parties import Actor
from tests.support import learning_agreement_case
from tests.support.learning_agreement_case import (
    CONTENT,
    LEARNER_SIGNER,
    make_case,
    sign_all,
)

T0 = learning_agreement_case.T0  # the frozen fixture starts the clock here
pytestmark = pytest.mark.usefixtures("frozen")


# --- order ------------------------------------------------------------------------------------------


# --- minors -------------------------------------------------------------------------------------------


# --- hash, completeness, national models --------------------------------------------------------------


# --- changes --------------------------------------------------------------------------------------------


def test_a_change_is_a_new_version_with_reasons_that_everyone_signs_again(
    db: Database, frozen: FrozenClock
) -> None:
    case = make_case(db)
    la_id = case.prepare()
    sign_all(case, la_id)
    v1_hash = case.digest(la_id)
    frozen.set(datetime(2027, 3, 15, 9, 0, tzinfo=UTC))  # during the mobility
    with db.transaction() as s:
        version = learning_agreement.change(
            s, actor=case.hosting.actor, la_id=la_id,
            added=[{"unit": {"code": "U3", "title": "Serving", "ecvet_points": 6}, "reason": "Kitchen closed"}],
            removed=[{"unit": "U1", "reason": "No cold kitchen this season"}],
        )
        assert version.number == 2
    state = case.state(la_id)
    assert state["version"] == 2
    assert state["content_hash"] != v1_hash
    assert [u["code"] for u in state["content"]["units"]] == ["U2", "U3"]
    assert state["changes"] == [
        {"unit": "U1", "change": LaChange.REMOVED, "reason": "No cold kitchen this season"},
        {"unit": "U3", "change": LaChange.ADDED, "reason": "Kitchen closed"},
    ]
    assert state["status"] == LaStatus.DRAFT
    assert state["next_party"] == LaParty.LEARNER
    assert len(state["signatures"]) == 3
    assert not any(s["counts"] for s in state["signatures"])
    with pytest.raises(Conflict, match="stale"):
        case.sign(la_id, LaParty.LEARNER, digest=v1_hash)
    with pytest.raises(Conflict, match="the learner must sign next"):
        case.sign(la_id, LaParty.SENDING)
    sign_all(case, la_id)  # a change during the mobility is signed after the start date
    state = case.state(la_id)
    assert state["status"] == LaStatus.SIGNED
    assert [s["counts"] for s in state["signatures"]] == [False] * 3 + [True] * 3


def test_every_change_needs_a_reason(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        learning_agreement.change(s, actor=case.sending.actor, la_id=la_id,
                   added=[{"unit": {"code": "U3"}, "reason": "  "}], removed=[{"unit": "U2"}])
    assert refused.value.status == 422
    assert set(refused.value.errors) == {"added.0.reason", "removed.0.reason"}
    with pytest.raises(Invalid, match="not valid"), db.transaction() as s:
        learning_agreement.change(s, actor=case.sending.actor, la_id=la_id, removed=[{"unit": "U9", "reason": "typo"}])
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(LaVersion.id)).where(LaVersion.la_id == la_id)) == 1


# --- start date, deletion, evidence ---------------------------------------------------------------------


def test_one_live_agreement_per_mobility_under_an_active_mou(db: Database) -> None:
    case = make_case(db)
    case.prepare()
    with pytest.raises(Conflict, match="already has"):
        case.prepare()
    with pytest.raises(Forbidden), db.transaction() as s:
        learning_agreement.prepare(s, actor=case.hosting.actor, mobility_id=case.mobility_id, content=CONTENT)
    with pytest.raises(Invalid), db.transaction() as s:
        learning_agreement.prepare(s, actor=case.sending.actor, mobility_id=case.mobility_id, content={"units": []})


def test_signatures_and_versions_are_append_only_in_the_database(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    signature = case.sign(la_id, LaParty.LEARNER)
    statements = [
        ("UPDATE la_signatures SET party = 'hosting' WHERE id = :id", signature.id),
        ("DELETE FROM la_signatures WHERE id = :id", signature.id),
        ("UPDATE la_versions SET content_hash = 'forged' WHERE la_id = :id", la_id),
        ("DELETE FROM la_versions WHERE la_id = :id", la_id),
    ]
    for sql, key in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(sql), {"id": key})
    with db.transaction(write=False) as s:
        kept = s.get_one(LaSignature, signature.id)
        assert kept.party == LaParty.LEARNER
        assert kept.content_hash == case.digest(la_id)


# --- task actions ---------------------------------------------------------------------------------------


def _run(db: Database, name: str, actor: Actor, data: dict[str, Any], *, task_data: dict[str, Any],
         role: str | None = None) -> dict[str, Any]:
    with db.transaction() as s:
        context = actions.ActionContext(session=s, actor=actor, instance=SimpleNamespace(),  # type: ignore[arg-type]
                                        task=SimpleNamespace(organisation_id=None, role=role),  # type: ignore[arg-type]
                                        task_data=task_data)
        return actions.run(name, context, data)


def test_task_actions_return_references_for_the_process_data(db: Database) -> None:
    """The Mobility process's own actions (ported from the retired la.* actions, same assertions): the
    party signing comes from the task's lane, the text from the process data's la_id."""
    case = make_case(db)
    out = _run(db, "mobility.prepare_la", case.sending.actor, CONTENT, task_data={"mobility_id": case.mobility_id})
    assert out["la_version"] == 1
    assert out["la_status"] == LaStatus.DRAFT
    assert out["la_next_party"] == "learner"
    data = {**out, "mobility_id": case.mobility_id}
    out = _run(db, "mobility.sign_la", case.learner, {"la_hash": data["la_hash"], "signer": LEARNER_SIGNER},
               task_data=data, role="learner")
    assert out["la_status"] == LaStatus.SIGNING
    assert out["la_signature_id"]
    with db.transaction(write=False) as s:
        assert s.get_one(LaSignature, out["la_signature_id"]).party == "learner"
    out = _run(db, "mobility.revise_la", case.sending.actor,
               {"la_hash": data["la_hash"], "removed": [{"unit": "U2", "reason": "Covered at home"}]}, task_data=data)
    assert out["la_version"] == 2
    assert out["la_hash"] != data["la_hash"]
    assert out["la_status"] == LaStatus.DRAFT
    with pytest.raises(Conflict, match="stale"):
        _run(db, "mobility.sign_la", case.learner, {"la_hash": data["la_hash"], "signer": LEARNER_SIGNER},
             task_data=data, role="learner")
    with pytest.raises(Invalid, match="la_hash"):
        _run(db, "mobility.sign_la", case.learner, {}, task_data=data, role="learner")


# --- units from the MoU, parts of the text, refusals, implicit approval, limits ---------------------------


def test_units_come_from_the_mou_with_its_points(db: Database) -> None:
    case = make_case(db)
    for units, field in (([{"code": "U9"}], "units.0.code"), ([{"code": "U1", "ecvet_points": 10}],
                                                              "units.0.ecvet_points")):
        with pytest.raises(Invalid) as refused:
            case.prepare({"units": units})
        assert field in refused.value.errors
    la_id = case.prepare({"units": [{"code": "U2"}]})
    assert case.state(la_id)["content"]["units"] == [{"code": "U2", "title": "Hygiene", "ecvet_points": 4,
                                                      "learning_outcomes": ["Keeps the temperature logs"]}]
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        learning_agreement.change(s, actor=case.sending.actor, la_id=la_id, added=[{"unit": "U7",
                                                                                    "reason": "Not in the MoU"}])
    assert "units.1.code" in refused.value.errors


def test_replacing_a_part_of_the_text_needs_a_reason_and_a_real_change(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    agreed = {**CONTENT["assessment"], "where": "Hotel kitchen"}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        learning_agreement.change(s, actor=case.hosting.actor, la_id=la_id, sections={"assessment": agreed,
                                                                                      "units": []})
    assert set(refused.value.errors) == {"sections.units", "reason"}
    with db.transaction() as s:
        version = learning_agreement.change(s, actor=case.hosting.actor, la_id=la_id, sections={"assessment": agreed},
                             reason="Assessment agreed by the host")
        assert version.number == 2
        assert version.changes == [{"section": "assessment", "change": "replaced",
                                    "reason": "Assessment agreed by the host"}]
    with db.transaction() as s:
        same = learning_agreement.change(s, actor=case.hosting.actor, la_id=la_id, sections={"assessment": agreed},
                          reason="Nothing new")
        assert same.number == 2, "an identical text is no new version: nothing to sign again"


def test_the_number_of_versions_is_bounded(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare({"units": [{"code": "U1"}]})
    for i in range(learning_agreement.MAX_VERSIONS - 1):
        code = ("U2", "U3")[i % 2]
        with db.transaction() as s:
            current = [u["code"] for u in learning_agreement.current_version(s, s.get_one(LearningAgreement,
                                                                                      la_id)).content["units"]]
            added = [{"unit": code, "reason": f"round {i}"}]
            removed = [{"unit": u, "reason": f"round {i}"} for u in current if u != "U1"]
            learning_agreement.change(s, actor=case.sending.actor, la_id=la_id, added=added, removed=removed)
    assert case.state(la_id)["version"] == learning_agreement.MAX_VERSIONS
    with pytest.raises(Conflict, match="the most one may have"), db.transaction() as s:
        learning_agreement.change(s, actor=case.sending.actor, la_id=la_id, removed=[{"unit": "U1",
                                                                                      "reason": "one more"}])

