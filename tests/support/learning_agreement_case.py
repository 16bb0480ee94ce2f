"""A Learning Agreement under test: a MoU in force, a mobility, its parties, and helpers that sign."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

import ecvet.mobility.workflow  # noqa: F401  (registers the mobility.* actions, as the app and worker do)
from ecvet import evidence
from ecvet.mobility import learning_agreement, signatures, views
from ecvet.mobility.models import (
    LaParty,
    LaSignature,
    Learner,
    LearningAgreement,
    Mobility,
)
from ecvet.partnership.models import Mou, MouStatus, MouVersion
from engine.db import Database
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, Party, make_party
from tests.support.engine import actor_for
from tests.support.factories import make_user

#: Where the tests' frozen clock starts (their modules import it as T0).
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
            return learning_agreement.prepare(s, actor=self.sending.actor, mobility_id=self.mobility_id,
                               content=content or CONTENT).id

    def digest(self, la_id: int) -> str:
        with self.db.transaction(write=False) as s:
            return learning_agreement.current_version(s, s.get_one(LearningAgreement, la_id)).content_hash

    def sign(self, la_id: int, party: str, actor: Actor | None = None, digest: str | None = None) -> LaSignature:
        signer_actor = actor or {LaParty.LEARNER: self.learner, LaParty.SENDING: self.sending.actor,
                          LaParty.HOSTING: self.hosting.actor, LaParty.GUARDIAN: self.guardian}[party]
        signer = {LaParty.LEARNER: LEARNER_SIGNER, LaParty.GUARDIAN: GUARDIAN_SIGNER}.get(party, SIGNER)
        with self.db.transaction() as s:
            assert signer_actor is not None
            return signatures.sign(s, actor=signer_actor, la_id=la_id, party=party,
                                   content_hash=digest or self.digest(la_id),
                            signer=signer)

    def state(self, la_id: int) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            return views.agreement(s, actor=self.sending.actor, la_id=la_id)

    def signature_count(self, la_id: int) -> int:
        with self.db.transaction(write=False) as s:
            return s.scalars(select(func.count(LaSignature.id)).where(LaSignature.la_id == la_id)).one()


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
        version = MouVersion(mou_id=mou.id, number=1, content=MOU_CONTENT,
                             content_hash=evidence.content_hash(MOU_CONTENT))
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


