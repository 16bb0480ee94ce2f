"""The Mobility process (processes/mobility.bpmn) end to end, on both database backends.

For each illustrative national model of the shipped table (NL: the provider has full responsibility;
DE: a chamber approves the MoU and recognises units, and in the crafts sector approves Learning
Agreements too; ES: a regional authority approves Learning Agreements implicitly) two learners go
abroad, one of them a minor: Learning Agreement prepared, assessment agreed, signed in order (and
approved where the model says so), changed during the mobility and signed again, assessed, transcript
issued and released, validated and recognised, credits in the learner's achievements. Every task must
be in the inbox of exactly the party its lane names; gates must appear exactly where the model
requires them; an implicit approval and the mobility going live happen by the worker alone on a frozen
clock; outsiders see nothing; the home side cannot read the transcript before the host releases it.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import func, select

import ecvet.mobility.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.mobility import departure, learning_agreement, service, signatures, views
from ecvet.mobility.models import (
    CreditAward,
    LaParty,
    LaSignature,
    LaStatus,
    Mobility,
    MobilityStatus,
    MobilityStatusChange,
    PersonalTranscript,
)
from ecvet.national_models.models import CompetenceFunction
from ecvet.partnership.models import ApprovalMode
from engine import deployments, tasks
from engine.bundle import parse_bundle
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import Conflict, NotFound
from engine.execution import open_workflow
from engine.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, TaskState
from engine.scripting import SandboxedScriptEngine
from tests.support.ecvet_factories import SIGNER
from tests.support.mobility_driver import (
    ASSESSMENT_AGREED,
    CI_SIGNER,
    FILES,
    T0,
    Run,
    after_release,
    check_changed_agreement,
    credits,
    finish,
    go_live,
    start,
    visibility_before_release,
)


def _host_requests_changes(adult: Run) -> None:
    """The host asks for changes: the text goes back to the sending school, and everyone signs the revision."""
    adult.sign("sign_learner", "learner", {"name": adult.name, "place": "Amsterdam"})
    values = adult.values("sending", "sign_sending")
    adult.complete("sending", "sign_sending", {"la_hash": values["la_hash"], "decision": "sign", "signer": SIGNER})
    values = adult.values("hosting", "sign_hosting")
    adult.complete("hosting", "sign_hosting", {"la_hash": values["la_hash"], "decision": "request_changes",
                                               "comment": "Learning outcomes of U2 are missing"})
    values = adult.values("sending", "revise_la")
    assert values["la_refusal"] == {"party": "hosting", "comment": "Learning outcomes of U2 are missing",
                                    "version": 2}
    adult.complete("sending", "revise_la", {
        "la_hash": values["la_hash"],
        "removed": [{"unit": "U2", "reason": "Replaced by the version with learning outcomes"}],
        "added": [{"unit": {"code": "U2", "learning_outcomes": ["Applies HACCP rules"]},
                   "reason": "Learning outcomes added as the host asked"}],
    })
    assert adult.la()["version"] == 3
    assert adult.la()["next_party"] == LaParty.LEARNER


def test_nl_provider_responsibility(db: Database, frozen: FrozenClock) -> None:
    """No competent institution anywhere; the sending school validates and recognises in one act."""
    sc = start(db, frozen, "NL", "BE")
    adult = sc.nominate("Daan de Vries", date(2004, 9, 1))
    minor = sc.nominate("Sanne Bakker", date(2010, 6, 15))
    for run in (adult, minor):
        assert run.data()["model"] == "provider_responsibility"
        assert run.data()["la_approval"] == "none"
        run.prepare()
    _host_requests_changes(adult)
    adult.parties_sign()
    minor.parties_sign()
    for run in (adult, minor):
        assert run.la()["status"] == LaStatus.SIGNED
        assert run.la()["in_force"]
        assert run.ready() == []
        assert run.status() == MobilityStatus.NOMINATION
    assert minor.la()["required_signatures"] == ["learner", "guardian", "sending", "hosting"]
    go_live(sc)

    adult.assess({"U1": "achieved", "U2": "achieved"})
    minor.change_units()
    minor.parties_sign(prefix="resign")
    check_changed_agreement(minor)
    minor.assess({"U1": "achieved", "U3": "achieved"})
    for run in (adult, minor):
        run.issue_transcript()
        visibility_before_release(run)
        run.release_transcript()
        assert run.open_steps() == {"validate_and_recognise_sending"}
        after_release(run)
    digest = adult.values("sending", "validate_and_recognise_sending")["transcript_hash"]
    adult.complete("sending", "validate_and_recognise_sending", {
        "transcript_hash": digest, "signer": SIGNER,
        "unit_decisions": [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}]})
    digest = minor.values("sending", "validate_and_recognise_sending")["transcript_hash"]
    minor.complete("sending", "validate_and_recognise_sending", {
        "transcript_hash": digest, "signer": SIGNER,
        "unit_decisions": [{"unit": "U1", "outcome": "validated"},
                           {"unit": "U3", "outcome": "partly_validated", "ecvet_points": 3,
                            "comment": "Table service only at breakfast"}]})
    finish(adult, [{"kind": "exempted_activity", "description": "Exempted from the cold kitchen module",
                    "unit": "U1"}, {"kind": "extra_credits", "description": "Extra credit", "ecvet_points": 2}])
    finish(minor)
    assert credits(adult) == {"U1": 12.0, "U2": 4.0}
    assert credits(minor) == {"U1": 12.0, "U3": 3.0}
    for run in (adult, minor):
        assert "competent-institution-home" not in run.roles_with_tasks()
        assert "competent-institution-host" not in run.roles_with_tasks()
        assert not {"validate_units", "recognise_sending", "recognise_ci", "approve_la_ci", "object_la_ci"} \
            & set(run.bpmn_ids_done())
    assert "guardian" not in adult.roles_with_tasks()
    assert "guardian" in minor.roles_with_tasks()
    with db.transaction(write=False) as s:
        mine = views.achievements(s, actor=adult.learner, learner_id=adult.learner_id)
        assert mine["total_ecvet_points"] == 16
        assert mine["extra_ecvet_points"] == 2
        assert [i["kind"] for i in mine["implications"]] == ["exempted_activity", "extra_credits"]
        with pytest.raises(NotFound):
            views.achievements(s, actor=sc.outsider.actor, learner_id=adult.learner_id)
        with pytest.raises(NotFound):
            views.achievements(s, actor=adult.learner, learner_id=minor.learner_id)


# --------------------------------------------------------------------------------------------------
# DE: the chamber approves the MoU, approves LAs in the crafts sector, and recognises units
# --------------------------------------------------------------------------------------------------


def test_de_chamber_recognises_and_approves_crafts_agreements(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "DE", "NL", ci_functions=(CompetenceFunction.MOU_APPROVAL, CompetenceFunction.LA_APPROVAL,
                                                     CompetenceFunction.RECOGNITION))
    crafts = sc.nominate("Lukas Becker", date(2003, 2, 1), sector="crafts")
    minor = sc.nominate("Mia Wagner", date(2010, 1, 20), guardian_account=True)
    assert (crafts.data()["model"], crafts.data()["la_approval"]) == ("chamber_crafts", "explicit")
    assert (minor.data()["model"], minor.data()["la_approval"]) == ("chamber_approval", "none")
    for run in (crafts, minor):
        assert run.data()["recognition_by"] == "competent_institution"
        run.prepare()
        run.parties_sign()
    # The crafts agreement needs the chamber's approval; the other is in force with the parties' signatures.
    assert crafts.open_steps() == {"approve_la_ci"}
    assert crafts.la()["status"] == LaStatus.SIGNED
    assert minor.ready() == []
    assert minor.la()["status"] == LaStatus.SIGNED
    assert minor.la()["in_force"]
    values = crafts.values("ci_home", "approve_la_ci")
    crafts.complete("ci_home", "approve_la_ci", {"la_hash": values["la_hash"], "decision": "approved",
                                                 "signer": CI_SIGNER})
    assert crafts.la()["status"] == LaStatus.APPROVED
    assert crafts.ready() == []
    go_live(sc)

    for run in (crafts, minor):
        run.change_units()
        run.parties_sign(prefix="resign")
    assert crafts.open_steps() == {"reapprove_la_ci"}
    values = crafts.values("ci_home", "reapprove_la_ci")
    crafts.complete("ci_home", "reapprove_la_ci", {"la_hash": values["la_hash"], "decision": "approved",
                                                   "signer": CI_SIGNER})
    for run in (crafts, minor):
        check_changed_agreement(run)
        run.assess({"U1": "achieved", "U3": "not_achieved"})
        run.issue_transcript()
        visibility_before_release(run)
        run.release_transcript()
        assert run.open_steps() == {"validate_units"}
        after_release(run)
        digest = run.values("sending", "validate_units")["transcript_hash"]
        run.complete("sending", "validate_units", {"transcript_hash": digest, "signer": SIGNER, "unit_outcomes": [
            {"unit": "U1", "outcome": "validated"},
            {"unit": "U3", "outcome": "not_validated", "comment": "Not achieved abroad"}]})
        values = run.values("ci_home", "recognise_ci")
        assert values["validation"] == {"U1": "validated", "U3": "not_validated"}
        with pytest.raises(Conflict, match="stale"):
            run.complete("ci_home", "recognise_ci", {"transcript_hash": "0" * 64, "signer": CI_SIGNER,
                                                     "unit_recognition": [{"unit": "U1", "recognised": True},
                                                                          {"unit": "U3", "recognised": False}]})
        run.complete("ci_home", "recognise_ci", {"transcript_hash": values["transcript_hash"], "signer": CI_SIGNER,
                                                 "unit_recognition": [{"unit": "U1", "recognised": True},
                                                                      {"unit": "U3", "recognised": False}]})
        finish(run)
        assert credits(run) == {"U1": 12.0}
        assert "recognise_sending" not in run.bpmn_ids_done()
    assert "approve_la_ci" not in minor.bpmn_ids_done()
    assert "reapprove_la_ci" not in minor.bpmn_ids_done()
    assert "guardian" in minor.roles_with_tasks()
    with db.transaction(write=False) as s:
        award = s.scalars(select(CreditAward).where(CreditAward.mobility_id == crafts.mobility_id)).one()
        assert sc.ci_home is not None
        assert award.awarded_by_organisation_id == sc.ci_home.org_id
        guardian_signatures = s.scalars(select(LaSignature).where(LaSignature.party == LaParty.GUARDIAN)).all()
        assert {g.organisation_id for g in guardian_signatures} == {None}, "the guardian signed personally"


# --------------------------------------------------------------------------------------------------
# ES: the regional authority approves Learning Agreements implicitly
# --------------------------------------------------------------------------------------------------


def _authority_objects(minor: Run) -> None:
    """The authority objects to the minor's agreement in time: it goes back to the sending school, which
    names a tutor; everyone signs again and the authority's period starts over."""
    values = minor.values("ci_home", "object_la_ci")
    minor.complete("ci_home", "object_la_ci", {"la_hash": values["la_hash"], "decision": "rejected",
                                               "comment": "A minor needs a named tutor at the host"})
    revise = minor.values("sending", "revise_la")
    minor.complete("sending", "revise_la", {
        "la_hash": revise["la_hash"], "reason": "Tutor named as the authority asked",
        "assessment": {**ASSESSMENT_AGREED, "assessors": [*ASSESSMENT_AGREED["assessors"],
            {"name": "Ana López", "organisation": "Hotel Sol", "role": "tutor for minors"}]}})
    minor.parties_sign()
    minor.only_for("ci_home", "object_la_ci")


def test_es_implicit_approval_by_the_worker_alone(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "ES", "NL", ci_functions=(CompetenceFunction.MOU_APPROVAL, CompetenceFunction.LA_APPROVAL))
    adult = sc.nominate("Lucía García", date(2001, 11, 3))
    minor = sc.nominate("Pablo Martín", date(2011, 4, 2))
    for run in (adult, minor):
        assert (run.data()["la_approval"], run.data()["la_approval_days"]) == ("implicit", 10)
        run.prepare()
        run.parties_sign()
        task = run.only_for("ci_home", "object_la_ci")
        assert task.due_at == T0 + timedelta(days=10), "due when the objection period ends"
    _authority_objects(minor)

    sc.frozen.advance(days=9)
    sc.worker()
    assert adult.la()["status"] == LaStatus.SIGNED, "the objection period is still running"
    assert adult.open_steps() == {"object_la_ci"}
    sc.frozen.advance(days=1, seconds=1)
    sc.worker()
    assert adult.la()["status"] == LaStatus.APPROVED
    assert adult.ready() == []
    assert minor.la()["status"] == LaStatus.APPROVED, "its period started when the revision was signed, at once"
    with db.transaction(write=False) as s:
        implicit = s.scalars(select(LaSignature).where(LaSignature.mode == ApprovalMode.IMPLICIT)).all()
        assert len(implicit) == 2
        assert {i.recorded_by for i in implicit} == {None}
        assert sc.ci_home is not None
        assert {i.organisation_id for i in implicit} == {sc.ci_home.org_id}
    cancelled = [t for t in adult.bpmn_ids_done() if t == "object_la_ci"]
    assert cancelled == ["object_la_ci"]
    go_live(sc)

    adult.change_units()
    adult.parties_sign(prefix="resign")
    adult.only_for("ci_home", "reobject_la_ci")
    sc.frozen.advance(days=10, seconds=1)
    sc.worker()
    check_changed_agreement(adult)
    assert adult.la()["status"] == LaStatus.APPROVED
    adult.assess({"U1": "achieved", "U3": "achieved"})
    minor.assess({"U1": "achieved", "U2": "achieved"})
    for run in (adult, minor):
        run.issue_transcript()
        visibility_before_release(run)
        run.release_transcript()
        after_release(run)
        digest = run.values("sending", "validate_units")["transcript_hash"]
        units = [u["unit"] for u in run.values("sending", "validate_units")["transcript_units"]]
        run.complete("sending", "validate_units", {"transcript_hash": digest, "signer": SIGNER, "unit_outcomes": [
            {"unit": code, "outcome": "validated"} for code in units]})
        run.complete("sending", "recognise_sending", {"transcript_hash": digest, "signer": SIGNER,
                                                      "unit_recognition": [{"unit": code, "recognised": True}
                                                                           for code in units]})
        finish(run)
        assert "recognise_ci" not in run.bpmn_ids_done()
    assert credits(adult) == {"U1": 12.0, "U3": 6.0}
    assert credits(minor) == {"U1": 12.0, "U2": 4.0}


# --------------------------------------------------------------------------------------------------
# Recognition starts the review of the mobility (processes/review.bpmn)
# --------------------------------------------------------------------------------------------------


def test_recognition_starts_the_review_with_the_parties_of_the_mobility(db: Database, frozen: FrozenClock) -> None:
    """The process ends by throwing ``mobility_recognized`` with ``{"mobility_id": n}``; the worker starts
    the Review process, binding its sending, hosting and learner roles to this mobility's parties (the
    learner's own account), and each evaluation sheet is in exactly its party's inbox."""
    sc = start(db, frozen, "NL", "BE")
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={"review.bpmn": (ROOT / "processes" / "review.bpmn").read_bytes()},
                           forms_dir=ROOT / "forms")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.parties_sign()
    go_live(sc)
    run.assess({"U1": "achieved", "U2": "achieved"})
    run.issue_transcript()
    run.release_transcript()
    digest = run.values("sending", "validate_and_recognise_sending")["transcript_hash"]
    run.complete("sending", "validate_and_recognise_sending", {
        "transcript_hash": digest, "signer": SIGNER,
        "unit_decisions": [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}]})
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(ProcessInstance.id)).where(ProcessInstance.process_key == "review")) == 0
    finish(run)
    with db.transaction(write=False) as s:
        thrown = s.scalars(select(AuditEvent).where(AuditEvent.action == "message.thrown",
                                                    AuditEvent.instance_id == run.instance_id)).all()
        assert [e.detail["name"] for e in thrown] == ["mobility_recognized"]
    sc.worker()
    with db.transaction(write=False) as s:
        (review,) = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "review")).all()
        bound = {p.role: (p.organisation_id, p.user_id) for p in review.parties}
        last = open_workflow(review).last_task
        assert last is not None
        assert last.data["mobility_id"] == run.mobility_id
    assert bound == {"sending": (sc.sending.org_id, None), "hosting": (sc.hosting.org_id, None),
                     "learner": (None, run.learner.user_id)}
    inboxes = {}
    for who, actor in (("sending", sc.sending.actor), ("hosting", sc.hosting.actor), ("learner", run.learner),
                       ("outsider", sc.outsider.actor)):
        with db.transaction(write=False) as s:
            inboxes[who] = {t.bpmn_id for t in tasks.list_for(s, actor=actor, instance_id=review.id).items}
    assert inboxes == {"sending": {"evaluate_sending"}, "hosting": {"evaluate_hosting"},
                       "learner": {"evaluate_learner"}, "outsider": set()}


# --------------------------------------------------------------------------------------------------
# The start date comes before the agreement is in force
# --------------------------------------------------------------------------------------------------


def test_start_date_alert_postpone_then_cancel(db: Database, frozen: FrozenClock) -> None:
    """The learner signed, the school did not: on the start date the mobility cannot start; the sending
    coordinator alone is alerted, postpones (signing resumes where it stopped), and later cancels."""
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Noah Jansen", date(2005, 1, 1))
    run.prepare()
    run.sign("sign_learner", "learner")
    assert run.open_steps() == {"sign_sending"}
    sc.frozen.set(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    assert run.open_steps() == {"alert_start_missed"}
    values = run.values("sending", "alert_start_missed")
    assert values["missed_start"] == {"la_id": run.la()["id"], "la_status": "signing", "la_version": 2,
                                      "la_next_party": "sending"}
    with db.transaction(write=False) as s:
        states = dict(s.execute(select(HumanTask.bpmn_id, HumanTask.state).where(
            HumanTask.instance_id == run.instance_id, HumanTask.bpmn_id == "sign_sending")).all())
    assert states == {"sign_sending": TaskState.CANCELLED}
    with db.transaction(write=False) as s:
        la = service.current_agreement(s, s.get_one(Mobility, run.mobility_id))
        assert la is not None
        la_id, digest = la.id, learning_agreement.current_version(s, la).content_hash
    with pytest.raises(Conflict, match="has started"), db.transaction() as s:
        signatures.sign(s, actor=sc.sending.actor, la_id=la_id, party="sending", content_hash=digest, signer=SIGNER)

    run.complete("sending", "alert_start_missed", {"decision": "postpone", "new_start_date": "2027-04-05",
                                                   "new_end_date": "2027-05-14", "reason": "School signature late"})
    assert run.open_steps() == {"sign_sending"}, "signing resumes where it stopped"
    assert run.status() == MobilityStatus.NOMINATION
    assert run.data()["start_deadline"] == "2027-04-05T00:00:00+00:00"
    sc.frozen.set(datetime(2027, 4, 5, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    run.complete("sending", "alert_start_missed", {"decision": "cancel", "reason": "The learner withdrew"})
    assert run.status() == MobilityStatus.CANCELLED
    assert run.instance_status() == InstanceStatus.COMPLETED
    assert run.ready() == []
    with db.transaction(write=False) as s:
        thrown = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "message.thrown"))
        assert thrown == 0, "a cancelled mobility is not reviewed: only recognition throws mobility_recognized"
    with db.transaction(write=False) as s:
        reasons = list(s.scalars(select(MobilityStatusChange.reason).where(
            MobilityStatusChange.mobility_id == run.mobility_id).order_by(MobilityStatusChange.id)))
        assert reasons[0] == "nominated"
        assert reasons[1] == f"{departure.START_MISSED}: the Learning Agreement was signing (version 2, sending " \
                             "to sign next)"
        assert str(reasons[2]).startswith("postponed from 2027-03-01 to 2027-04-05: School signature late")
        assert str(reasons[3]).startswith(departure.START_MISSED)
        assert reasons[-1] == "The learner withdrew"
        assert s.scalar(select(func.count(PersonalTranscript.id))) == 0


def test_postponed_mobility_starts_once_signed(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Emma Visser", date(2005, 1, 1))
    run.prepare()
    sc.frozen.set(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    run.complete("sending", "alert_start_missed", {"decision": "postpone", "new_start_date": "2027-03-15",
                                                   "new_end_date": "2027-04-23", "reason": "Late signatures"})
    assert run.open_steps() == {"sign_learner"}
    run.parties_sign()
    assert run.ready() == []
    assert run.la()["in_force"]
    sc.frozen.set(datetime(2027, 3, 15, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    assert run.status() == MobilityStatus.LIVE
    assert run.open_steps() == {"checkpoint"}


# --------------------------------------------------------------------------------------------------
# Hazard 7: the loops of the process stay far below SpiffWorkflow's depth limit
# --------------------------------------------------------------------------------------------------


def test_the_most_versions_an_agreement_may_have_stay_within_spiffs_depth_limit(frozen: FrozenClock) -> None:
    """The process graph alone (bare SpiffWorkflow, connectors stubbed, data set by hand): the worst
    case of every party including a guardian, an intermediary, three hosts and an explicit approval re-signing each
    of the versions it may have, then three hosting periods assessed, still completes, and no task
    tree gets near the 1000 levels at which SpiffWorkflow stops walking (hazard 7: the instance would
    stall silently)."""
    files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
    (process,) = parse_bundle(files, forms_dir=ROOT / "forms").processes
    engine = SandboxedScriptEngine({"mobility.go_live": lambda **_: "live",
                                    "mobility.la_implicit_approval": lambda **_: "approved",
                                    "mobility.start_missed": lambda **_: {}}, time_limit=2.0)
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
    workflow.task_tree.data.update({
        "mobility_id": 1, "start_deadline": "2027-03-01T00:00:00+00:00", "country": "DE", "sector": "crafts",
        "eqf_level": 4, "la_id": None, "la_refused": False, "la_next_party": None, "host_periods": 3})
    workflow.do_engine_steps()

    def step(bpmn_id: str, **data: Any) -> None:
        ready = [t for t in workflow.get_tasks(state=SpiffState.READY, manual=True)
                 if getattr(t.task_spec, "bpmn_id", None) == bpmn_id]
        assert len(ready) == 1, (bpmn_id, [getattr(t.task_spec, "bpmn_id", None) for t in workflow.get_tasks(
            state=SpiffState.READY, manual=True)])
        ready[0].data.update(data)
        ready[0].run()
        workflow.do_engine_steps()

    def signing_round(prefix: str, approval: str) -> None:
        order = ["learner", "guardian", "sending", "intermediary", "hosting", "hosting_period_2", "hosting_period_3",
                 "competent_institution", None]
        for party, following in zip(order, order[1:], strict=False):
            step(f"{prefix}_{party}" if party != "competent_institution" else approval, la_next_party=following)

    step("prepare_la", la_id=1, la_next_party="learner")
    step("agree_assessment")
    signing_round("sign", "approve_la_ci")
    frozen.set(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    workflow.refresh_timers()
    workflow.do_engine_steps()
    signers = 8  # learner, guardian, sending, intermediary, three hosts, competent institution
    for _ in range(learning_agreement.max_versions(signers) - 1):
        step("checkpoint", checkpoint_decision="change_la", la_next_party="learner")
        signing_round("resign", "reapprove_la_ci")
    step("checkpoint", checkpoint_decision="assess")
    for bpmn_id in ("record_assessment", "assess_period_2", "assess_period_3", "acknowledge_assessment",
                    "issue_transcript", "release_transcript",
                    "validate_units", "recognise_ci", "record_implications"):
        step(bpmn_id)
    assert workflow.is_completed()
    trees = [workflow, *workflow.subprocesses.values()]
    deepest = max(task.depth for tree in trees for task in tree.tasks.values())
    assert deepest < 500, f"{deepest} levels: too close to SpiffWorkflow's limit of 1000"


def test_the_diagram_draws_every_element() -> None:
    """Opens in bpmn-js and Camunda Modeler: every lane, flow node and sequence flow has its shape or
    edge, shapes have bounds inside the pool, and every edge has at least two waypoints."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI", "dc": "http://www.omg.org/spec/DD/20100524/DC",
          "di": "http://www.omg.org/spec/DD/20100524/DI"}
    root = etree.parse(str(ROOT / "processes" / "mobility.bpmn")).getroot()
    process = root.find("bpmn:process", ns)
    elements = {e.get("id") for e in process.iter() if e.get("id") and etree.QName(e).namespace == ns["bpmn"]
                and etree.QName(e).localname not in (
        "process", "laneSet", "documentation", "extensionElements", "conditionExpression", "timerEventDefinition",
        "messageEventDefinition")}
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", ns)}
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", ns)}
    assert elements - set(shapes) - set(edges) == set()
    pool = shapes["Participant_mobility"].find("dc:Bounds", ns)
    left, top = float(pool.get("x")), float(pool.get("y"))
    right, bottom = left + float(pool.get("width")), top + float(pool.get("height"))
    for element_id, shape in shapes.items():
        bounds = shape.find("dc:Bounds", ns)
        x, y, w, h = (float(bounds.get(k)) for k in ("x", "y", "width", "height"))
        assert left <= x, element_id
        assert x + w <= right, element_id
        assert top <= y, element_id
        assert y + h <= bottom, element_id
    assert all(len(edge.findall("di:waypoint", ns)) >= 2 for edge in edges.values())


def test_the_learning_agreement_form_starts_with_the_mous_contact_persons(db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    values = run.values("sending", "prepare_la")
    assert values["contact_persons"]["sending"] == {"name": "Contact 0", "position": "Coordinator",
                                                    "phone": "+49 1", "email": "contact0@example.org"}
    assert values["contact_persons"]["hosting"]["name"] == "Contact 1"
    assert values["qualification_details"] == {"nqf_level": "4"}
