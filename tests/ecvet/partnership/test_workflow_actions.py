"""The MoU task actions of the Partnership process (partnership.draft, partnership.submit,
partnership.approve), driven through processes/partnership.bpmn as its parties.

Ported from the tests of the retired ``mou.*`` actions (a two-lane fixture process no BPMN of the
product used): the same assertions, now on the actions the shipped process runs. The one difference
is the process's own: ``partnership.submit`` signs for the sending organisation as it submits, so the
sender's approval exists from submission on.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet import evidence
from ecvet.partnership import mou
from ecvet.partnership.models import Decision, Mou, MouStatus
from engine import actions
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.models import TaskState
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import PartnershipRun, approve, start


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


@pytest.fixture
def run(db: Database, admin: Actor) -> PartnershipRun:
    """NL sends to BE: neither national model asks a competent institution, the two partners sign."""
    p = start(db, admin, "NL", "BE")
    p.build()
    return p


def sign(values: dict[str, object]) -> dict[str, object]:
    """The form sent back as it was filled in (the signer: the reader), with a position of the day."""
    return approve(values, {**values["signer"], **SIGNER})  # type: ignore[dict-item]


def test_the_mou_actions_are_registered() -> None:
    assert {"partnership.draft", "partnership.submit", "partnership.approve",
            "partnership.approve_as_competent_institution"} <= set(actions.ACTIONS)
    assert not {"mou.draft", "mou.submit", "mou.approve", "mou.reject", "la.prepare", "la.sign", "la.change"} \
        & set(actions.ACTIONS), "no process names the retired action families"


def test_draft_submit_and_sign_through_the_process(run: PartnershipRun) -> None:
    p = run
    p.complete("sending", "draft_mou", {"business_key": "MoU-NL-BE-1", **p.content()})
    data = p.data()
    assert (data["mou_version"], data["mou_status"]) == (1, MouStatus.DRAFT)
    assert data["mou_hash"] == evidence.content_hash(p.content())

    values = p.form_values("sending", "submit_mou")
    assert values["signer"]["name"] == p.sender.name, "the submit form names the sender's member as signer"
    p.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})
    assert p.data()["mou_status"] == MouStatus.IN_APPROVAL
    assert p.mou() == (MouStatus.IN_APPROVAL, 1, 1, False)

    host_values = p.form_values("hosting", "approve_hosting")
    assert host_values["mou_hash"] == data["mou_hash"], "the sign form shows the hash of the text to sign"
    # The host's form names the host's member, never the sender's signer the process data carried.
    assert host_values["signer"] == {"name": p.host.name, "email": p.host.email, "position": "Coordinator"}
    assert p.data()["signer"] is None, "the signer a task used is cleared from the process data"
    p.complete("hosting", "approve_hosting", sign(host_values))
    assert p.mou() == (MouStatus.ACTIVE, 1, 2, True)
    assert p.data()["mou_status"] == MouStatus.ACTIVE
    with p.db.transaction(write=False) as s:
        assert s.scalar(select(Mou.business_key).where(Mou.id == p.partnership().mou_id)) == "MoU-NL-BE-1"


def test_a_stale_hash_refuses_the_completion_and_keeps_the_task(run: PartnershipRun) -> None:
    p = run
    p.draft_and_submit()
    read_by_host = p.form_values("hosting", "approve_hosting")
    # The sending organisation changes the text while the host is reading it.
    with p.db.transaction() as s:
        mou_id = p.partnership().mou_id
        assert mou_id is not None
        mou.revise(s, actor=p.sender.actor, mou_id=mou_id,
                   content=p.content(valid_until="2098-06-30"))
    with pytest.raises(Conflict, match="stale"):
        p.complete("hosting", "approve_hosting", sign(read_by_host))
    (task,) = [t for t in p.ready() if t.bpmn_id == "approve_hosting"]
    assert task.state == TaskState.READY
    assert p.mou() == (MouStatus.IN_APPROVAL, 2, 1, False), "only the sender's (now void) approval exists"


def test_rejection_needs_a_comment_and_sends_the_draft_back(run: PartnershipRun) -> None:
    p = run
    p.draft_and_submit()
    values = p.form_values("hosting", "approve_hosting")
    with pytest.raises(Invalid) as refused:
        p.complete("hosting", "approve_hosting", {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED})
    assert "comment" in refused.value.errors
    assert p.open_steps() == {"approve_hosting"}

    p.complete("hosting", "approve_hosting", {"mou_hash": values["mou_hash"], "decision": Decision.REJECTED,
                                              "comment": "Twelve weeks is too long for our kitchen"})
    assert p.open_steps() == {"draft_mou"}
    p.only_for("sending", "draft_mou")
    assert p.mou() == (MouStatus.DRAFT, 1, 2, False)

    # The sender revises (version 2), submits (signing it) and the host signs the new text.
    p.complete("sending", "draft_mou", p.content(mobility_duration_weeks={"min": 3, "max": 8}))
    assert p.data()["mou_version"] == 2
    p.complete("sending", "submit_mou", {"confirmed": True, "signer": SIGNER})
    p.complete("hosting", "approve_hosting", sign(p.form_values("hosting", "approve_hosting")))
    assert p.mou() == (MouStatus.ACTIVE, 2, 4, True)
