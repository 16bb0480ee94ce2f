"""Partnership parties and MoU texts for tests: organisations per national model, members signed in."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ecvet.national_models.service
import ecvet.review.service
from ecvet.mobility import departure, learning_agreement, signatures
from ecvet.mobility.models import LaParty, Learner, LearningAgreement, Mobility
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership import approvals, mou, views
from ecvet.partnership.models import ApprovalRole, MouStatus
from engine.db import Database
from engine.parties import Actor
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
               email: str | None = None, position: str | None = MEMBER_POSITION, place: str | None = None,
               region: str | None = None) -> Party:
    """An organisation of `country` (in `region`, if given) and one member (named `member`, with that
    signing profile)."""
    traits: dict[str, Any] = {"country": country, "region": region}
    if name:
        traits["name"] = name
    org = make_org(db, **traits)
    person = make_user(db, organisation_ids=[org.id], name=member, email=email, position=position, place=place)
    return Party(org.id, actor_for(db, person.id), person.id, person.email, member or person.email.split("@")[0])


def register(db: Database, org_id: int, country: str, function: str = CompetenceFunction.MOU_APPROVAL, *,
             region: str | None = None, sector: str | None = None) -> None:
    """Make the organisation the competent institution for `function` in `country` (only in `region`,
    only for `sector`, when given)."""
    with db.transaction() as s:
        ecvet.national_models.service.register_competence(s, actor=None, organisation_id=org_id, country=country,
                                                          function=function, region=region, sector=sector)


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

    overrides: dict[str, Any] = {"qualifications": [{
        "title": "Cook", "country": countries[0], "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
        "units": copy.deepcopy(MOBILITY_UNITS)}]}
    if sector:
        overrides["sector"] = sector
    content = mou_content(sending, hosting, countries=countries, **overrides)
    with db.transaction() as s:
        memorandum = mou.create_draft(s, actor=sending.actor, sending_organisation_id=sending.org_id, content=content)
        approvals.submit(s, actor=sending.actor, mou_id=memorandum.id)
        digest = mou.current_version(memorandum).content_hash
        for party in (sending, hosting):
            approvals.approve(s, actor=party.actor, mou_id=memorandum.id, content_hash=digest, signer=SIGNER,
                         organisation_id=party.org_id)
        if competent_institution is not None:
            approvals.approve(s, actor=competent_institution.actor, mou_id=memorandum.id, content_hash=digest,
                              signer=SIGNER,
                         as_role=ApprovalRole.COMPETENT_INSTITUTION, organisation_id=competent_institution.org_id)
        assert memorandum.status == MouStatus.ACTIVE, views.mou(s, actor=sending.actor,
                                                                mou_id=memorandum.id)["problems"]
        return memorandum.id


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
        mobility = s.get_one(Mobility, lm.mobility_id)
        mobility.national_model = ecvet.national_models.service.decide(home, sector, 4, session=s).as_dict()
        mobility.competent_institution_home_id = institution.org_id if institution else None
        la = learning_agreement.prepare(s, actor=sending.actor, mobility_id=mobility.id, content={
            "units": [{"code": code} for code in units],
            "assessment": {"method": "Practical task observed by the mentor"}})
        la_id = la.id
    signers: dict[str, tuple[Actor, dict[str, str] | None]] = {
        LaParty.LEARNER: (lm.learner, None), LaParty.SENDING: (sending.actor, SIGNER),
        LaParty.HOSTING: (hosting.actor, SIGNER)}
    if institution is not None:
        signers[LaParty.COMPETENT_INSTITUTION] = (institution.actor, SIGNER)
    with db.transaction() as s:
        required = learning_agreement.required_signatures(s, s.get_one(LearningAgreement, la_id))
    for party in required:
        actor, signer = signers[party]
        with db.transaction() as s:
            digest = learning_agreement.current_version(s, s.get_one(LearningAgreement, la_id)).content_hash
            signatures.sign(s, actor=actor, la_id=la_id, party=party, content_hash=digest, signer=signer)
    clock.set(datetime(2027, 3, 1, 8, 0, tzinfo=clock.now().tzinfo))
    with db.transaction() as s:
        departure.go_live(s, mobility_id=lm.mobility_id)
    return LiveMobility(sending, hosting, institution, outsider, lm.learner, lm.mobility_id, lm.learner_id, la_id)
