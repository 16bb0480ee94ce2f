"""Partnership parties and MoU texts for tests: organisations per national model, members signed in."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.db import Database
from engine.parties import Actor
from records import national_models
from records.models import CompetenceFunction
from tests.support.engine import actor_for
from tests.support.factories import make_org, make_user

#: What a form asks of a signer: the position (and place); name and e-mail come from the account.
SIGNER = {"position": "VET coordinator"}


@dataclass
class Party:
    """An organisation and one member acting for it."""

    org_id: int
    actor: Actor
    user_id: int
    email: str
    name: str = ""


#: The position a party's member signs in unless a test says otherwise (None: a profile without one).
MEMBER_POSITION = "Coordinator"


def make_party(db: Database, country: str, name: str | None = None, *, member: str | None = None,
               email: str | None = None, position: str | None = MEMBER_POSITION, place: str | None = None) -> Party:
    """An organisation of `country` and one member (named `member`, with that signing profile)."""
    traits: dict[str, Any] = {"country": country}
    if name:
        traits["name"] = name
    org = make_org(db, **traits)
    person = make_user(db, organisation_ids=[org.id], name=member, email=email, position=position, place=place)
    return Party(org.id, actor_for(db, person.id), person.id, person.email, member or person.email.split("@")[0])


def register(db: Database, org_id: int, country: str, function: str = CompetenceFunction.MOU_APPROVAL) -> None:
    """Make the organisation the competent institution for `function` in `country`."""
    with db.transaction() as s:
        national_models.register_competence(s, actor=None, organisation_id=org_id, country=country,
                                            function=function)


def mou_content(*signing: Party, countries: tuple[str, ...] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete MoU text (European template fields) signed by the given parties, sending first."""
    content: dict[str, Any] = {
        "file_code": "MoU-2027-001",
        "objectives": {"mutual_acceptance": ["assessment", "validation", "recognition"],
                       "other": "Regular exchanges of cooks in training"},
        "signing_organisations": [
            {
                "organisation_id": party.org_id,
                "role": "sending" if i == 0 else "hosting",
                "country": (countries[i] if countries else None) or "DE",
                "name": f"Organisation {party.org_id}",
                "address": "Main street 1",
                "website": "https://example.org",
                "contact_person": {"name": f"Contact {i}", "position": "Coordinator", "phone": "+49 1",
                                   "email": f"contact{i}@example.org"},
            }
            for i, party in enumerate(signing)
        ],
        "other_organisations": [],
        "qualifications": [{
            "title": "Cook", "country": "DE", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
            "units": [{"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "eqf_level": 4}],
        }],
        "arrangements": {
            "assessment": {"how": "Practical task observed by the host mentor",
                           "organisation_ids": [signing[-1].org_id]},
            "documentation": {"how": "Learner's Personal Transcript", "organisation_ids": [signing[-1].org_id]},
            "validation": {"how": "Comparison with the LA", "organisation_ids": [signing[0].org_id]},
            "recognition": {"how": "Units awarded at home", "organisation_ids": [signing[0].org_id]},
        },
        "mobility_duration_weeks": {"min": 3, "max": 12},
        "valid_until": "2099-12-31",
        "evaluation_and_review": "Yearly review meeting of the partners",
    }
    for key, value in overrides.items():
        content[key] = value
    return copy.deepcopy(content)


@dataclass
class LearnerMobility:
    """A learner (with an account to sign with) and their mobility under a MoU."""

    mobility_id: int
    learner_id: int
    learner: Actor


def make_learner_mobility(
    db: Database,
    *,
    sending: Party,
    hosting: Party,
    mou_id: int,
    learner_name: str = "Lena Vos",
    born: Any = None,
    qualification_title: str = "Cook",
    start: Any = None,
    end: Any = None,
    sector: str | None = None,
) -> LearnerMobility:
    """A learner with an account and a mobility from `sending` to `hosting` (defaults: adult, March 2027)."""
    from datetime import date

    from records.models import Learner, Mobility

    person = make_user(db, name=learner_name)
    with db.transaction() as s:
        learner = Learner(name=learner_name, date_of_birth=born or date(2005, 5, 5),
                          email=f"learner{person.id}@learner.example", guardian_name=None, guardian_email=None,
                          user_id=person.id)
        s.add(learner)
        s.flush()
        mobility = Mobility(learner_id=learner.id, mou_id=mou_id, sending_organisation_id=sending.org_id,
                            hosting_organisation_id=hosting.org_id, qualification_title=qualification_title,
                            qualification_eqf_level=4, sector=sector, start_date=start or date(2027, 3, 1),
                            end_date=end or date(2027, 4, 9))
        s.add(mobility)
        s.flush()
        ids = (mobility.id, learner.id)
    return LearnerMobility(ids[0], ids[1], actor_for(db, person.id))


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
        {"code": "U2", "title": "Hygiene", "ecvet_points": 4},
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


def make_records_world(db: Database, clock: Any) -> RecordsWorld:
    """Build :class:`RecordsWorld` through the records' own services; `clock` (a FrozenClock) moves an
    hour between steps so every signature has its own time."""
    from datetime import timedelta

    from records import learning_agreement as las
    from records import mou as mous
    from records.models import LaParty

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
            digest = mous.current_version(mous.get(s, actor=party.actor, mou_id=mou_id)).content_hash
            mous.approve(s, actor=party.actor, mou_id=mou_id, content_hash=digest, signer=signer, as_role=as_role)

    with db.transaction() as s:
        mou = mous.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content,
                                business_key="mou-koeln-2027")
        mous.submit(s, actor=sending.actor, mou_id=mou.id)
        mou_id = mou.id
        mou_hashes = [mous.current_version(mou).content_hash]
    approve(sending, mou_id)
    step()
    revised = copy.deepcopy(content)
    revised["evaluation_and_review"] = "Review meeting of the partners every spring"
    with db.transaction() as s:
        mou_hashes.append(mous.revise(s, actor=sending.actor, mou_id=mou_id, content=revised).content_hash)
    approve(sending, mou_id)
    approve(hosting_gr, mou_id, {"place": "Αθήνα"})
    approve(hosting_bg, mou_id)
    approve(chamber, mou_id, as_role="competent_institution")

    mobility = make_learner_mobility(db, sending=sending, hosting=hosting_bg, mou_id=mou_id,
                                     learner_name=LEARNER_NAME)
    step()
    with db.transaction() as s:
        la = las.prepare(s, actor=sending.actor, mobility_id=mobility.mobility_id, content=LA_CONTENT)
        la_id = la.id
        la_hashes = [las.current_version(s, la).content_hash]
    signers: dict[str, tuple[Actor, dict[str, str] | None]] = {
        LaParty.LEARNER: (mobility.learner, None),
        LaParty.SENDING: (sending.actor, None),
        LaParty.HOSTING: (hosting_bg.actor, None),
    }
    for party in (LaParty.LEARNER, LaParty.SENDING, LaParty.HOSTING):
        step()
        actor, signer = signers[party]
        with db.transaction() as s:
            las.sign(s, actor=actor, la_id=la_id, party=party, content_hash=la_hashes[-1], signer=signer)
    step()
    with db.transaction() as s:
        version = las.change(s, actor=sending.actor, la_id=la_id,
                             removed=[{"unit": "U2", "reason": "Hygiene is taught at home this year"}])
        la_hashes.append(version.content_hash)
    step()
    actor, signer = signers[LaParty.LEARNER]
    with db.transaction() as s:
        las.sign(s, actor=actor, la_id=la_id, party=LaParty.LEARNER, content_hash=la_hashes[-1], signer=signer)
    return RecordsWorld(sending, hosting_gr, hosting_bg, chamber, outsider, mou_id, mou_hashes, mobility, la_id,
                        la_hashes)


# --------------------------------------------------------------------------------------------------
# Mobility process: a MoU in force covering a qualification with three units
# --------------------------------------------------------------------------------------------------

MOBILITY_UNITS = [
    {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "eqf_level": 4},
    {"code": "U2", "title": "Hygiene and food safety", "ecvet_points": 4, "eqf_level": 4},
    {"code": "U3", "title": "Serving guests", "ecvet_points": 6, "eqf_level": 4},
]


def active_mou(
    db: Database,
    sending: Party,
    hosting: Party,
    *,
    countries: tuple[str, str],
    competent_institution: Party | None = None,
    sector: str | None = None,
) -> int:
    """A MoU in force between `sending` and `hosting` for the qualification "Cook" (EQF 4, units U1-U3),
    approved by every partner and, where the home country's national model requires it, by
    `competent_institution` (registered by the caller for ``mou_approval``)."""
    from records import mou as mous
    from records.models import ApprovalRole, MouStatus

    overrides: dict[str, Any] = {"qualifications": [{
        "title": "Cook", "country": countries[0], "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
        "units": copy.deepcopy(MOBILITY_UNITS)}]}
    if sector:
        overrides["sector"] = sector
    content = mou_content(sending, hosting, countries=countries, **overrides)
    with db.transaction() as s:
        mou = mous.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content)
        mous.submit(s, actor=sending.actor, mou_id=mou.id)
        digest = mous.current_version(mou).content_hash
        for party in (sending, hosting):
            mous.approve(s, actor=party.actor, mou_id=mou.id, content_hash=digest, signer=SIGNER,
                         organisation_id=party.org_id)
        if competent_institution is not None:
            mous.approve(s, actor=competent_institution.actor, mou_id=mou.id, content_hash=digest, signer=SIGNER,
                         as_role=ApprovalRole.COMPETENT_INSTITUTION, organisation_id=competent_institution.org_id)
        assert mou.status == MouStatus.ACTIVE, mous.detail(s, actor=sending.actor, mou_id=mou.id)["problems"]
        return mou.id


@dataclass
class LiveMobility:
    """A mobility whose Learning Agreement every required party signed, live since its start date."""

    sending: Party
    hosting: Party
    competent_institution: Party | None
    outsider: Party
    learner: Actor
    mobility_id: int
    learner_id: int
    la_id: int


def make_live_mobility(
    db: Database,
    clock: Any,
    *,
    home: str = "NL",
    abroad: str = "BE",
    competences: tuple[str, ...] = (),
    sector: str | None = None,
    units: tuple[str, ...] = ("U1", "U2"),
) -> LiveMobility:
    """Through the records' services, no process: MoU in force, mobility from 2027-03-01 to 2027-04-09
    with the home country's national model, LA with `units` signed by every required party (the
    competent institution, registered for `competences`, approves explicitly where the model says so),
    then `clock` (a FrozenClock) is set to the start date and the mobility goes live."""
    from datetime import datetime

    from records import learning_agreement as las
    from records import mobility as mobilities
    from records import national_models
    from records.models import LaParty, Mobility

    sending, hosting = make_party(db, home, "Sending school"), make_party(db, abroad, "Hosting company")
    outsider = make_party(db, home, "Unrelated school")
    institution = None
    if competences:
        institution = make_party(db, home, "Competent institution")
        for function in competences:
            register(db, institution.org_id, home, function)
    mou_id = active_mou(db, sending, hosting, countries=(home, abroad), sector=sector,
                        competent_institution=institution if CompetenceFunction.MOU_APPROVAL in competences else None)
    lm = make_learner_mobility(db, sending=sending, hosting=hosting, mou_id=mou_id, sector=sector)
    with db.transaction() as s:
        mobility = s.get(Mobility, lm.mobility_id)
        mobility.national_model = national_models.decide(home, sector, 4, session=s).as_dict()
        mobility.competent_institution_home_id = institution.org_id if institution else None
        la = las.prepare(s, actor=sending.actor, mobility_id=mobility.id, content={
            "units": [{"code": code} for code in units],
            "assessment": {"method": "Practical task observed by the mentor"}})
        la_id = la.id
    signers: dict[str, tuple[Actor, dict[str, str] | None]] = {
        LaParty.LEARNER: (lm.learner, None), LaParty.SENDING: (sending.actor, SIGNER),
        LaParty.HOSTING: (hosting.actor, SIGNER)}
    if institution is not None:
        signers[LaParty.COMPETENT_INSTITUTION] = (institution.actor, SIGNER)
    with db.transaction() as s:
        required = las.required_signatures(s, s.get(las.LearningAgreement, la_id))
    for party in required:
        actor, signer = signers[party]
        with db.transaction() as s:
            digest = las.current_version(s, s.get(las.LearningAgreement, la_id)).content_hash
            las.sign(s, actor=actor, la_id=la_id, party=party, content_hash=digest, signer=signer)
    clock.set(datetime(2027, 3, 1, 8, 0, tzinfo=clock.now().tzinfo))
    with db.transaction() as s:
        mobilities.go_live(s, mobility_id=lm.mobility_id)
    return LiveMobility(sending, hosting, institution, outsider, lm.learner, lm.mobility_id, lm.learner_id, la_id)


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


def make_lifecycle_world(db: Database, clock: Any, stage: str = "implications") -> LifecycleWorld:
    """Drive one mobility through the records' own services up to `stage`; `clock` (a FrozenClock) is
    moved from before the mobility (signatures) into it (assessment) and after it (recognition)."""
    from datetime import datetime, timedelta

    from records import assessment, recognition
    from records import learning_agreement as las
    from records import mobility as mobilities
    from records import mou as mous
    from records import transcript as transcripts
    from records.models import LaParty

    stop = LIFECYCLE_STAGES.index(stage)
    clock.set(datetime(2027, 1, 11, 9, 0, tzinfo=clock.now().tzinfo))
    sending = make_party(db, "CZ", CZECH_SCHOOL, member="Anna Schmidt", position="VET coordinator")
    hosting = make_party(db, "DK", DANISH_HOTEL, member="Søren Ørsted", position="Køkkenchef", place="Aarhus")
    outsider = make_party(db, "CZ", "Jiná škola")
    content = mou_content(sending, hosting, countries=("CZ", "DK"))
    content["qualifications"][0]["units"].append({"code": "U2", "title": "Hygiene", "ecvet_points": 4, "eqf_level": 4})
    with db.transaction() as s:
        mou = mous.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content)
        mous.submit(s, actor=sending.actor, mou_id=mou.id)
        mou_id, digest = mou.id, mous.current_version(mou).content_hash
    for party in (sending, hosting):
        with db.transaction() as s:
            mous.approve(s, actor=party.actor, mou_id=mou_id, content_hash=digest, signer=SIGNER)
    mobility = make_learner_mobility(db, sending=sending, hosting=hosting, mou_id=mou_id,
                                     learner_name=LIFECYCLE_LEARNER)
    host_signer = None  # the hotel's member signs with her profile: Søren Ørsted, Køkkenchef, Aarhus
    with db.transaction() as s:
        la = las.prepare(s, actor=sending.actor, mobility_id=mobility.mobility_id, content=LA_CONTENT)
        la_id, la_hash = la.id, las.current_version(s, la).content_hash
    learner_signer = None
    for party, actor, signer in ((LaParty.LEARNER, mobility.learner, learner_signer),
                                 (LaParty.SENDING, sending.actor, SIGNER),
                                 (LaParty.HOSTING, hosting.actor, host_signer)):
        clock.advance(timedelta(hours=1))
        with db.transaction() as s:
            las.sign(s, actor=actor, la_id=la_id, party=party, content_hash=la_hash, signer=signer)
    clock.set(datetime(2027, 3, 1, 8, 0, tzinfo=clock.now().tzinfo))
    with db.transaction() as s:
        mobilities.go_live(s, mobility_id=mobility.mobility_id)
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
        row = transcripts.issue(s, actor=hosting.actor, mobility_id=mobility.mobility_id, signer=host_signer)
        world.transcript_id, world.transcript_hash = row.id, row.content_hash

    def ready(s: Any) -> None:
        transcripts.mark_ready(s, actor=hosting.actor, mobility_id=mobility.mobility_id)

    def validated(s: Any) -> None:
        recognition.validate(s, actor=sending.actor, mobility_id=mobility.mobility_id,
                             transcript_hash=world.transcript_hash, signer=SIGNER, units=[
                                 {"unit": "U1", "outcome": "validated"},
                                 {"unit": "U2", "outcome": "partly_validated", "comment": "Cold chain only"}])

    def recognised(s: Any) -> None:
        decision = recognition.recognise(s, actor=sending.actor, mobility_id=mobility.mobility_id,
                                         transcript_hash=world.transcript_hash, signer=SIGNER, units=[
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
    from records import review as reviews
    from records.models import Mobility, Review

    with db.transaction() as s:
        mobility = s.get(Mobility, life.mobility_id)
        review = Review(mobility_id=mobility.id, mou_id=mobility.mou_id,
                        sending_organisation_id=mobility.sending_organisation_id,
                        hosting_organisation_id=mobility.hosting_organisation_id,
                        learner_user_id=mobility.learner.user_id, status="evaluating")
        s.add(review)
        s.flush()
        review_id = review.id
    answers = {
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
            review = reviews.get(s, actor=actors[party], review_id=review_id)
            evaluation_ids[party] = reviews.evaluate(s, actor=actors[party], review=review, party=party,
                                                     answers=values).id
    with db.transaction() as s:
        review = reviews.get(s, actor=life.sending.actor, review_id=review_id)
        plan = reviews.plan(s, actor=life.sending.actor, review=review, summary="Prepare hygiene logging earlier",
                            items=[{"action": "Send the log template with the LA", "owner": "sending",
                                    "owner_name": "Anna Schmidt", "due_date": "2027-06-30"},
                                   {"action": "Brief the learner on HACCP logs", "owner": "hosting",
                                    "due_date": "2027-09-01"}])
        action_plan_id = plan.id
    return ReviewRecords(review_id, evaluation_ids, action_plan_id)
