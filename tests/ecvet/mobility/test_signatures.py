"""ecvet.mobility.signatures: the parties sign a Learning Agreement in order, each for itself, the exact text;
a refusal sends it back, the competent institution approves explicitly or by silence, and until the school
signed the agreement may be withdrawn."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

import ecvet.mobility.workflow  # noqa: F401  (registers the mobility.* actions, as the app and worker do)
from ecvet import evidence
from ecvet.mobility import learning_agreement, signatures
from ecvet.mobility.models import (
    LaParty,
    LaSignature,
    LaStatus,
)
from ecvet.national_models.models import CompetenceFunction
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent
from engine.parties import Actor
from tests.support import learning_agreement_case
from tests.support.ecvet_factories import make_party, register
from tests.support.learning_agreement_case import (
    CONTENT,
    las_required,
    make_case,
    sign_all,
)

T0 = learning_agreement_case.T0  # the frozen fixture starts the clock here
pytestmark = pytest.mark.usefixtures("frozen")


def test_signing_order_is_learner_then_sending_then_hosting(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    with pytest.raises(Conflict, match="the learner must sign next"):
        case.sign(la_id, LaParty.SENDING)
    assert case.signature_count(la_id) == 0
    case.sign(la_id, LaParty.LEARNER)
    with pytest.raises(Conflict, match="the sending must sign next"):
        case.sign(la_id, LaParty.HOSTING)
    case.sign(la_id, LaParty.SENDING)
    with pytest.raises(Conflict, match="already signed"):
        case.sign(la_id, LaParty.SENDING)
    case.sign(la_id, LaParty.HOSTING)
    state = case.state(la_id)
    assert [s["party"] for s in state["signatures"]] == ["learner", "sending", "hosting"]
    assert state["next_party"] is None


def test_each_party_signs_only_for_itself(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    with pytest.raises(Forbidden, match="learner"):
        case.sign(la_id, LaParty.LEARNER, actor=case.sending.actor)
    case.sign(la_id, LaParty.LEARNER)
    with pytest.raises(Forbidden, match="sending organisation"):
        case.sign(la_id, LaParty.SENDING, actor=case.hosting.actor)
    outsider = make_party(db, "NL", "Someone else")
    with pytest.raises(NotFound), db.transaction(write=False) as s:
        learning_agreement.get(s, actor=outsider.actor, la_id=la_id)
    assert case.signature_count(la_id) == 1


def test_a_minor_needs_the_guardian_after_the_learner(db: Database) -> None:
    case = make_case(db, born=date(2009, 6, 1))  # 17 on the first day of the mobility
    la_id = case.prepare()
    assert las_required(case, la_id) == ["learner", "guardian", "sending", "hosting"]
    case.sign(la_id, LaParty.LEARNER)
    with pytest.raises(Conflict, match="the guardian must sign next"):
        case.sign(la_id, LaParty.SENDING)
    # The guardian has no account: the sending organisation records the guardian's signature.
    case.sign(la_id, LaParty.GUARDIAN, actor=case.sending.actor)
    case.sign(la_id, LaParty.SENDING)
    case.sign(la_id, LaParty.HOSTING)
    assert case.state(la_id)["status"] == LaStatus.SIGNED


def test_a_guardian_with_an_account_signs_personally(db: Database) -> None:
    case = make_case(db, born=date(2009, 6, 1), guardian_account=True)
    la_id = case.prepare()
    case.sign(la_id, LaParty.LEARNER)
    with pytest.raises(Forbidden, match="guardian"):
        case.sign(la_id, LaParty.GUARDIAN, actor=case.sending.actor)
    signature = case.sign(la_id, LaParty.GUARDIAN)
    assert signature.party == LaParty.GUARDIAN
    assert signature.organisation_id is None


def test_an_adult_needs_no_guardian(db: Database) -> None:
    case = make_case(db, born=date(2009, 2, 28))  # turns 18 the day before the mobility starts
    la_id = case.prepare()
    assert las_required(case, la_id) == ["learner", "sending", "hosting"]
    case.sign(la_id, LaParty.LEARNER)
    with pytest.raises(Invalid, match="No guardian signature"):
        case.sign(la_id, LaParty.GUARDIAN, actor=case.sending.actor)
    case.sign(la_id, LaParty.SENDING)
    case.sign(la_id, LaParty.HOSTING)
    assert case.state(la_id)["status"] == LaStatus.SIGNED


def test_a_stale_hash_is_refused_and_nothing_is_stored(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    stale = evidence.content_hash({**CONTENT, "units": CONTENT["units"][:1]})
    with pytest.raises(Conflict, match="stale"):
        case.sign(la_id, LaParty.LEARNER, digest=stale)
    assert case.signature_count(la_id) == 0
    assert case.state(la_id)["status"] == LaStatus.DRAFT


def test_signed_only_when_every_required_party_signed(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    assert case.state(la_id)["status"] == LaStatus.DRAFT
    case.sign(la_id, LaParty.LEARNER)
    assert case.state(la_id)["status"] == LaStatus.SIGNING
    case.sign(la_id, LaParty.SENDING)
    state = case.state(la_id)
    assert state["status"] == LaStatus.SIGNING
    assert state["next_party"] == LaParty.HOSTING
    case.sign(la_id, LaParty.HOSTING)
    state = case.state(la_id)
    assert state["status"] == LaStatus.SIGNED
    assert all(s["counts"] for s in state["signatures"])
    with db.transaction(write=False) as s:
        actions_ = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("la.%"))))
    assert actions_.count("la.signed") == 3
    assert "la.prepared" in actions_


def test_de_crafts_requires_competent_institution_approval_nl_does_not(db: Database) -> None:
    de = make_case(db, sending_country="DE", sector="crafts")
    chamber = make_party(db, "DE", "Handwerkskammer")
    register(db, chamber.org_id, "DE", CompetenceFunction.LA_APPROVAL)
    la_id = de.prepare()
    assert las_required(de, la_id) == ["learner", "sending", "hosting", "competent_institution"]
    sign_all(de, la_id)
    assert de.state(la_id)["status"] == LaStatus.SIGNED
    assert de.state(la_id)["next_party"] == LaParty.COMPETENT_INSTITUTION
    with pytest.raises(Forbidden, match="competent institution"):
        de.sign(la_id, LaParty.COMPETENT_INSTITUTION, actor=de.hosting.actor)
    signature = de.sign(la_id, LaParty.COMPETENT_INSTITUTION, actor=chamber.actor)
    assert signature.organisation_id == chamber.org_id
    assert de.state(la_id)["status"] == LaStatus.APPROVED

    nl = make_case(db, sending_country="NL")
    nl_la = nl.prepare()
    assert LaParty.COMPETENT_INSTITUTION not in las_required(nl, nl_la)
    sign_all(nl, nl_la)
    assert nl.state(nl_la)["status"] == LaStatus.SIGNED
    assert nl.state(nl_la)["next_party"] is None
    with pytest.raises(Invalid, match="No competent_institution signature"):
        nl.sign(nl_la, LaParty.COMPETENT_INSTITUTION, actor=nl.sending.actor)
    with pytest.raises(NotFound):  # a German chamber has no say over (and no view of) a Dutch LA
        nl.sign(nl_la, LaParty.COMPETENT_INSTITUTION, actor=chamber.actor)


def test_de_outside_crafts_needs_no_la_approval(db: Database) -> None:
    """The shipped table: DE requires chamber approval of MoUs, but of LAs only in the crafts sector."""
    case = make_case(db, sending_country="DE")
    la_id = case.prepare()
    assert las_required(case, la_id) == ["learner", "sending", "hosting"]


def test_the_first_text_cannot_be_signed_once_the_mobility_started(db: Database, frozen: FrozenClock) -> None:
    case = make_case(db)
    la_id = case.prepare()
    case.sign(la_id, LaParty.LEARNER)
    frozen.set(datetime(2027, 3, 1, 0, 0, tzinfo=UTC))
    with pytest.raises(Conflict, match="mobility has started"):
        case.sign(la_id, LaParty.SENDING)
    assert case.signature_count(la_id) == 1
    assert case.state(la_id)["status"] == LaStatus.SIGNING


def test_delete_only_before_the_sending_organisation_signed(db: Database) -> None:
    case = make_case(db)
    early = case.prepare()
    case.sign(early, LaParty.LEARNER)
    with pytest.raises(Forbidden), db.transaction() as s:
        signatures.delete(s, actor=case.hosting.actor, la_id=early)
    with db.transaction() as s:
        assert signatures.delete(s, actor=case.sending.actor, la_id=early).status == LaStatus.DELETED
    with pytest.raises(Conflict, match="deleted"):
        case.sign(early, LaParty.SENDING)

    late = case.prepare()  # a deleted LA frees the mobility for a new one
    case.sign(late, LaParty.LEARNER)
    case.sign(late, LaParty.SENDING)
    with pytest.raises(Conflict, match="can no longer be deleted"), db.transaction() as s:
        signatures.delete(s, actor=case.sending.actor, la_id=late)
    assert case.state(late)["status"] == LaStatus.SIGNING


def test_a_party_refuses_in_its_turn_with_a_comment(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    digest = case.digest(la_id)

    def refuse(party: str, actor: Actor, comment: str = "Add the hygiene outcomes", quoted: str = digest) -> Any:
        with db.transaction() as s:
            return signatures.refuse(s, actor=actor, la_id=la_id, party=party, content_hash=quoted, comment=comment)

    with pytest.raises(Invalid, match="comment"):
        refuse(LaParty.LEARNER, case.learner, comment=" ")
    with pytest.raises(Conflict, match="not the sending's turn"):
        refuse(LaParty.SENDING, case.sending.actor)
    with pytest.raises(Forbidden):
        refuse(LaParty.LEARNER, case.sending.actor)
    with pytest.raises(Conflict, match="stale"):
        refuse(LaParty.LEARNER, case.learner, quoted="0" * 64)
    assert refuse(LaParty.LEARNER, case.learner) == {"party": "learner", "comment": "Add the hygiene outcomes",
                                                     "version": 1}
    assert case.signature_count(la_id) == 0
    assert case.state(la_id)["status"] == LaStatus.DRAFT
    with db.transaction(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "la.refused")).one()
        assert event.detail["comment"] == "Add the hygiene outcomes"
        assert event.detail["la_id"] == la_id


def test_implicit_approval_after_the_period_without_objection(db: Database, frozen: FrozenClock) -> None:
    """ES (illustrative): the regional authority approves by silence within 10 days of the last party."""
    case = make_case(db, sending_country="ES")
    authority = make_party(db, "ES", "Regional authority")
    register(db, authority.org_id, "ES", CompetenceFunction.LA_APPROVAL)
    la_id = case.prepare()
    assert las_required(case, la_id)[-1] == LaParty.COMPETENT_INSTITUTION

    def implicit() -> LaSignature:
        with db.transaction() as s:
            return signatures.implicit_approval(s, la_id=la_id)

    with pytest.raises(Conflict, match="has not signed"):
        implicit()
    sign_all(case, la_id)
    frozen.advance(days=9, hours=23)
    with pytest.raises(Conflict, match="objection period runs until"):
        implicit()
    with pytest.raises(Forbidden), db.transaction() as s:
        signatures.implicit_approval(s, la_id=la_id, actor=case.sending.actor)
    frozen.advance(hours=1)
    signature = implicit()
    assert (signature.mode, signature.organisation_id, signature.signer_name) == ("implicit", authority.org_id, None)
    state = case.state(la_id)
    assert state["status"] == LaStatus.APPROVED
    assert state["in_force"]
    with pytest.raises(Conflict, match="already approved"):
        implicit()

    nl = make_case(db, sending_country="NL")
    nl_la = nl.prepare()
    sign_all(nl, nl_la)
    with pytest.raises(Conflict, match="does not approve"), db.transaction() as s:
        signatures.implicit_approval(s, la_id=nl_la)


def test_a_text_written_before_departure_is_signed_before_departure(db: Database, frozen: FrozenClock) -> None:
    """Also a revision made before the start (version 2), not only version 1."""
    case = make_case(db)
    la_id = case.prepare()
    with db.transaction() as s:
        learning_agreement.change(s, actor=case.sending.actor, la_id=la_id, removed=[{"unit": "U2",
                                                                                      "reason": "Covered at home"}])
    case.sign(la_id, LaParty.LEARNER)
    frozen.set(datetime(2027, 3, 1, 0, 0, tzinfo=UTC))
    with pytest.raises(Conflict, match="mobility has started"):
        case.sign(la_id, LaParty.SENDING)
