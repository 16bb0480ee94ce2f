"""The demo that `make run` seeds (``ecvet bootstrap-demo``): parties in three countries under three
national models, a qualification with units, a user per party, and work under way, so a newcomer
signs in and finds tasks at once.

Everything is made through the platform's services, and the lifecycle runs through the real processes
(tasks completed as the people whose lanes hold them; time-bound steps done by the worker's jobs on a
clock moved through the recent past), so histories, documents and audit trails are as real use leaves them.

Idempotent: parties are found by Erasmus+ OID and e-mail, each scenario by its process instance's
business key, and a step is taken only if its task has never been completed; so a second run changes
nothing, and a run after someone used the demo (signed, rejected, withdrew...) leaves their work alone.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import ecvet.mobility.nomination
import ecvet.mobility.service
import ecvet.partnership.service
import ecvet.qualification.service
from demo import consortium
from demo import group as demo_group
from demo.cast import (
    ASSESSMENT_CRITERIA,
    CHAMBER_COVERED,
    COMPETENCES,
    CONTACTS,
    COOK_UNITS,
    HOTEL_UNITS,
    LA_COMMON,
    LA_LEARNERS,
    LA_RESPONSIBLE,
    ORG_DETAILS,
    ORGANISATIONS,
    PEOPLE,
    UNIT_DESCRIPTIONS,
    DemoOrganisation,
)
from demo.steps import Step, approve, sign
from demo.steps import StuckError as _StuckError
from ecvet import wiring
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.national_models.service import register_competence
from ecvet.partnership.models import Mou, MouStatus, Partnership
from ecvet.qualification.models import Qualification
from engine import clock, deployments, jobs, parties, tasks
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import NotFound
from engine.models import HumanTask, InstanceStatus, Organisation, ProcessInstance, TaskState, User
from engine.parties import Actor

#: One password for every demo user, printed by `make run`: development only.
DEMO_PASSWORD = "ecvet-demo-2026"
#: The files the demo's processes need; `make run` deploys all of processes/ before seeding anyway.
PROCESS_FILES = ("partnership.bpmn", "mobility.bpmn", "review.bpmn", "national_models.dmn")



@dataclass
class DemoLogin:
    """One line of the printed table: who signs in with what, and what waits for them now."""

    email: str
    password: str
    name: str
    what: str
    organisation: str | None
    tasks: list[str]
    otherwise: str


@dataclass
class DemoResult:
    logins: list[DemoLogin]
    #: Scenarios left as they were, and why (someone ended them, or a step could not be taken).
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# The seed
# --------------------------------------------------------------------------------------------------


def seed(db: Database) -> DemoResult:
    """Create the demo (or complete what is missing of it) and say who can do what now.

    Runs in several units of work, as the people and the worker would. The engine's clock is moved
    through the recent past while the scenarios run and put back afterwards."""
    wiring.load()
    now = clock.now()
    frozen = FrozenClock(now - timedelta(days=60))
    previous = clock.use(frozen)
    try:
        seeder = _Seeder(db, frozen, now)
        seeder.parties_and_registry()
        seeder.scenarios()
    finally:
        clock.use(previous)
    # Back in the present, the worker's due jobs: the minor's mobility reached its start date.
    jobs.run_due(db)
    return DemoResult(logins(db), seeder.notes)


def logins(db: Database) -> list[DemoLogin]:
    """The credentials table, with each person's ready tasks read from the database now."""
    rows: list[DemoLogin] = []
    with db.transaction(write=False) as s:
        names = {o.erasmus_oid: f"{o.name} ({o.country})" for o in s.scalars(select(Organisation).where(
            Organisation.erasmus_oid.in_([o.erasmus_oid for o in ORGANISATIONS])))}
        oids = {o.key: o.erasmus_oid for o in ORGANISATIONS}
        for person in PEOPLE:
            user = s.scalar(select(User).where(User.email == person.email))
            ready: list[str] = []
            if user is not None:
                page = tasks.list_for(s, actor=Actor.of(user), limit=20)
                ready = [t.name for t in page.items]
            organisation = names.get(oids[person.organisation]) if person.organisation else None
            rows.append(DemoLogin(person.email, DEMO_PASSWORD, person.name, person.what, organisation, ready,
                                  person.otherwise))
    return rows


class _Seeder:
    def __init__(self, db: Database, frozen: FrozenClock, now: datetime) -> None:
        self.db = db
        self.frozen = frozen
        self.now = now
        self.orgs: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.cook_id: int | None = None
        self.notes: list[str] = []

    # Parties ---------------------------------------------------------------------------------------

    def parties_and_registry(self) -> None:
        with self.db.transaction() as s:
            self._deploy_if_missing(s)
            for org in ORGANISATIONS:
                found = s.scalar(select(Organisation).where(Organisation.erasmus_oid == org.erasmus_oid))
                if found is None:
                    found = parties.create_organisation(s, actor=None, name=org.name, country=org.country,
                                                        erasmus_oid=org.erasmus_oid, pic=org.pic, region=org.region)
                self.orgs[org.key] = found.id
            for key, country, function, region in COMPETENCES:
                known = s.scalar(select(OrganisationCompetence.id).where(
                    OrganisationCompetence.organisation_id == self.orgs[key], OrganisationCompetence.country == country,
                    OrganisationCompetence.function == function))
                if known is None:
                    register_competence(s, actor=None, organisation_id=self.orgs[key], country=country,
                                        function=function, region=region)
            for person in PEOPLE:
                user = s.scalar(select(User).where(User.email == person.email))
                if user is None:
                    user = parties.create_user(
                        s, actor=None, email=person.email, name=person.name, password=DEMO_PASSWORD,
                        is_admin=person.is_admin,
                        organisation_ids=[self.orgs[person.organisation]] if person.organisation else [],
                        position=person.position,
                        place=self._organisation(person.organisation).city if person.organisation else None)
                self.users[person.key] = user.id
            cook = ecvet.qualification.service.find(s, title="Cook", country="DE")
            if cook is None:
                cook = ecvet.qualification.service.register(
                    s, actor=None, title="Cook", country="DE", eqf_level=4, nqf_level="4 (DQR)", ecvet_points=180,
                    awarding_organisation_id=self.orgs["chamber"], units=COOK_UNITS)
            self.cook_id = cook.id

    def _deploy_if_missing(self, s: Session) -> None:
        """`make run` deploys processes/ first; the seed deploys what it needs itself when run alone
        (identical files give the same versions, so this never makes a new version of a deployed file)."""
        try:
            for key in ("partnership", "mobility", "review"):
                deployments.get_definition(s, key=key)
        except NotFound:
            files = {name: (ROOT / "processes" / name).read_bytes() for name in PROCESS_FILES}
            deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms", source="demo")

    def actor(self, s: Session, key: str) -> Actor:
        user = s.get(User, self.users[key])
        assert user is not None
        return Actor.of(user)

    # Scenarios -------------------------------------------------------------------------------------

    def scenarios(self) -> None:
        """In the order they happened: the Köln-València partnership (MoU in force after the Spanish
        authority's 20 days), Lea's mobility (signed, live since its start date last week), the
        Köln-Amsterdam partnership (waiting for the Dutch school and the chamber), then Jonas's
        mobility (waiting for his signature) and Elif's (just nominated)."""
        n = self.now
        valencia = self._run("Partnership Köln – València (cooks)", lambda: self._partnership_valencia(n))
        if valencia is not None:  # the mobilities need its MoU in force
            self._run("Lea Hoffmann · Cook · Köln → València", lambda: self._mobility_lea(n, valencia))
        self._run("Partnership Köln – Amsterdam (cooks)", lambda: self._partnership_amsterdam(n))
        if valencia is not None:
            self._run("Jonas Keller · Cook · Köln → València", lambda: self._mobility_jonas(n, valencia))
            self._run("Elif Yılmaz · Cook · Köln → València", lambda: self._mobility_elif(n, valencia))
            demo_group.seed_group(self.db, self.frozen, now=n, mou_id=valencia, orgs=self.orgs)
        self._run(consortium.CONSORTIUM, lambda: consortium.partnership(self, n))

    def _run(self, name: str, scenario: Callable[[], Any]) -> Any:
        try:
            return scenario()
        except _StuckError as stuck:
            self.notes.append(f"{name}: left as it is ({stuck})")
            return None

    def _instance(self, process_key: str, business_key: str) -> ProcessInstance | None:
        with self.db.transaction(write=False) as s:
            instance = s.scalar(select(ProcessInstance).where(
                ProcessInstance.process_key == process_key, ProcessInstance.business_key == business_key)
                .order_by(ProcessInstance.created_at).limit(1))
            if instance is not None and instance.status not in InstanceStatus.ACTIVE:
                raise _StuckError(f"its process instance is {instance.status}")
            return instance

    def _drive(self, instance_id: str, began: datetime, steps: list[Step]) -> None:
        for step in steps:
            with self.db.transaction(write=False) as s:
                rows = list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                              HumanTask.bpmn_id == step.bpmn_id)))
            if any(r.state == TaskState.COMPLETED for r in rows):
                continue  # done before: by this seed, or by someone using the demo
            ready = [r for r in rows if r.state == TaskState.READY]
            if not ready:
                raise _StuckError(f"the task {step.bpmn_id} is not ready")
            self.frozen.set(began + step.at)
            with self.db.transaction() as s:
                actor = self.actor(s, step.who)
                values = tasks.detail(s, actor=actor, task_id=ready[0].id)["form"]["values"]
                tasks.complete(s, actor=actor, task_id=ready[0].id, data=step.data(values))

    def _worker_at(self, moment: datetime) -> None:
        """Let the worker run what is due at `moment` (timers, connectors, notifications)."""
        self.frozen.set(moment)
        jobs.run_due(self.db)

    # Partnerships ----------------------------------------------------------------------------------

    def _start_partnership(self, business_key: str, hosting: str, began: datetime) -> str:
        instance = self._instance(ecvet.partnership.service.PROCESS_KEY, business_key)
        if instance is not None:
            return instance.id
        self.frozen.set(began)
        with self.db.transaction() as s:
            return ecvet.partnership.service.start(s, actor=self.actor(s, "coordinator"),
                                      sending_organisation_id=self.orgs["school"],
                                      hosting_organisation_id=self.orgs[hosting], business_key=business_key).id

    def _partnership_steps(self, hosting: str, partner_country_text: str, file_code: str) -> list[Step]:
        host_roles = {"hotel": "region", "college": "college"}[hosting]
        return [
            Step("describe_sending", "coordinator", timedelta(hours=1),
                 lambda _: {"sending_profile": self._profile("school", "Dual system (Ausbildung): three years, "
                                                             "one or two days a week at the Berufskolleg, the rest "
                                                             "in a company; final examination by the IHK.")}),
            Step("describe_hosting", CONTACTS[hosting], timedelta(days=1),
                 lambda _: {"hosting_profile": self._profile(hosting, partner_country_text)}),
            Step("map_roles", "coordinator", timedelta(days=1, hours=3),
                 lambda _: {"ecvet_roles": self._roles(hosting, host_roles),
                            "roles_notes": "Validation at the school, recognition and credit by the IHK."}),
            Step("draft_mou", "coordinator", timedelta(days=2),
                 lambda _: self._mou(hosting, file_code)),
            Step("submit_mou", "coordinator", timedelta(days=2, hours=1),
                 lambda v: {"confirmed": True, "signer": v.get("signer")}),
        ]

    def _partnership_valencia(self, n: datetime) -> int:
        """Started eight weeks ago; the hotel and the chamber approved within days, the Spanish regional
        authority by not objecting within its 20 days (recorded by the worker): the MoU is in force."""
        began = n - timedelta(days=56)
        instance_id = self._start_partnership("Partnership Köln – València (cooks)", "hotel", began)
        self._drive(instance_id, began, [
            *self._partnership_steps("hotel", "Formación Profesional in the Comunitat Valenciana: the hotel trains "
                                              "apprentices of the Técnico en Cocina y Gastronomía (FP Dual).",
                                     f"MoU-KOELN-VALENCIA-{began.year}"),
            Step("approve_hosting", "mentor", timedelta(days=4), approve),
            Step("approve_ci_home", "chamber_officer", timedelta(days=6), approve),
        ])
        mou = self._mou_of(instance_id)
        if mou.status != MouStatus.ACTIVE:
            self._worker_at(began + timedelta(days=22, hours=3))  # the objection period (20 days) is over
            mou = self._mou_of(instance_id)
        if mou.status != MouStatus.ACTIVE:
            raise _StuckError(f"its MoU is {mou.status}")
        return mou.id

    def _partnership_amsterdam(self, n: datetime) -> None:
        """Started five days ago and submitted: the Dutch school (no competent institution in NL) and
        the chamber (DE) each have "Approve the MoU"."""
        began = n - timedelta(days=5)
        instance_id = self._start_partnership("Partnership Köln – Amsterdam (cooks)", "college", began)
        self._drive(instance_id, began, self._partnership_steps(
            "college", "MBO in the Netherlands: the college holds every ECVET function itself (assessment, "
                       "validation, recognition); students spend BPV periods in companies.",
            f"MoU-KOELN-AMSTERDAM-{began.year}"))

    def _mou_of(self, instance_id: str) -> Mou:
        with self.db.transaction(write=False) as s:
            partnership = s.scalar(select(Partnership).where(Partnership.instance_id == instance_id))
            mou = s.get(Mou, partnership.mou_id) if partnership is not None and partnership.mou_id else None
            if mou is None:
                raise _StuckError("its partnership has no MoU")
            return mou

    def _organisation(self, key: str) -> DemoOrganisation:
        return next(o for o in ORGANISATIONS if o.key == key)

    def _contact(self, key: str) -> dict[str, str | None]:
        person = next(p for p in PEOPLE if p.key == CONTACTS[key])
        return {"name": person.name, "position": person.position, "email": person.email}

    def _cook(self, s: Session) -> Qualification:
        cook = s.get(Qualification, self.cook_id)
        assert cook is not None
        return cook

    def _profile(self, key: str, vet_system: str) -> dict[str, Any]:
        org = self._organisation(key)
        with self.db.transaction(write=False) as s:
            offered = ecvet.qualification.service.profile_entry(self._cook(s)) if key == "school" else {
                "title": {"hotel": "Técnico en Cocina y Gastronomía (cook)", "college": "Kok (cook), MBO level 3"}[key],
                "eqf_level": 4}
        offered["sector"] = "hospitality"  # what partner search filters on
        offered["units"] = offered.get("units") or (HOTEL_UNITS if key == "hotel" else [])
        return {
            "organisation": {"name": org.name, "country": org.country, "type": "VET school" if key != "hotel"
                             else "Hotel and restaurant (training company)", "address": org.city,
                             "website": org.website, "erasmus_oid": org.erasmus_oid, "pic": org.pic,
                             "contact_person": self._contact(key)},
            "qualifications_offered": [offered],
            "vet_system": vet_system,
        }

    def _roles(self, hosting: str, host_holder: str) -> dict[str, Any]:
        home = {"assessment": "school", "validation": "school", "recognition": "chamber", "award_of_credit": "chamber",
                "mou_approval": "chamber", "la_approval": "school"}
        host = {"assessment": hosting, "validation": hosting, "recognition": hosting, "award_of_credit": hosting,
                "mou_approval": host_holder, "la_approval": host_holder}
        return {function: {"home": {"organisation_id": self.orgs[home[function]]},
                           "host": {"organisation_id": self.orgs[host[function]]}}
                for function in CompetenceFunction.ALL}

    def _mou(self, hosting: str, file_code: str) -> dict[str, Any]:
        school, host = self._organisation("school"), self._organisation(hosting)
        competent = [{"organisation_id": self.orgs["chamber"]}]
        if hosting == "hotel":
            competent.append({"organisation_id": self.orgs["region"]})
        with self.db.transaction(write=False) as s:
            covered = ecvet.qualification.service.mou_entry(self._cook(s))
        covered["units"] = [{**u, "description": UNIT_DESCRIPTIONS[u["code"]]} for u in covered["units"]]
        return {
            "file_code": file_code,
            "sector": "hospitality", "qualification_system": "dual",
            "objectives": {"mutual_acceptance": ["quality_assurance", "assessment", "validation", "recognition"],
                           "other": "Cooks in training spend three to twelve weeks in the partner's kitchen and "
                                    "bring the units achieved there home as credit."},
            "signing_organisations": [
                {"organisation_id": self.orgs[k], "role": role, "country": o.country, "name": o.name,
                 "address": o.city, "website": o.website, "erasmus_oid": o.erasmus_oid, "pic": o.pic,
                 **ORG_DETAILS[k], "contact_person": self._contact(k)}
                for k, o, role in (("school", school, "sending"), (hosting, host, "hosting"))],
            "other_organisations": [{"organisation_id": self.orgs["chamber"], **CHAMBER_COVERED}],
            "competent_institutions": competent,
            "qualifications": [covered],
            "arrangements": {
                "assessment": {"how": "The mentor observes practical tasks in the kitchen and fills in an "
                                      "assessment sheet per unit", "organisation_ids": [self.orgs[hosting]]},
                "documentation": {"how": "Learner's Personal Transcript issued by the host",
                                  "organisation_ids": [self.orgs[hosting]]},
                "validation": {"how": "The school compares the transcript with the Learning Agreement",
                               "organisation_ids": [self.orgs["school"]]},
                "recognition": {"how": "The IHK recognises the validated units and awards their ECVET points",
                                "organisation_ids": [self.orgs["chamber"]]},
            },
            "mobility_duration_weeks": {"min": 3, "max": 12},
            "valid_until": (self.now + timedelta(days=730)).date().isoformat(),
            "evaluation_and_review": "The partners review each mobility with the learner (evaluation sheets) and "
                                     "meet once a year to adapt the units and arrangements.",
        }

    # Mobilities ------------------------------------------------------------------------------------

    def _nominate(self, business_key: str, mou_id: int, learner: str, *, began: datetime, start: date, weeks: int,
                  details: dict[str, Any]) -> str:
        instance = self._instance(ecvet.mobility.service.PROCESS_KEY, business_key)
        if instance is not None:
            return instance.id
        person = next(p for p in PEOPLE if p.key == learner)
        self.frozen.set(began)
        with self.db.transaction() as s:
            mobility = ecvet.mobility.nomination.nominate(
                s, actor=self.actor(s, "coordinator"), mou_id=mou_id, hosting_organisation_id=self.orgs["hotel"],
                qualification_title="Cook", start_date=start, end_date=start + timedelta(days=7 * weeks - 1),
                learner={"name": person.name, "email": person.email, **details}, business_key=business_key)
            assert mobility.process_instance_id is not None
            return mobility.process_instance_id

    def _la_steps(self, learner: str, units: list[dict[str, Any]]) -> list[Step]:
        return [
            Step("prepare_la", "coordinator", timedelta(hours=2), lambda _: {
                **LA_COMMON, **LA_LEARNERS[learner],
                "units": units,
                "assessment": {"method": "Practical tasks observed by the mentor, then a short interview"},
                "validation_and_recognition": {
                    "who": "Berufskolleg Rhein validates; the IHK Köln recognises",
                    "how": "The transcript is compared with this agreement unit by unit",
                    "effect": "Recognised units are exempted at home and count towards the final examination",
                    "responsible": LA_RESPONSIBLE},
                "learner_progress": "Second year of three; cold and hot kitchen basics passed at school."}),
            Step("agree_assessment", "mentor", timedelta(days=1), lambda v: {"la_hash": v["la_hash"], "assessment": {
                "assessors": [{"name": "Javier Ruiz", "organisation": "Hotel Sol de Valencia",
                               "role": "company mentor"}],
                "method": "Observation of practical tasks during service, then a short interview",
                "criteria": ASSESSMENT_CRITERIA, "when": "Last week of the mobility", "where": "Hotel kitchen",
                "documentation": "One assessment sheet per unit; the Learner's Personal Transcript"}}),
        ]

    def _mobility_lea(self, n: datetime, mou_id: int) -> None:
        """Lea is 16: nominated a month ago, her Learning Agreement signed by her, her father (his own
        account), the school and the hotel; the worker set the mobility live on its start date five days
        ago, so the mentor follows her learning activities (and assesses her later)."""
        began = n - timedelta(days=30)
        start = (n - timedelta(days=5)).date()
        born = _born(start, 16)
        instance_id = self._nominate("Lea Hoffmann · Cook · Köln → València", mou_id, "lea", began=began, start=start,
                                     weeks=6, details={
            "date_of_birth": born.isoformat(), "guardian_name": "Thomas Hoffmann",
            "guardian_email": "thomas.hoffmann@family.example"})
        self._drive(instance_id, began, [
            *self._la_steps("lea", [
                {"code": "U1", "learning_outcomes": ["Prepares cold starters and tapas following the recipe"],
                 "learning_activities": {"location": "Hotel kitchen, garde-manger", "tasks": "Cold starters for "
                                                                                             "the breakfast buffet"}},
                {"code": "U4", "learning_activities": {"location": "Restaurant and pass",
                                                       "tasks": "Passing dishes during lunch service"}}]),
            Step("sign_learner", "lea", timedelta(days=2), sign),
            Step("sign_guardian", "guardian", timedelta(days=2, hours=5), sign),
            Step("sign_sending", "coordinator", timedelta(days=3), sign),
            Step("sign_hosting", "mentor", timedelta(days=4), sign),
        ])

    def _mobility_jonas(self, n: datetime, mou_id: int) -> None:
        """Jonas is 20: nominated two days ago, his Learning Agreement prepared and the assessment agreed
        by the hotel; now he signs it first (then the school, then the hotel)."""
        began = n - timedelta(days=2)
        start = (n + timedelta(days=30)).date()
        instance_id = self._nominate("Jonas Keller · Cook · Köln → València", mou_id, "jonas", began=began,
                                     start=start, weeks=4, details={
            "date_of_birth": _born(start, 20).isoformat()})
        self._drive(instance_id, began, self._la_steps("jonas", [
            {"code": "U1", "learning_outcomes": ["Prepares cold starters, salads and buffet platters"],
             "learning_activities": {"location": "Hotel kitchen, garde-manger", "tasks": "Cold buffet for banquets"}},
            {"code": "U2", "learning_activities": {"location": "Hotel kitchen", "tasks": "Temperature and cleaning "
                                                                                          "logs, goods receipt"}}]))

    def _mobility_elif(self, n: datetime, mou_id: int) -> None:
        """Elif is 19, nominated yesterday: the school prepares her Learning Agreement next."""
        start = (n + timedelta(days=45)).date()
        self._nominate("Elif Yılmaz · Cook · Köln → València", mou_id, "elif", began=n - timedelta(days=1), start=start,
                       weeks=5, details={
            "date_of_birth": _born(start, 19).isoformat()})


def _born(on: date, years: int) -> date:
    """A birthday that makes the learner exactly `years` old on `on` (their birthday was three months before)."""
    return date(on.year - years, on.month, min(on.day, 28)) - timedelta(days=90)

