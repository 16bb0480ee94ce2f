"""Worlds of records for the tests that read them whole (documents, reviews, the API): a partnership
with its MoU and Learning Agreement in every state a document shows, and one mobility driven through
its whole life up to any stage, all through the domain's own services."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ecvet.national_models.service
import ecvet.review.service
from ecvet.mobility import assessment, departure, learning_agreement, recognition, signatures, transcript
from ecvet.mobility.models import LaParty, Mobility
from ecvet.partnership import approvals, mou
from ecvet.review.models import Review
from engine.db import Database
from engine.parties import Actor
from tests.support.ecvet_factories import (
    SIGNER,
    LearnerMobility,
    Party,
    make_learner_mobility,
    make_party,
    mou_content,
    register,
)

# --------------------------------------------------------------------------------------------------
# A partnership with its records in every state a document shows (used by the document tests)
# --------------------------------------------------------------------------------------------------

LEARNER_NAME = "Łukasz Wróbel"
GREEK_HOTEL = "Ξενοδοχείο Ήλιος Αθήνα"
BULGARIAN_HOTEL = "Хотел „София“ ЕООД"
LA_CONTENT: dict[str, Any] = {
    "units": [
        {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12,
         "learning_outcomes": ["Prepares cold starters to recipe"],
         "learning_activities": {"location": "Hotel kitchen, Sofia", "tasks": "Garde-manger station"}},
        {"code": "U2", "title": "Hygiene", "ecvet_points": 4, "learning_outcomes": ["Keeps the temperature logs"]},
    ],
    "assessment": {"assessors": [{"name": "Мария Иванова", "organisation": BULGARIAN_HOTEL, "role": "chef"}],
                   "method": "Observation of a practical task", "when": "Week 6",
                   "documentation": "Learner's Personal Transcript"},
    "validation_and_recognition": {"who": "Sending school", "how": "Comparison with the LA",
                                   "effect": "Units exempted at home"},
    "duration": {"start": "2027-03-01", "end": "2027-04-09", "weeks": 6},
}


@dataclass
class RecordsWorld:
    """A MoU (DE school, Greek and Bulgarian hotels, DE chamber) signed on version 2 after a revision
    voided the school's approval of version 1, and a Learning Agreement changed to version 2 after all
    had signed version 1, with only the learner's signature on version 2 so far."""

    sending: Party
    hosting_gr: Party
    hosting_bg: Party
    chamber: Party
    outsider: Party
    mou_id: int
    mou_hashes: list[str]
    mobility: LearnerMobility
    la_id: int
    la_hashes: list[str]


def _signed_then_changed_agreement(db: Database, step: Any, mobility: LearnerMobility, sending: Party,
                                   hosting: Party) -> tuple[int, list[str]]:
    """A Learning Agreement every party signed, changed to version 2, which only the learner signed so far."""
    step()
    with db.transaction() as s:
        la = learning_agreement.prepare(s, actor=sending.actor, mobility_id=mobility.mobility_id, content=LA_CONTENT)
        la_id = la.id
        la_hashes = [learning_agreement.current_version(s, la).content_hash]
    signers: dict[str, tuple[Actor, dict[str, str] | None]] = {
        LaParty.LEARNER: (mobility.learner, None),
        LaParty.SENDING: (sending.actor, None),
        LaParty.HOSTING: (hosting.actor, None),
    }
    for party in (LaParty.LEARNER, LaParty.SENDING, LaParty.HOSTING):
        step()
        actor, signer = signers[party]
        with db.transaction() as s:
            signatures.sign(s, actor=actor, la_id=la_id, party=party, content_hash=la_hashes[-1], signer=signer)
    step()
    with db.transaction() as s:
        version = learning_agreement.change(s, actor=sending.actor, la_id=la_id,
                             removed=[{"unit": "U2", "reason": "Hygiene is taught at home this year"}])
        la_hashes.append(version.content_hash)
    step()
    actor, signer = signers[LaParty.LEARNER]
    with db.transaction() as s:
        signatures.sign(s, actor=actor, la_id=la_id, party=LaParty.LEARNER, content_hash=la_hashes[-1], signer=signer)
    return la_id, la_hashes


def make_records_world(db: Database, clock: Any) -> RecordsWorld:
    """Build :class:`RecordsWorld` through the records' own services; `clock` (a FrozenClock) moves an
    hour between steps so every signature has its own time."""
    # Members named in their own scripts: signatures take names from accounts, documents must print them.
    sending = make_party(db, "DE", "Berufskolleg Köln", member="Anna Schmidt", email="anna@school.example",
                         position="VET coordinator", place="Köln")
    hosting_gr = make_party(db, "GR", GREEK_HOTEL, member="Γιώργος Παπαδόπουλος",
                            email="g.papadopoulos@hotel.example", position="Διευθυντής")
    hosting_bg = make_party(db, "BG", BULGARIAN_HOTEL, member="Иван Петров", email="ivan@hotel.example",
                            position="Управител")
    chamber = make_party(db, "DE", "IHK Köln", member="Jörg Müller", email="jm@ihk.example",
                         position="Ausbildungsberater")
    register(db, chamber.org_id, "DE")
    outsider = make_party(db, "DE", "Unrelated school")
    content = mou_content(sending, hosting_gr, hosting_bg, countries=("DE", "GR", "BG"))
    names = ["Berufskolleg Köln", GREEK_HOTEL, BULGARIAN_HOTEL]
    contacts = ["Anna Schmidt", "Γιώργος Παπαδόπουλος", "Иван Петров"]
    for org, name, contact in zip(content["signing_organisations"], names, contacts, strict=True):
        org["name"] = name
        org["contact_person"]["name"] = contact
    content["qualifications"][0]["units"].append(
        {"code": "U2", "title": "Hygiene", "ecvet_points": 4, "eqf_level": 4})

    def step() -> None:
        clock.advance(timedelta(hours=1))

    def approve(party: Party, mou_id: int, signer: dict[str, str] | None = None, as_role: str = "partner") -> None:
        step()
        with db.transaction() as s:
            digest = mou.current_version(mou.get(s, actor=party.actor, mou_id=mou_id)).content_hash
            approvals.approve(s, actor=party.actor, mou_id=mou_id, content_hash=digest, signer=signer, as_role=as_role)

    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content,
                                business_key="mou-koeln-2027")
        approvals.submit(s, actor=sending.actor, mou_id=memorandum.id)
        mou_id = memorandum.id
        mou_hashes = [mou.current_version(memorandum).content_hash]
    approve(sending, mou_id)
    step()
    revised = copy.deepcopy(content)
    revised["evaluation_and_review"] = "Review meeting of the partners every spring"
    with db.transaction() as s:
        mou_hashes.append(mou.revise(s, actor=sending.actor, mou_id=mou_id, content=revised).content_hash)
    approve(sending, mou_id)
    approve(hosting_gr, mou_id, {"place": "Αθήνα"})
    approve(hosting_bg, mou_id)
    approve(chamber, mou_id, as_role="competent_institution")

    mobility = make_learner_mobility(db, sending=sending, hosting=hosting_bg, mou_id=mou_id,
                                     learner_name=LEARNER_NAME)
    la_id, la_hashes = _signed_then_changed_agreement(db, step, mobility, sending, hosting_bg)
    return RecordsWorld(sending, hosting_gr, hosting_bg, chamber, outsider, mou_id, mou_hashes, mobility, la_id,
                        la_hashes)


# --------------------------------------------------------------------------------------------------
# One mobility through its whole life: assessment, transcript, validation, recognition, implications
# --------------------------------------------------------------------------------------------------

CZECH_SCHOOL = "Střední odborná škola Šťastný"
DANISH_HOTEL = "Ørsted Hotel ApS"
LIFECYCLE_LEARNER = "Jana Šťastná"
LIFECYCLE_STAGES = ("assessed", "acknowledged", "issued", "ready", "validated", "recognised", "implications")


@dataclass
class LifecycleWorld:
    """A CZ school (default national model: the school validates, then recognises) sends a learner to a
    Danish hotel; the mobility has run through `stage` (see :data:`LIFECYCLE_STAGES`). Unit U2 was first
    assessed "not achieved" and then re-assessed, so its first sheet is superseded."""

    sending: Party
    hosting: Party
    outsider: Party
    learner: Actor
    mobility_id: int
    la_id: int
    sheet_ids: list[int]  # U1, U2 (superseded), U2 (current)
    transcript_id: int | None = None
    transcript_hash: str | None = None
    recognition_id: int | None = None


def _signed_mobility(db: Database, clock: Any, sending: Party, hosting: Party) -> tuple[LearnerMobility, int]:
    """A MoU both partners approved, a mobility under it and its Learning Agreement signed by the learner,
    the school and the hotel (whose member signs with her profile), an hour apart."""
    host_signer = None
    content = mou_content(sending, hosting, countries=("CZ", "DK"))
    content["qualifications"][0]["units"].append({"code": "U2", "title": "Hygiene", "ecvet_points": 4, "eqf_level": 4})
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content)
        approvals.submit(s, actor=sending.actor, mou_id=memorandum.id)
        mou_id, digest = memorandum.id, mou.current_version(memorandum).content_hash
    for party in (sending, hosting):
        with db.transaction() as s:
            approvals.approve(s, actor=party.actor, mou_id=mou_id, content_hash=digest, signer=SIGNER)
    mobility = make_learner_mobility(db, sending=sending, hosting=hosting, mou_id=mou_id,
                                     learner_name=LIFECYCLE_LEARNER)
    with db.transaction() as s:
        la = learning_agreement.prepare(s, actor=sending.actor, mobility_id=mobility.mobility_id, content=LA_CONTENT)
        la_id, la_hash = la.id, learning_agreement.current_version(s, la).content_hash
    learner_signer = None
    signing: list[tuple[str, Actor, dict[str, str] | None]] = [(LaParty.LEARNER, mobility.learner, learner_signer),
                                                               (LaParty.SENDING, sending.actor, SIGNER),
                                                               (LaParty.HOSTING, hosting.actor, host_signer)]
    for la_party, actor, signer in signing:
        clock.advance(timedelta(hours=1))
        with db.transaction() as s:
            signatures.sign(s, actor=actor, la_id=la_id, party=la_party, content_hash=la_hash, signer=signer)
    return mobility, la_id


def make_lifecycle_world(db: Database, clock: Any, stage: str = "implications") -> LifecycleWorld:
    """Drive one mobility through the records' own services up to `stage`; `clock` (a FrozenClock) is
    moved from before the mobility (signatures) into it (assessment) and after it (recognition)."""
    stop = LIFECYCLE_STAGES.index(stage)
    clock.set(datetime(2027, 1, 11, 9, 0, tzinfo=clock.now().tzinfo))
    sending = make_party(db, "CZ", CZECH_SCHOOL, member="Anna Schmidt", position="VET coordinator")
    hosting = make_party(db, "DK", DANISH_HOTEL, member="Søren Ørsted", position="Køkkenchef", place="Aarhus")
    outsider = make_party(db, "CZ", "Jiná škola")
    mobility, la_id = _signed_mobility(db, clock, sending, hosting)
    host_signer = None  # the hotel's member signs with her profile: Søren Ørsted, Køkkenchef, Aarhus
    clock.set(datetime(2027, 3, 1, 8, 0, tzinfo=clock.now().tzinfo))
    with db.transaction() as s:
        departure.go_live(s, mobility_id=mobility.mobility_id)
    clock.set(datetime(2027, 3, 20, 10, 0, tzinfo=clock.now().tzinfo))
    assessor = {"name": "Søren Ørsted", "organisation": DANISH_HOTEL, "role": "Køkkenchef"}

    def sheet(unit: str, result: str, on: str, **extra: Any) -> dict[str, Any]:
        return {"unit": unit, "method": "practical_task", "result": result, "assessor": assessor, "date": on,
                "criteria": f"Criteria of {unit}", "learning_outcome": f"Outcomes of {unit}", **extra}

    with db.transaction() as s:
        first = assessment.record(s, actor=hosting.actor, mobility_id=mobility.mobility_id, assessments=[
            sheet("U1", "achieved", "2027-03-18", grade="sehr gut", evidence="Photos of the buffet"),
            sheet("U2", "not_achieved", "2027-03-19", comments="Temperature log incomplete")])
        first_ids = [r.id for r in first]
    clock.set(datetime(2027, 4, 2, 10, 0, tzinfo=clock.now().tzinfo))
    with db.transaction() as s:
        again = assessment.record(s, actor=hosting.actor, mobility_id=mobility.mobility_id, assessments=[
            sheet("U2", "achieved", "2027-04-01", comments="Re-assessed: complete log")])
        sheet_ids = first_ids + [again[0].id]
    world = LifecycleWorld(sending, hosting, outsider, mobility.learner, mobility.mobility_id, la_id, sheet_ids)
    clock.set(datetime(2027, 4, 8, 10, 0, tzinfo=clock.now().tzinfo))

    def acknowledged(s: Any) -> None:
        assessment.acknowledge(s, actor=mobility.learner, mobility_id=mobility.mobility_id, agrees=False,
                               comment="U2 took two attempts because the log template was new to me")

    def issued(s: Any) -> None:
        # The learner's last day is today, a day early: validation and recognition may follow at once.
        row = transcript.issue(s, actor=hosting.actor, mobility_id=mobility.mobility_id, signer=host_signer,
                               period={"end": "2027-04-08"}, hours=[{"unit": "U1", "hours": 120}])
        world.transcript_id, world.transcript_hash = row.id, row.content_hash

    def ready(s: Any) -> None:
        transcript.mark_ready(s, actor=hosting.actor, mobility_id=mobility.mobility_id)

    def validated(s: Any) -> None:
        recognition.validate(s, actor=sending.actor, mobility_id=mobility.mobility_id,
                             transcript_hash=world.transcript_hash or "", signer=SIGNER, units=[
                                 {"unit": "U1", "outcome": "validated"},
                                 {"unit": "U2", "outcome": "partly_validated", "comment": "Cold chain only"}])

    def recognised(s: Any) -> None:
        decision = recognition.recognise(s, actor=sending.actor, mobility_id=mobility.mobility_id,
                                         transcript_hash=world.transcript_hash or "", signer=SIGNER, units=[
                                             {"unit": "U1", "recognised": True},
                                             {"unit": "U2", "recognised": True, "ecvet_points": 2}])
        world.recognition_id = decision.id

    def implications(s: Any) -> None:
        recognition.record_implications(s, actor=sending.actor, mobility_id=mobility.mobility_id, implications=[
            {"kind": "exempted_activity", "description": "No cold-kitchen module in term 3", "unit": "U1"}])

    steps = [acknowledged, issued, ready, validated, recognised, implications]
    for step in steps[:stop]:
        clock.advance(timedelta(hours=2))
        with db.transaction() as s:
            step(s)
    return world


@dataclass
class ReviewRecords:
    """The review of a recognised mobility: three evaluation sheets (sending, hosting, learner) and a plan."""

    review_id: int
    evaluation_ids: dict[str, int]
    action_plan_id: int


def make_review(db: Database, life: LifecycleWorld) -> ReviewRecords:
    """Open a review of the lifecycle world's mobility (as its Review process would) and write the sheets
    and the action plan through :mod:`records.review`."""

    with db.transaction() as s:
        mobility = s.get_one(Mobility, life.mobility_id)
        review = Review(mobility_id=mobility.id, mou_id=mobility.mou_id,
                        sending_organisation_id=mobility.sending_organisation_id,
                        hosting_organisation_id=mobility.hosting_organisation_id,
                        learner_user_id=mobility.learner.user_id, status="evaluating")
        s.add(review)
        s.flush()
        review_id = review.id
    answers: dict[str, dict[str, Any]] = {
        "sending": {"outcomes_appropriate": "yes", "evidence_sufficient": "partly",
                    "evidence_comment": "The U2 sheet lacked the temperature log", "strengths": "Clear criteria",
                    "changes_proposed": "Send the log template before departure",
                    "unit_remarks": [{"unit": "U2", "remark": "Log template unknown to the learner"}]},
        "hosting": {"outcomes_appropriate": "yes", "evidence_sufficient": "yes", "strengths": "Motivated learner"},
        "learner": {"outcomes_appropriate": "partly", "outcomes_comment": "U2 needed more time",
                    "evidence_sufficient": "yes", "changes_proposed": "Two weeks more for hygiene"},
    }
    actors = {"sending": life.sending.actor, "hosting": life.hosting.actor, "learner": life.learner}
    evaluation_ids = {}
    for party, values in answers.items():
        with db.transaction() as s:
            review = ecvet.review.service.get(s, actor=actors[party], review_id=review_id)
            evaluation_ids[party] = ecvet.review.service.evaluate(s, actor=actors[party], review=review, party=party,
                                                     answers=values).id
    with db.transaction() as s:
        review = ecvet.review.service.get(s, actor=life.sending.actor, review_id=review_id)
        plan = ecvet.review.service.plan(s, actor=life.sending.actor, review=review,
                                         summary="Prepare hygiene logging earlier",
                            items=[{"action": "Send the log template with the LA", "owner": "sending",
                                    "owner_name": "Anna Schmidt", "due_date": "2027-06-30"},
                                   {"action": "Brief the learner on HACCP logs", "owner": "hosting",
                                    "due_date": "2027-09-01"}])
        action_plan_id = plan.id
    return ReviewRecords(review_id, evaluation_ids, action_plan_id)
