"""The demo seed (demo/seed.py) on both backends: it runs twice without adding anything, every demo
user finds the tasks the printed table promises, the lifecycle states are real process states, the
passwords are hashed, and a later run leaves people's own work alone."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import ecvet.mobility.service
import ecvet.national_models.service
from demo import cast, consortium, seed
from ecvet.mobility import learning_agreement, views
from ecvet.mobility.models import LaStatus, Learner, LearningAgreement, Mobility, MobilityStatus
from ecvet.national_models.models import OrganisationCompetence
from ecvet.partnership import mou, roles
from ecvet.partnership.models import ApprovalMode, Mou, MouApproval, MouStatus, MouVersion, Partnership
from ecvet.qualification.models import Qualification, Unit
from engine import instances, parties, tasks
from engine.db import Database
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceParty,
    Organisation,
    OutboxMessage,
    ProcessInstance,
    TaskState,
    User,
)
from engine.parties import Actor

COUNTED = (Organisation, User, OrganisationCompetence, Qualification, Unit, ProcessInstance, HumanTask, Mou,
           MouVersion, MouApproval, Learner, Mobility, LearningAgreement, AuditEvent)


def counts(db: Database) -> dict[str, int]:
    with db.transaction(write=False) as s:
        return {model.__name__: s.scalar(select(func.count()).select_from(model)) or 0 for model in COUNTED}


def actor(db: Database, email: str) -> Actor:
    with db.transaction(write=False) as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None, email
        return Actor.of(user)


def inbox(db: Database, email: str) -> list[str]:
    with db.transaction(write=False) as s:
        return [t.name for t in tasks.list_for(s, actor=actor(db, email)).items]


def by_business_key(db: Database, key: str) -> ProcessInstance:
    with db.transaction(write=False) as s:
        found = s.scalar(select(ProcessInstance).where(ProcessInstance.business_key == key))
        assert found is not None, key
        return found


def mobility_of(db: Database, key: str) -> Mobility:
    instance = by_business_key(db, key)
    with db.transaction(write=False) as s:
        found = s.scalar(select(Mobility).where(Mobility.process_instance_id == instance.id))
        assert found is not None
        return found


@pytest.fixture
def seeded(db: Database) -> seed.DemoResult:
    return seed.seed(db)


def test_a_second_run_adds_nothing_and_prints_the_same_table(db: Database, seeded: seed.DemoResult) -> None:
    before = counts(db)
    assert before["Organisation"] == 8, "five parties, an intermediary and two supporting actors"
    assert before["ProcessInstance"] == 8, "three partnerships (one of three partners), five mobilities"
    assert before["Mobility"] == 5, "three alone, two in a group"
    again = seed.seed(db)
    assert counts(db) == before, "not one row more, not even an audit event"
    assert [(x.email, x.tasks) for x in again.logins] == [(x.email, x.tasks) for x in seeded.logins]
    assert again.notes == seeded.notes == []


def test_every_demo_user_has_the_tasks_the_table_says(db: Database, seeded: seed.DemoResult) -> None:
    promised = {p.email: list(p.tasks) for p in cast.PEOPLE}
    assert {x.email: x.tasks for x in seeded.logins} == promised
    for email, names in promised.items():
        assert inbox(db, email) == names, email
    # The tasks are the real process states, routed to the parties their lanes name.
    jonas = mobility_of(db, "Jonas Keller · Cook · Köln → València")
    with db.transaction(write=False) as s:
        ready = s.scalars(select(HumanTask).where(HumanTask.state == TaskState.READY)).all()
        where = {(t.bpmn_id, t.process_key) for t in ready}
        assert where == {("prepare_la", "mobility"), ("sign_learner", "mobility"), ("checkpoint", "mobility"),
                         ("approve_hosting", "partnership"), ("approve_ci_home", "partnership"),
                         ("sign_intermediary", "mobility")}  # the group's two copies (tests/demo/test_group.py)
        sign = next(t for t in ready if t.bpmn_id == "sign_learner")
        assert (sign.instance_id, sign.user_id) == (jonas.process_instance_id, jonas.learner.user_id)


@pytest.mark.usefixtures("seeded")
def test_three_countries_under_three_national_models_and_a_qualification_with_units(
        db: Database) -> None:
    with db.transaction(write=False) as s:
        orgs = {o.erasmus_oid: o for o in s.scalars(select(Organisation))}
        assert {o.country for o in orgs.values()} == {"DE", "ES", "NL"}
        assert all(o.pic and len(o.pic) == 9 for o in orgs.values())
        models = {c: ecvet.national_models.service.decide(c, session=s).model for c in ("DE", "ES", "NL")}
        assert models == {"DE": "chamber_approval", "ES": "regional_authority", "NL": "provider_responsibility"}
        admin = actor(db, "admin@example.org")
        registry = {(c.country, c.function) for c in ecvet.national_models.service.list_competences(s, actor=admin)}
        assert {("DE", "mou_approval"), ("DE", "recognition"), ("ES", "mou_approval"),
                ("ES", "la_approval")} <= registry
        (cook,) = s.scalars(select(Qualification)).all()
        assert (cook.title, cook.eqf_level, cook.ecvet_points) == ("Cook", 4, 180)
        assert [u.code for u in cook.units] == ["U1", "U2", "U3", "U4"]
        assert all({o.kind for o in u.outcomes} == {"knowledge", "skills", "competence"} for u in cook.units)


@pytest.mark.usefixtures("seeded")
def test_the_valencia_mou_is_in_force_by_every_required_party_and_amsterdam_waits(
        db: Database) -> None:
    valencia = mobility_of(db, "Jonas Keller · Cook · Köln → València").mou_id
    with db.transaction(write=False) as s:
        memorandum = s.get_one(Mou, valencia)
        assert memorandum.status == MouStatus.ACTIVE
        assert mou.is_active(memorandum)
        approvals = s.scalars(select(MouApproval).where(MouApproval.mou_id == valencia)).all()
        names = {a.organisation_id: s.get_one(Organisation, a.organisation_id).name for a in approvals}
        modes = {names[a.organisation_id]: a.mode for a in approvals}
        assert modes == {"Berufskolleg Rhein": ApprovalMode.EXPLICIT, "Hotel Sol de Valencia": ApprovalMode.EXPLICIT,
                         "IHK Köln": ApprovalMode.EXPLICIT, "Conselleria d'Educació (Valencia)": ApprovalMode.IMPLICIT}
        content = mou.current_version(memorandum).content
        assert content["qualifications"][0]["qualification_id"] == s.scalar(select(Qualification.id))
        others = s.scalars(select(Mou).where(Mou.id != valencia).order_by(Mou.id)).all()
        assert [m.status for m in others] == [MouStatus.IN_APPROVAL, MouStatus.ACTIVE], "Amsterdam; the consortium"


@pytest.mark.usefixtures("seeded")
def test_the_consortium_mou_of_three_partners_is_in_force(db: Database) -> None:
    """The school sends, the hotel hosts, the Dutch college does both: every partner and competent
    institution approved the same hash, each in its own task (the college's in the Signing partners lane)."""
    instance = by_business_key(db, consortium.CONSORTIUM)
    with db.transaction(write=False) as s:
        partnership = s.scalar(select(Partnership).where(Partnership.instance_id == instance.id))
        assert partnership is not None
        memorandum = s.get_one(Mou, partnership.mou_id)
        assert memorandum.status == MouStatus.ACTIVE
        version = mou.current_version(memorandum)
        org_names = {o.id: o.name for o in s.scalars(select(Organisation))}
        assert [(org_names[o["organisation_id"]], o["role"]) for o in version.content["signing_organisations"]] == [
            ("Berufskolleg Rhein", "sending"), ("Hotel Sol de Valencia", "hosting"), ("Horeca College Amstel", "both")]
        approvals = s.scalars(select(MouApproval).where(MouApproval.mou_id == memorandum.id)).all()
        assert {(org_names[a.organisation_id], a.role, a.mode) for a in approvals
                if a.content_hash == version.content_hash} == {
            ("Berufskolleg Rhein", "partner", "explicit"), ("Hotel Sol de Valencia", "partner", "explicit"),
            ("Horeca College Amstel", "partner", "explicit"), ("IHK Köln", "competent_institution", "explicit"),
            ("Conselleria d'Educació (Valencia)", "competent_institution", "implicit")}
        own = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                HumanTask.bpmn_id == "approve_partner")).all()
        assert [(org_names[t.organisation_id or 0], t.role, t.state) for t in own] == [
            ("Horeca College Amstel", "signing-partners", TaskState.COMPLETED)]
        role_map = roles.current(s, partnership.id)
        assert role_map is not None
        confirmed = {org_names[c.organisation_id] for c in roles.confirmations(s, role_map)}
        assert confirmed == {"Berufskolleg Rhein", "Hotel Sol de Valencia", "Horeca College Amstel", "IHK Köln",
                             "Conselleria d'Educació (Valencia)"}, "every partner and competent institution"


@pytest.mark.usefixtures("seeded")
def test_the_regional_authority_saw_the_approval_by_silence_coming(db: Database) -> None:
    """Registered for its own region only, it had an objection task with the deadline and an e-mail;
    the end of the period withdrew the task and the worker recorded the approval."""
    officer = next(p for p in cast.PEOPLE if p.key == "regional_officer")
    with db.transaction(write=False) as s:
        authority = s.scalar(select(Organisation).where(Organisation.name == "Conselleria d'Educació (Valencia)"))
        assert authority is not None
        assert {(c.function, c.region) for c in s.scalars(select(OrganisationCompetence).where(
            OrganisationCompetence.organisation_id == authority.id))} == {("mou_approval", "ES-VC"),
                                                                          ("la_approval", "ES-VC")}
        objection = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "object_mou_ci_host")
                              .order_by(HumanTask.created_at)).all()
        # València's MoU, then the consortium's: each objection period ran out.
        assert [(t.organisation_id, t.state) for t in objection] == [(authority.id, TaskState.CANCELLED)] * 2
        assert objection[0].due_at is not None
        mailed = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.to_email == officer.email,
                                                            OutboxMessage.task_id == objection[0].id)).all()
        assert "assigned" in mailed
        supporting = {(c.country, c.function) for c in s.scalars(select(OrganisationCompetence).where(
            OrganisationCompetence.function.in_(("national_agency", "national_europass_centre"))))}
        assert supporting == {("DE", "national_agency"), ("DE", "national_europass_centre"), ("ES", "national_agency")}


@pytest.mark.usefixtures("seeded")
def test_the_mobilities_stand_where_the_table_says(db: Database) -> None:
    lea = mobility_of(db, "Lea Hoffmann · Cook · Köln → València")
    jonas = mobility_of(db, "Jonas Keller · Cook · Köln → València")
    elif_ = mobility_of(db, "Elif Yılmaz · Cook · Köln → València")
    coordinator = actor(db, "coordinator@berufskolleg.example")
    with db.transaction(write=False) as s:
        assert [m.status for m in (lea, jonas, elif_)] == [MobilityStatus.LIVE, MobilityStatus.NOMINATION,
                                                           MobilityStatus.NOMINATION]
        lea_learner = s.get_one(Learner, lea.learner_id)
        assert lea_learner.is_minor(lea.start_date)
        assert lea_learner.guardian_user_id is not None
        agreement = ecvet.mobility.service.current_agreement(s, s.get_one(Mobility, lea.id))
        assert agreement is not None
        assert learning_agreement.in_force(s, agreement)
        signed = {sig["party"] for sig in views.agreement(s, actor=coordinator, la_id=agreement.id)["signatures"]}
        assert {"learner", "guardian", "sending", "hosting"} <= signed
        jonas_la = ecvet.mobility.service.current_agreement(s, s.get_one(Mobility, jonas.id))
        assert jonas_la is not None
        assert jonas_la.status == LaStatus.DRAFT
        assert learning_agreement.next_party(s, jonas_la) == "learner", "prepared and agreed: the learner signs first"
        assert ecvet.mobility.service.current_agreement(s, s.get_one(Mobility, elif_.id)) is None
        # The guardian signs with his own account; the chamber recognises for Germany (DE model).
        parties_of_lea = {p.role: (p.organisation_id, p.user_id) for p in s.scalars(
            select(InstanceParty).where(InstanceParty.instance_id == lea.process_instance_id))}
        assert parties_of_lea["guardian"] == (None, lea_learner.guardian_user_id)
        chamber = s.scalar(select(Organisation.id).where(Organisation.name == "IHK Köln"))
        assert parties_of_lea["competent-institution-home"] == (chamber, None)


@pytest.mark.usefixtures("seeded")
def test_passwords_are_hashed_and_work(db: Database) -> None:
    with db.transaction(write=False) as s:
        hashes = s.scalars(select(User.password_hash)).all()
        assert len(hashes) == len(cast.PEOPLE)
        assert all(h.startswith("$argon2") and seed.DEMO_PASSWORD not in h for h in hashes)
    with db.transaction() as s:
        for person in cast.PEOPLE:
            assert parties.authenticate(s, email=person.email, password=seed.DEMO_PASSWORD).email == person.email


@pytest.mark.usefixtures("seeded")
def test_a_later_run_leaves_what_people_did_alone(db: Database) -> None:
    """Jonas signs and the school withdraws Elif's mobility; the next `make run` neither signs again
    nor nominates Elif again: it reports the scenario it left as it is."""
    jonas = actor(db, "jonas.keller@learner.example")
    coordinator = actor(db, "coordinator@berufskolleg.example")
    with db.transaction() as s:
        (task,) = tasks.list_for(s, actor=jonas).items
        values = tasks.detail(s, actor=jonas, task_id=task.id)["form"]["values"]
        tasks.complete(s, actor=jonas, task_id=task.id, data={
            "la_hash": values["la_hash"], "decision": "sign",
            "signer": {"name": "Jonas Keller", "email": "jonas.keller@learner.example"}})
    elif_ = mobility_of(db, "Elif Yılmaz · Cook · Köln → València")
    with db.transaction() as s:
        ecvet.mobility.service.withdraw(s, actor=coordinator, mobility_id=elif_.id, reason="Elif chose another school")
    before = counts(db)
    with db.transaction(write=False) as s:
        last_event = s.scalar(select(func.max(AuditEvent.id)))
    again = seed.seed(db)
    after = counts(db)
    assert {k: after[k] - before[k] for k in after if k != "AuditEvent"} == {k: 0 for k in after if k != "AuditEvent"}
    with db.transaction(write=False) as s:  # only the worker's due job: the school is told it may sign now
        new = s.scalars(select(AuditEvent.action).where(AuditEvent.id > last_event)).all()
    assert new == ["notification.sent"]
    assert again.notes == ["Elif Yılmaz · Cook · Köln → València: left as it is (its process instance is terminated)"]
    table: dict[str, Any] = {x.email: x.tasks for x in again.logins}
    assert table["jonas.keller@learner.example"] == []
    assert table["coordinator@berufskolleg.example"] == ["Sign the Learning Agreement"]
    with db.transaction(write=False) as s:
        assert elif_.process_instance_id is not None
        instance = instances.get(s, actor=coordinator, instance_id=elif_.process_instance_id)
        assert instance.status == "terminated"


@pytest.mark.usefixtures("seeded")
def test_the_learning_agreements_carry_every_template_field(db: Database) -> None:
    jonas = mobility_of(db, "Jonas Keller · Cook · Köln → València")
    with db.transaction(write=False) as s:
        agreement = ecvet.mobility.service.current_agreement(s, s.get_one(Mobility, jonas.id))
        assert agreement is not None
        content = learning_agreement.current_version(s, agreement).content
    assert content["mobility_identifier"] == cast.LA_LEARNERS["jonas"]["mobility_identifier"]
    for name in ("project_code", "contact_persons", "qualification_details", "annexes"):
        assert content[name] == cast.LA_COMMON[name]
    assert content["assessment"]["criteria"] == cast.ASSESSMENT_CRITERIA
    assert content["validation_and_recognition"]["responsible"] == cast.LA_RESPONSIBLE
    assert all(unit["learning_outcomes"] for unit in content["units"]), "U2 takes its outcomes from the qualification"


@pytest.mark.usefixtures("seeded")
def test_the_mou_carries_every_template_field(db: Database) -> None:
    with db.transaction(write=False) as s:
        memorandum = s.scalar(select(Mou).where(Mou.status == MouStatus.ACTIVE))
        assert memorandum is not None
        content = mou.current_version(memorandum).content
    for org in content["signing_organisations"]:
        assert org["phone"]
        assert org["competence"]
        assert org["erasmus_oid"].startswith("E")
        assert len(org["pic"]) == 9
    assert content["other_organisations"][0]["duties"] == cast.CHAMBER_COVERED["duties"]
    for unit in content["qualifications"][0]["units"]:
        assert unit["description"] == cast.UNIT_DESCRIPTIONS[unit["code"]]
        assert {o["kind"] for o in unit["learning_outcomes"]} == {"knowledge", "skills", "competence"}
