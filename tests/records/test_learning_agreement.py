"""Learning Agreements: signing order, guardians of minors, hash-bound signatures, national approval,
changes with reasons that void signatures, the start-date rule, deletion and append-only evidence."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import records.la_actions  # noqa: F401  (registers the la.* actions, as the app and worker do)
from engine import actions
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent
from engine.parties import Actor
from records import learning_agreement as las
from records.models import (
    CompetenceFunction,
    LaChange,
    LaParty,
    LaSignature,
    LaStatus,
    LaVersion,
    Learner,
    LearningAgreement,
    Mobility,
    Mou,
    MouStatus,
    MouVersion,
)
from tests.records.factories import SIGNER, Party, make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
START = date(2027, 3, 1)
# Older clients send the signer's name; it is accepted when it is the signer's own (the guardian on
# paper: the one on the learner's record).
LEARNER_SIGNER = {"name": "Lena Vos"}
GUARDIAN_SIGNER = {"name": "Marta Vos"}

CONTENT: dict[str, Any] = {
    "units": [
        {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12,
         "learning_outcomes": ["Prepares cold starters to recipe"],
         "learning_activities": {"location": "Hotel kitchen", "tasks": "Garde-manger station"}},
        {"code": "U2", "title": "Hygiene", "ecvet_points": 4},
    ],
    "assessment": {"assessors": [{"name": "Jan Peeters", "organisation": "Hotel Brussel", "role": "chef"}],
                   "method": "Observation of a practical task", "when": "Week 6",
                   "documentation": "Learner's Personal Transcript"},
    "validation_and_recognition": {"who": "Sending school", "how": "Comparison with the LA",
                                   "effect": "Units exempted at home"},
    "duration": {"start": "2027-03-01", "end": "2027-04-09", "weeks": 6},
}


#: What the MoU in force covers: the LA may only contain these units, with these points.
MOU_CONTENT: dict[str, Any] = {"qualifications": [{"title": "Cook", "eqf_level": 4, "units": [
    {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12},
    {"code": "U2", "title": "Hygiene", "ecvet_points": 4},
    {"code": "U3", "title": "Serving", "ecvet_points": 6},
]}]}


pytestmark = pytest.mark.usefixtures("frozen")


@dataclass
class Case:
    """One mobility with its parties; helpers sign and read in separate units of work."""

    db: Database
    sending: Party
    hosting: Party
    learner: Actor
    mobility_id: int
    guardian: Actor | None = None

    def prepare(self, content: dict[str, Any] | None = None) -> int:
        with self.db.transaction() as s:
            return las.prepare(s, actor=self.sending.actor, mobility_id=self.mobility_id,
                               content=content or CONTENT).id

    def digest(self, la_id: int) -> str:
        with self.db.transaction(write=False) as s:
            return las.current_version(s, s.get(LearningAgreement, la_id)).content_hash

    def sign(self, la_id: int, party: str, actor: Actor | None = None, digest: str | None = None) -> LaSignature:
        actor = actor or {LaParty.LEARNER: self.learner, LaParty.SENDING: self.sending.actor,
                          LaParty.HOSTING: self.hosting.actor, LaParty.GUARDIAN: self.guardian}[party]
        signer = {LaParty.LEARNER: LEARNER_SIGNER, LaParty.GUARDIAN: GUARDIAN_SIGNER}.get(party, SIGNER)
        with self.db.transaction() as s:
            return las.sign(s, actor=actor, la_id=la_id, party=party, content_hash=digest or self.digest(la_id),
                            signer=signer)

    def state(self, la_id: int) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            return las.detail(s, actor=self.sending.actor, la_id=la_id)

    def signature_count(self, la_id: int) -> int:
        with self.db.transaction(write=False) as s:
            return s.scalar(select(func.count(LaSignature.id)).where(LaSignature.la_id == la_id))


def make_case(
    db: Database,
    *,
    sending_country: str = "NL",
    born: date = date(2005, 5, 5),
    sector: str | None = None,
    guardian_account: bool = False,
) -> Case:
    sending = make_party(db, sending_country, "Sending school")
    hosting = make_party(db, "BE", "Hotel Brussel")
    learner_user = make_user(db, name="Lena Vos")
    guardian_user = make_user(db, name="Marta Vos") if guardian_account else None
    with db.transaction() as s:
        mou = Mou(sending_organisation_id=sending.org_id, status=MouStatus.ACTIVE)
        s.add(mou)
        s.flush()
        version = MouVersion(mou_id=mou.id, number=1, content=MOU_CONTENT, content_hash=las.content_hash(MOU_CONTENT))
        s.add(version)
        s.flush()
        mou.current_version_id = mou.active_version_id = version.id
        learner = Learner(name="Lena Vos", date_of_birth=born, email="lena@learner.example",
                          guardian_name="Marta Vos", guardian_email="marta@parent.example",
                          user_id=learner_user.id, guardian_user_id=guardian_user.id if guardian_user else None)
        s.add_all([mou, learner])
        s.flush()
        mobility = Mobility(learner_id=learner.id, mou_id=mou.id, sending_organisation_id=sending.org_id,
                            hosting_organisation_id=hosting.org_id, qualification_title="Cook",
                            qualification_eqf_level=4, sector=sector, start_date=START, end_date=date(2027, 4, 9))
        s.add(mobility)
        s.flush()
        mobility_id = mobility.id
    return Case(db, sending, hosting, actor_for(db, learner_user.id), mobility_id,
                actor_for(db, guardian_user.id) if guardian_user else None)


def sign_all(case: Case, la_id: int) -> None:
    for party in las_required(case, la_id):
        if party != LaParty.COMPETENT_INSTITUTION:
            case.sign(la_id, party, actor=case.sending.actor if party == LaParty.GUARDIAN and not case.guardian
                      else None)


def las_required(case: Case, la_id: int) -> list[str]:
    return case.state(la_id)["required_signatures"]


# --- order ------------------------------------------------------------------------------------------


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
        las.get(s, actor=outsider.actor, la_id=la_id)
    assert case.signature_count(la_id) == 1


# --- minors -------------------------------------------------------------------------------------------


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
    assert signature.party == LaParty.GUARDIAN and signature.organisation_id is None


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


# --- hash, completeness, national models --------------------------------------------------------------


def test_a_stale_hash_is_refused_and_nothing_is_stored(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    stale = las.content_hash({**CONTENT, "units": CONTENT["units"][:1]})
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
    assert state["status"] == LaStatus.SIGNING and state["next_party"] == LaParty.HOSTING
    case.sign(la_id, LaParty.HOSTING)
    state = case.state(la_id)
    assert state["status"] == LaStatus.SIGNED and all(s["counts"] for s in state["signatures"])
    with db.transaction(write=False) as s:
        actions_ = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("la.%"))))
    assert actions_.count("la.signed") == 3 and "la.prepared" in actions_


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
    assert nl.state(nl_la)["status"] == LaStatus.SIGNED and nl.state(nl_la)["next_party"] is None
    with pytest.raises(Invalid, match="No competent_institution signature"):
        nl.sign(nl_la, LaParty.COMPETENT_INSTITUTION, actor=nl.sending.actor)
    with pytest.raises(NotFound):  # a German chamber has no say over (and no view of) a Dutch LA
        nl.sign(nl_la, LaParty.COMPETENT_INSTITUTION, actor=chamber.actor)


def test_de_outside_crafts_needs_no_la_approval(db: Database) -> None:
    """The shipped table: DE requires chamber approval of MoUs, but of LAs only in the crafts sector."""
    case = make_case(db, sending_country="DE")
    la_id = case.prepare()
    assert las_required(case, la_id) == ["learner", "sending", "hosting"]


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
        version = las.change(
            s, actor=case.hosting.actor, la_id=la_id,
            added=[{"unit": {"code": "U3", "title": "Serving", "ecvet_points": 6}, "reason": "Kitchen closed"}],
            removed=[{"unit": "U1", "reason": "No cold kitchen this season"}],
        )
        assert version.number == 2
    state = case.state(la_id)
    assert state["version"] == 2 and state["content_hash"] != v1_hash
    assert [u["code"] for u in state["content"]["units"]] == ["U2", "U3"]
    assert state["changes"] == [
        {"unit": "U1", "change": LaChange.REMOVED, "reason": "No cold kitchen this season"},
        {"unit": "U3", "change": LaChange.ADDED, "reason": "Kitchen closed"},
    ]
    assert state["status"] == LaStatus.DRAFT and state["next_party"] == LaParty.LEARNER
    assert len(state["signatures"]) == 3 and not any(s["counts"] for s in state["signatures"])
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
        las.change(s, actor=case.sending.actor, la_id=la_id,
                   added=[{"unit": {"code": "U3"}, "reason": "  "}], removed=[{"unit": "U2"}])
    assert refused.value.status == 422
    assert set(refused.value.errors) == {"added.0.reason", "removed.0.reason"}
    with pytest.raises(Invalid, match="not valid"), db.transaction() as s:
        las.change(s, actor=case.sending.actor, la_id=la_id, removed=[{"unit": "U9", "reason": "typo"}])
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(LaVersion.id)).where(LaVersion.la_id == la_id)) == 1


# --- start date, deletion, evidence ---------------------------------------------------------------------


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
        las.delete(s, actor=case.hosting.actor, la_id=early)
    with db.transaction() as s:
        assert las.delete(s, actor=case.sending.actor, la_id=early).status == LaStatus.DELETED
    with pytest.raises(Conflict, match="deleted"):
        case.sign(early, LaParty.SENDING)

    late = case.prepare()  # a deleted LA frees the mobility for a new one
    case.sign(late, LaParty.LEARNER)
    case.sign(late, LaParty.SENDING)
    with pytest.raises(Conflict, match="can no longer be deleted"), db.transaction() as s:
        las.delete(s, actor=case.sending.actor, la_id=late)
    assert case.state(late)["status"] == LaStatus.SIGNING


def test_one_live_agreement_per_mobility_under_an_active_mou(db: Database) -> None:
    case = make_case(db)
    case.prepare()
    with pytest.raises(Conflict, match="already has"):
        case.prepare()
    with pytest.raises(Forbidden), db.transaction() as s:
        las.prepare(s, actor=case.hosting.actor, mobility_id=case.mobility_id, content=CONTENT)
    with pytest.raises(Invalid), db.transaction() as s:
        las.prepare(s, actor=case.sending.actor, mobility_id=case.mobility_id, content={"units": []})


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
        kept = s.get(LaSignature, signature.id)
        assert kept.party == LaParty.LEARNER and kept.content_hash == case.digest(la_id)


# --- task actions ---------------------------------------------------------------------------------------


def _run(db: Database, name: str, actor: Actor, data: dict[str, Any], task_data: dict[str, Any]) -> dict[str, Any]:
    with db.transaction() as s:
        context = actions.ActionContext(session=s, actor=actor, instance=SimpleNamespace(),  # type: ignore[arg-type]
                                        task=SimpleNamespace(organisation_id=None),  # type: ignore[arg-type]
                                        task_data=task_data)
        return actions.run(name, context, data)


def test_task_actions_return_references_for_the_process_data(db: Database) -> None:
    case = make_case(db)
    out = _run(db, "la.prepare", case.sending.actor, {"content": CONTENT}, {"mobility_id": case.mobility_id})
    assert out["la_version"] == 1 and out["la_status"] == LaStatus.DRAFT and out["la_next_party"] == "learner"
    data = dict(out)
    out = _run(db, "la.sign", case.learner,
               {"content_hash": data["la_hash"], "party": "learner", "signer": LEARNER_SIGNER}, data)
    assert out["la_party"] == "learner" and out["la_status"] == LaStatus.SIGNING and out["la_signature_id"]
    out = _run(db, "la.change", case.sending.actor,
               {"removed": [{"unit": "U2", "reason": "Covered at home"}]}, data)
    assert out["la_version"] == 2 and out["la_hash"] != data["la_hash"] and out["la_status"] == LaStatus.DRAFT
    with pytest.raises(Conflict, match="stale"):
        _run(db, "la.sign", case.learner,
             {"content_hash": data["la_hash"], "party": "learner", "signer": LEARNER_SIGNER}, data)
    with pytest.raises(Invalid, match="content_hash"):
        _run(db, "la.sign", case.learner, {"party": "learner"}, data)


# --- units from the MoU, parts of the text, refusals, implicit approval, limits ---------------------------


def test_units_come_from_the_mou_with_its_points(db: Database) -> None:
    case = make_case(db)
    for units, field in (([{"code": "U9"}], "units.0.code"), ([{"code": "U1", "ecvet_points": 10}],
                                                              "units.0.ecvet_points")):
        with pytest.raises(Invalid) as refused:
            case.prepare({"units": units})
        assert field in refused.value.errors
    la_id = case.prepare({"units": [{"code": "U2"}]})
    assert case.state(la_id)["content"]["units"] == [{"code": "U2", "title": "Hygiene", "ecvet_points": 4}]
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        las.change(s, actor=case.sending.actor, la_id=la_id, added=[{"unit": "U7", "reason": "Not in the MoU"}])
    assert "units.1.code" in refused.value.errors


def test_replacing_a_part_of_the_text_needs_a_reason_and_a_real_change(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    agreed = {**CONTENT["assessment"], "where": "Hotel kitchen"}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        las.change(s, actor=case.hosting.actor, la_id=la_id, sections={"assessment": agreed, "units": []})
    assert set(refused.value.errors) == {"sections.units", "reason"}
    with db.transaction() as s:
        version = las.change(s, actor=case.hosting.actor, la_id=la_id, sections={"assessment": agreed},
                             reason="Assessment agreed by the host")
        assert version.number == 2
        assert version.changes == [{"section": "assessment", "change": "replaced",
                                    "reason": "Assessment agreed by the host"}]
    with db.transaction() as s:
        same = las.change(s, actor=case.hosting.actor, la_id=la_id, sections={"assessment": agreed},
                          reason="Nothing new")
        assert same.number == 2, "an identical text is no new version: nothing to sign again"


def test_a_party_refuses_in_its_turn_with_a_comment(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare()
    digest = case.digest(la_id)

    def refuse(party: str, actor: Actor, comment: str = "Add the hygiene outcomes", quoted: str = digest) -> Any:
        with db.transaction() as s:
            return las.refuse(s, actor=actor, la_id=la_id, party=party, content_hash=quoted, comment=comment)

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
    assert case.signature_count(la_id) == 0 and case.state(la_id)["status"] == LaStatus.DRAFT
    with db.transaction(write=False) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "la.refused")).one()
        assert event.detail["comment"] == "Add the hygiene outcomes" and event.detail["la_id"] == la_id


def test_implicit_approval_after_the_period_without_objection(db: Database, frozen: FrozenClock) -> None:
    """ES (illustrative): the regional authority approves by silence within 10 days of the last party."""
    case = make_case(db, sending_country="ES")
    authority = make_party(db, "ES", "Regional authority")
    register(db, authority.org_id, "ES", CompetenceFunction.LA_APPROVAL)
    la_id = case.prepare()
    assert las_required(case, la_id)[-1] == LaParty.COMPETENT_INSTITUTION

    def implicit() -> LaSignature:
        with db.transaction() as s:
            return las.implicit_approval(s, la_id=la_id)

    with pytest.raises(Conflict, match="has not signed"):
        implicit()
    sign_all(case, la_id)
    frozen.advance(days=9, hours=23)
    with pytest.raises(Conflict, match="objection period runs until"):
        implicit()
    with pytest.raises(Forbidden), db.transaction() as s:
        las.implicit_approval(s, la_id=la_id, actor=case.sending.actor)
    frozen.advance(hours=1)
    signature = implicit()
    assert (signature.mode, signature.organisation_id, signature.signer_name) == ("implicit", authority.org_id, None)
    state = case.state(la_id)
    assert state["status"] == LaStatus.APPROVED and state["in_force"]
    with pytest.raises(Conflict, match="already approved"):
        implicit()

    nl = make_case(db, sending_country="NL")
    nl_la = nl.prepare()
    sign_all(nl, nl_la)
    with pytest.raises(Conflict, match="does not approve"), db.transaction() as s:
        las.implicit_approval(s, la_id=nl_la)


def test_a_text_written_before_departure_is_signed_before_departure(db: Database, frozen: FrozenClock) -> None:
    """Also a revision made before the start (version 2), not only version 1."""
    case = make_case(db)
    la_id = case.prepare()
    with db.transaction() as s:
        las.change(s, actor=case.sending.actor, la_id=la_id, removed=[{"unit": "U2", "reason": "Covered at home"}])
    case.sign(la_id, LaParty.LEARNER)
    frozen.set(datetime(2027, 3, 1, 0, 0, tzinfo=UTC))
    with pytest.raises(Conflict, match="mobility has started"):
        case.sign(la_id, LaParty.SENDING)


def test_the_number_of_versions_is_bounded(db: Database) -> None:
    case = make_case(db)
    la_id = case.prepare({"units": [{"code": "U1"}]})
    for i in range(las.MAX_VERSIONS - 1):
        code = ("U2", "U3")[i % 2]
        with db.transaction() as s:
            current = [u["code"] for u in las.current_version(s, s.get(LearningAgreement, la_id)).content["units"]]
            added = [{"unit": code, "reason": f"round {i}"}]
            removed = [{"unit": u, "reason": f"round {i}"} for u in current if u != "U1"]
            las.change(s, actor=case.sending.actor, la_id=la_id, added=added, removed=removed)
    assert case.state(la_id)["version"] == las.MAX_VERSIONS
    with pytest.raises(Conflict, match="the most one may have"), db.transaction() as s:
        las.change(s, actor=case.sending.actor, la_id=la_id, removed=[{"unit": "U1", "reason": "one more"}])
