"""Drives the Mobility process in tests: a scenario per national model (partners, MoU in force,
learners), a run per learner with the steps of the checklist, and checks shared by the service,
API and browser tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

import ecvet.mobility.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.mobility import nomination, service, transcript, views
from ecvet.mobility.models import LaStatus, MobilityStatus, MobilityStatusChange
from ecvet.national_models.models import CompetenceFunction
from engine import deployments, instances, jobs, tasks
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from engine.errors import NotFound
from engine.execution import open_workflow
from engine.models import HumanTask, InstanceStatus, ProcessInstance
from engine.parties import Actor
from tests.support.ecvet_factories import SIGNER, Party, active_mou, make_party, register
from tests.support.engine import actor_for
from tests.support.factories import make_user

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
START, END = date(2027, 3, 1), date(2027, 4, 9)
FILES = ("mobility.bpmn", "national_models.dmn")
# What members give when they sign: their position; name and e-mail are their accounts' (Javier Ruiz of
# the hotel, Jonas Weber of the chamber).
HOST_SIGNER = {"position": "Company mentor"}
CI_SIGNER = {"position": "Ausbildungsberater"}
ASSESSMENT_AGREED = {
    "assessors": [{"name": "Javier Ruiz", "organisation": "Hotel Sol", "role": "company mentor"}],
    "method": "Observation of a practical task, followed by a short interview",
    "when": "Last week of the mobility", "where": "Hotel kitchen", "documentation": "Assessment sheet per unit",
}


@dataclass
class Scenario:
    """One partnership (a MoU in force) under one national model, with every party signed in."""

    db: Database
    frozen: FrozenClock
    home: str
    sending: Party
    hosting: Party
    ci_home: Party | None
    outsider: Party
    mou_id: int
    runs: list[Run] = field(default_factory=list)

    def nominate(self, name: str, born: date, *, sector: str | None = None, guardian_account: bool = False,
                 start: date = START, end: date = END, intermediary: Party | None = None) -> Run:
        learner_user = make_user(self.db, name=name)
        guardian_user = make_user(self.db, name=f"Parent of {name}") if guardian_account else None
        details = {"name": name, "date_of_birth": born.isoformat(), "email": learner_user.email}
        if born > date(2009, 3, 1):
            details.update(guardian_name=f"Parent of {name}",
                           guardian_email=guardian_user.email if guardian_user else "parent@family.example")
        with self.db.transaction() as s:
            mobility = nomination.nominate(s, actor=self.sending.actor, mou_id=self.mou_id,
                                           hosting_organisation_id=self.hosting.org_id, qualification_title="Cook",
                                           start_date=start, end_date=end, sector=sector, learner=details,
                                           intermediary_organisation_id=intermediary.org_id if intermediary else None)
            assert mobility.process_instance_id is not None
            run = Run(self, mobility.id, mobility.process_instance_id, mobility.learner_id,
                      actor_for(self.db, learner_user.id),
                      actor_for(self.db, guardian_user.id) if guardian_user else None, name,
                      intermediary.actor if intermediary else None)
        self.runs.append(run)
        return run

    def worker(self) -> int:
        return jobs.run_due(self.db)


@dataclass
class Run:
    """One learner's mobility and its process instance."""

    sc: Scenario
    mobility_id: int
    instance_id: str
    learner_id: int
    learner: Actor
    guardian: Actor | None
    name: str
    intermediary: Actor | None = None

    # Who is who ----------------------------------------------------------------------------------

    @property
    def people(self) -> dict[str, Actor]:
        out = {"sending": self.sc.sending.actor, "hosting": self.sc.hosting.actor, "learner": self.learner,
               "outsider": self.sc.outsider.actor}
        if self.sc.ci_home is not None:
            out["ci_home"] = self.sc.ci_home.actor
        if self.guardian is not None:
            out["guardian"] = self.guardian
        if self.intermediary is not None:
            out["intermediary"] = self.intermediary
        return out

    @property
    def db(self) -> Database:
        return self.sc.db

    # Tasks -----------------------------------------------------------------------------------------

    def ready(self) -> list[HumanTask]:
        with self.db.transaction(write=False) as s:
            return instances.ready_tasks(s, s.get_one(ProcessInstance, self.instance_id))

    def open_steps(self) -> set[str]:
        return {t.bpmn_id for t in self.ready()}

    def only_for(self, who: str, bpmn_id: str) -> HumanTask:
        """The ready task `bpmn_id`: in the inbox of `who` and of no other party of the mobility, and
        invisible (404) to an outsider."""
        matching = [t for t in self.ready() if t.bpmn_id == bpmn_id]
        assert len(matching) == 1, (bpmn_id, self.open_steps())
        task = matching[0]
        for name, actor in self.people.items():
            with self.db.transaction(write=False) as s:
                seen = task.id in {t.id for t in tasks.list_for(s, actor=actor, instance_id=self.instance_id).items}
            assert seen == (name == who), f"{bpmn_id}: {'seen' if seen else 'not seen'} by {name}"
        with pytest.raises(NotFound), self.db.transaction(write=False) as s:
            tasks.get(s, actor=self.sc.outsider.actor, task_id=task.id)
        return task

    def values(self, who: str, bpmn_id: str) -> dict[str, Any]:
        task = self.only_for(who, bpmn_id)
        with self.db.transaction(write=False) as s:
            return tasks.detail(s, actor=self.people[who], task_id=task.id)["form"]["values"]

    def complete(self, who: str, bpmn_id: str, data: dict[str, Any]) -> None:
        task = self.only_for(who, bpmn_id)
        with self.db.transaction() as s:
            tasks.complete(s, actor=self.people[who], task_id=task.id, data=data)

    def roles_with_tasks(self) -> set[str]:
        with self.db.transaction(write=False) as s:
            return set(s.scalars(select(HumanTask.role).where(HumanTask.instance_id == self.instance_id)))

    def bpmn_ids_done(self) -> list[str]:
        with self.db.transaction(write=False) as s:
            return list(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == self.instance_id)
                                  .order_by(HumanTask.created_at, HumanTask.id)))

    def data(self) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            last = open_workflow(s.get_one(ProcessInstance, self.instance_id)).last_task
            assert last is not None
            return dict(last.data)

    def instance_status(self) -> str:
        with self.db.transaction(write=False) as s:
            return s.get_one(ProcessInstance, self.instance_id).status

    # Records ---------------------------------------------------------------------------------------

    def status(self) -> str:
        with self.db.transaction(write=False) as s:
            return service.get(s, actor=self.sc.sending.actor, mobility_id=self.mobility_id).status

    def la(self) -> dict[str, Any]:
        with self.db.transaction(write=False) as s:
            la = service.current_agreement(s, service.get(s, actor=self.sc.sending.actor,
                                                                mobility_id=self.mobility_id))
            assert la is not None
            return dict(views.agreement(s, actor=self.sc.sending.actor, la_id=la.id))

    # Steps -----------------------------------------------------------------------------------------

    def prepare(self) -> None:
        values = self.values("sending", "prepare_la")
        assert [u["code"] for u in values["mou_units"]] == ["U1", "U2", "U3"]
        assert values["qualification_title"] == "Cook"
        self.complete("sending", "prepare_la", {
            "units": [{"code": "U1", "learning_outcomes": ["Prepares cold starters to recipe"],
                       "learning_activities": {"location": "Hotel kitchen", "tasks": "Garde-manger station"}},
                      {"code": "U2"}],
            "assessment": {"method": "Practical task"},
            "validation_and_recognition": {"who": "Sending school", "how": "Comparison with the LA",
                                           "effect": "Units exempted at home"},
        })
        values = self.values("hosting", "agree_assessment")
        self.complete("hosting", "agree_assessment", {"la_hash": values["la_hash"], "assessment": ASSESSMENT_AGREED})

    def sign(self, bpmn_id: str, who: str, signer: dict[str, str] | None = None) -> None:
        """Sign the form as filled in for `who` (the signer the platform shows: the reader, or the
        parent on record for a paper signature), with `signer`'s position or place of the day."""
        values = self.values(who, bpmn_id)
        self.complete(who, bpmn_id, {"la_hash": values["la_hash"], "decision": "sign",
                                     "signer": {**values["signer"], **(signer or {})}})

    def parties_sign(self, prefix: str = "sign") -> None:
        """Learner, guardian of a minor (personally or recorded by the sending organisation), sending,
        hosting, each only when it is their turn."""
        self.sign(f"{prefix}_learner", "learner")
        if self.la()["learner_is_minor"]:
            who = "guardian" if self.guardian else "sending"
            self.sign(f"{prefix}_guardian", who)
        self.sign(f"{prefix}_sending", "sending", SIGNER)
        if self.intermediary is not None:
            self.sign(f"{prefix}_intermediary", "intermediary", SIGNER)
        self.sign(f"{prefix}_hosting", "hosting", HOST_SIGNER)

    def change_units(self) -> None:
        """During the mobility the host removes U2 and adds U3, each with its reason."""
        values = self.values("hosting", "checkpoint")
        self.complete("hosting", "checkpoint", {
            "la_hash": values["la_hash"], "decision": "change_la",
            "removed": [{"unit": "U2", "reason": "The hygiene course is not offered this season"}],
            "added": [{"unit": {"code": "U3", "learning_outcomes": ["Serves guests at table"]},
                       "reason": "The learner works in the restaurant instead"}],
        })

    def assess(self, results: dict[str, str]) -> None:
        """In the last week of the mobility the host assesses; the learner acknowledges."""
        self.sc.frozen.set(max(self.sc.frozen.now(), datetime(2027, 4, 5, 10, 0, tzinfo=UTC)))
        values = self.values("hosting", "checkpoint")
        self.complete("hosting", "checkpoint", {"la_hash": values["la_hash"], "decision": "assess"})
        values = self.values("hosting", "record_assessment")
        assert [u["code"] for u in values["la_units"]] == list(results)
        sheets = []
        for code, result in results.items():
            sheet = {"unit": code, "criteria": f"Criteria of {code}", "method": "practical_task",
                     "context": "Lunch service", "assessor": {"name": "Javier Ruiz", "organisation": "Hotel Sol"},
                     "date": "2027-04-05", "result": result, "evidence": f"Observation notes {code}"}
            if result == "achieved":
                sheet["grade"] = "8/10"
            sheets.append(sheet)
        self.complete("hosting", "record_assessment", {"assessments": sheets})
        self.complete("learner", "acknowledge_assessment", {"agrees": True})

    def issue_transcript(self) -> None:
        # The learner's last day is today (an early end), so the home side may validate at once.
        today = self.sc.frozen.now().date().isoformat()
        self.complete("hosting", "issue_transcript", {"signer": HOST_SIGNER, "period": {"end": today}})

    def release_transcript(self) -> None:
        self.complete("hosting", "release_transcript", {"ready_for_recognition": True})


def start(db: Database, frozen: FrozenClock, home: str, abroad: str, *, ci_functions: tuple[str, ...] = (),
          sector: str | None = None) -> Scenario:
    with db.transaction() as s:
        files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
        deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
    sending = make_party(db, home, "Sending school")
    hosting = make_party(db, abroad, "Hotel Sol", member="Javier Ruiz")
    outsider = make_party(db, home, "Another school")
    ci_home = None
    if ci_functions:
        ci_home = make_party(db, home, "Competent institution at home", member="Jonas Weber")
        for function in ci_functions:
            register(db, ci_home.org_id, home, function)
    mou_id = active_mou(db, sending, hosting, countries=(home, abroad), sector=sector,
                        competent_institution=ci_home if CompetenceFunction.MOU_APPROVAL in ci_functions else None)
    return Scenario(db, frozen, home, sending, hosting, ci_home, outsider, mou_id)


def go_live(sc: Scenario) -> None:
    """The worker alone: nothing happens the day before the start date; at the start date every
    mobility whose agreement is in force goes live and its host gets the first task."""
    sc.frozen.set(datetime(2027, 2, 28, 23, 0, tzinfo=UTC))
    sc.worker()
    assert all(r.status() == MobilityStatus.NOMINATION for r in sc.runs)
    sc.frozen.set(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    for run in sc.runs:
        assert run.status() == MobilityStatus.LIVE
        assert run.open_steps() == {"checkpoint"}


def visibility_before_release(run: Run) -> None:
    """Issued, not released: the host and the learner read the transcript, the home side does not."""
    sc = run.sc
    with sc.db.transaction(write=False) as s:
        assert transcript.get(s, actor=sc.hosting.actor, mobility_id=run.mobility_id).content_hash
        assert transcript.get(s, actor=run.learner, mobility_id=run.mobility_id).learner_id == run.learner_id
        home = [sc.sending.actor] + ([sc.ci_home.actor] if sc.ci_home else [])
        for actor in home:
            with pytest.raises(NotFound):
                transcript.get(s, actor=actor, mobility_id=run.mobility_id)
            with pytest.raises(NotFound):
                views.assessment_sheets(s, actor=actor, mobility_id=run.mobility_id)
        for getter in (lambda: service.get(s, actor=sc.outsider.actor, mobility_id=run.mobility_id),
                       lambda: service.get_learner(s, actor=sc.outsider.actor, learner_id=run.learner_id),
                       lambda: transcript.get(s, actor=sc.outsider.actor, mobility_id=run.mobility_id),
                       lambda: instances.get(s, actor=sc.outsider.actor, instance_id=run.instance_id)):
            with pytest.raises(NotFound):
                getter()


def after_release(run: Run) -> dict[str, Any]:
    """Released: the home side reads the same transcript, bound to the agreement version in force."""
    with run.db.transaction(write=False) as s:
        view = views.personal_transcript(transcript.get(s, actor=run.sc.sending.actor, mobility_id=run.mobility_id))
    la = run.la()
    assert (view["la_version"], view["la_hash"]) == (la["version"], la["content_hash"])
    assert view["ready_for_recognition_at"] is not None
    assert run.values("sending" if "validate_units" in run.open_steps() or "validate_and_recognise_sending" in
                      run.open_steps() else "ci_home", next(iter(run.open_steps())))["transcript_hash"] \
        == view["content_hash"]
    return dict(view)


def credits(run: Run) -> dict[str, float]:
    with run.db.transaction(write=False) as s:
        mine = views.achievements(s, actor=run.learner, learner_id=run.learner_id)
    return {c["unit"]: c["ecvet_points"] for c in mine["credits"]}


def finish(run: Run, implications: list[dict[str, Any]] | None = None) -> None:
    if implications:
        run.complete("sending", "record_implications", {"implications": implications})
    else:
        run.complete("sending", "record_implications", {"none": True})
    assert run.instance_status() == InstanceStatus.COMPLETED
    assert run.ready() == []
    assert run.status() == MobilityStatus.RECOGNIZED
    with run.db.transaction(write=False) as s:
        history = [(c.old_status, c.new_status) for c in s.scalars(
            select(MobilityStatusChange).where(MobilityStatusChange.mobility_id == run.mobility_id)
            .order_by(MobilityStatusChange.id))]
    assert history == [(None, "nomination"), ("nomination", "live"), ("live", "recognized")]


def check_changed_agreement(run: Run) -> None:
    la = run.la()
    assert la["version"] == 3
    assert la["status"] in (LaStatus.SIGNED, LaStatus.APPROVED)
    assert la["in_force"]
    assert [u["code"] for u in la["content"]["units"]] == ["U1", "U3"]
    assert la["content"]["units"][1]["ecvet_points"] == 6, "points come from the MoU"
    assert la["changes"] == [
        {"unit": "U2", "change": "removed", "reason": "The hygiene course is not offered this season"},
        {"unit": "U3", "change": "added", "reason": "The learner works in the restaurant instead"},
    ]
    counting = [s for s in la["signatures"] if s["counts"]]
    assert [s["party"] for s in counting] == la["required_signatures"]


# --------------------------------------------------------------------------------------------------
# NL: the provider has full responsibility
# --------------------------------------------------------------------------------------------------
