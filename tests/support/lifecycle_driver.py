"""Drive the whole ECVET lifecycle through the HTTP API alone, as its parties (tests/api/test_lifecycle.py).

The administrator deploys ``processes/`` and ``forms/``, creates the organisations, people, memberships
and the registry of competent institutions over HTTP. From then on every step is taken by the party
the Key Actions Checklist names: it finds the task in its own ``GET /api/tasks``, reads the form
values (``GET /api/tasks/{id}``) and completes it (``POST /api/tasks/{id}/complete``). Before each
step :meth:`Platform.only_for` checks that the ready task is in exactly that party's task list and that
every other person gets 404 for it.

Only time is not HTTP: the clock is frozen (``engine.clock.FrozenClock``) and the worker
(``engine.jobs.run_due``, what ``ecvet worker`` runs) fires timers, runs service tasks and delivers
messages; implicit approvals, the mobility going live and the start of the review happen that way,
with no request. Tokens live 30 days of that clock, so everyone signs in again whenever it moves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from engine import jobs
from engine.clock import FrozenClock
from engine.config import ROOT
from engine.db import Database
from tests.api.conftest import Caller, assert_problem, deploy_files, sign_in
from tests.support.factories import Person

PASSWORD = "lifecycle-password-2027"
UNITS = [
    {"code": "U1", "title": "Preparing cold dishes", "ecvet_points": 12, "eqf_level": 4},
    {"code": "U2", "title": "Hygiene and food safety", "ecvet_points": 4, "eqf_level": 4},
    {"code": "U3", "title": "Serving guests", "ecvet_points": 6, "eqf_level": 4},
]
ASSESSMENT = {
    "assessors": [{"name": "Javier Ruiz", "organisation": "Hosting company", "role": "company mentor"}],
    "method": "Observation of a practical task, followed by a short interview",
    "when": "Last week of the mobility", "where": "Hotel kitchen", "documentation": "Assessment sheet per unit",
}


# --------------------------------------------------------------------------------------------------
# The platform: HTTP client, administrator, clock and worker
# --------------------------------------------------------------------------------------------------


@dataclass
class Platform:
    """The running platform as a newcomer sees it: one HTTP client, the administrator, the people it
    created (by key: "sending", "hosting", "ci-home", ...), a frozen clock and the worker."""

    client: FlaskClient
    db: Database
    clock: FrozenClock
    admin: Caller
    people: dict[str, Caller] = field(default_factory=dict)

    # Set-up by the administrator, over HTTP --------------------------------------------------------

    def deploy(self) -> dict[str, int]:
        """Every file of processes/ and forms/ as one bundle; returns {process key: version}."""
        paths = sorted((ROOT / "processes").glob("*.bpmn")) + sorted((ROOT / "processes").glob("*.dmn")) \
            + sorted((ROOT / "forms").glob("*.json"))
        response = deploy_files(self.admin, paths)
        assert response.status_code == 201, response.get_json()
        return {d["key"]: d["version"] for d in response.get_json()["definitions"]}

    def organisation(self, name: str, country: str) -> int:
        response = self.admin.post("/api/organisations", json={"name": name, "country": country})
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def person(self, key: str, name: str, *, organisation_id: int | None = None, email: str | None = None,
               position: str | None = None) -> Caller:
        """A user created by the admin (with the position they sign in), made a member of the
        organisation, signed in."""
        email = email or f"{key}@{key.replace('-', '')}.example"
        response = self.admin.post("/api/users", json={"email": email, "name": name, "password": PASSWORD,
                                                       "position": position})
        assert response.status_code == 201, response.get_json()
        user_id = int(response.get_json()["id"])
        if organisation_id is not None:
            added = self.admin.post(f"/api/organisations/{organisation_id}/members", json={"user_id": user_id})
            assert added.status_code == 201, added.get_json()
        caller = sign_in(self.client, Person(user_id, email, PASSWORD))
        self.people[key] = caller
        return caller

    def register(self, organisation_id: int, country: str, *functions: str) -> None:
        """The organisation is the competent institution for these functions in the country."""
        for function in functions:
            response = self.admin.post("/api/competent-institutions", json={
                "organisation_id": organisation_id, "country": country, "function": function})
            assert response.status_code == 201, response.get_json()

    # Time and the worker -------------------------------------------------------------------------

    def at(self, when: datetime) -> None:
        """Move the clock (forward only) and sign everyone in again: tokens follow the clock."""
        assert when >= self.clock.now()
        self.clock.set(when)
        self.refresh_tokens()

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))
        self.refresh_tokens()

    def refresh_tokens(self) -> None:
        for caller in [self.admin, *self.people.values()]:
            fresh = sign_in(self.client, caller.person)
            caller.token = fresh.token

    def worker(self) -> int:
        """What `ecvet worker` does on its next polls: every job that is due now."""
        return jobs.run_due(self.db)

    # Tasks -----------------------------------------------------------------------------------------

    def instance(self, instance_id: str) -> dict[str, Any]:
        response = self.admin.get(f"/api/process-instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    def open_steps(self, instance_id: str) -> set[str]:
        """Every ready user task of the instance, whoever's (as the administrator reads the instance)."""
        return {t["bpmn_id"] for t in self.instance(instance_id)["ready_tasks"]}

    def inbox(self, who: str, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        response = self.people[who].get(f"/api/tasks?{query}&limit=200")
        assert response.status_code == 200, response.get_json()
        return list(response.get_json()["items"])

    def only_for(self, who: str, instance_id: str, bpmn_id: str) -> dict[str, Any]:
        """The ready task `bpmn_id` of the instance: in `who`'s task list, in nobody else's, and 404
        for everyone else who asks for it by id."""
        mine = [t for t in self.inbox(who, instance_id=instance_id) if t["bpmn_id"] == bpmn_id]
        assert len(mine) == 1, (who, bpmn_id, self.open_steps(instance_id))
        task = mine[0]
        for other, caller in self.people.items():
            if other == who:
                continue
            seen = {t["id"] for t in self.inbox(other, instance_id=instance_id)}
            assert task["id"] not in seen, f"{bpmn_id} is in the task list of {other} too"
            assert_problem(caller.get(f"/api/tasks/{task['id']}"), 404)
        return task

    def history(self, who: str, instance_id: str) -> list[tuple[str, str]]:
        """(bpmn id, state) of every task of the instance that was routed to `who` and is over:
        completed, or cancelled (by a timer, a rejection elsewhere, the end of the process)."""
        done = [t for state in ("completed", "cancelled")
                for t in self.inbox(who, instance_id=instance_id, state=state)]
        return [(t["bpmn_id"], t["state"]) for t in sorted(done, key=lambda t: (t["created_at"], t["id"]))]

    def values(self, who: str, instance_id: str, bpmn_id: str) -> dict[str, Any]:
        """The form values `who` is shown for the task (read-only fields filled in by the process)."""
        task = self.only_for(who, instance_id, bpmn_id)
        response = self.people[who].get(f"/api/tasks/{task['id']}")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json()["form"]["values"])

    def shown_signer(self, who: str, values: dict[str, Any]) -> dict[str, Any]:
        """The signer a signing form shows `who`: themself (account and profile), never another party;
        returned to be sent back as it is, as the task page does."""
        me = self.people[who].get("/api/users/me").get_json()
        expected = {k: me[k] for k in ("name", "email", "position", "place") if me[k]}
        assert values["signer"] == expected, (who, values["signer"])
        return dict(values["signer"])

    def complete(self, who: str, instance_id: str, bpmn_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """`who` completes the task a minute after the previous step (people take time; it also orders
        the tasks and signatures of one frozen day)."""
        task = self.only_for(who, instance_id, bpmn_id)
        self.clock.advance(minutes=1)
        response = self.people[who].post(f"/api/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == 200, (bpmn_id, response.get_json())
        return dict(response.get_json())

    # Documents -------------------------------------------------------------------------------------

    def document(self, who: str, kind: str, record_id: int, **query: Any) -> dict[str, Any]:
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        response = self.people[who].get(f"/api/documents/{kind}/{record_id}{suffix}")
        assert response.status_code == 200, (kind, record_id, response.get_json())
        return dict(response.get_json())

    def pdf(self, who: str, kind: str, record_id: int) -> bytes:
        response = self.people[who].get(f"/api/documents/{kind}/{record_id}?format=pdf")
        assert response.status_code == 200, response.data[:300]
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        return bytes(response.data)

    def hidden_from(self, who: str, *urls: str) -> None:
        for url in urls:
            assert_problem(self.people[who].get(url), 404)


# --------------------------------------------------------------------------------------------------
# Partnership: profiles, role map, the MoU through its approval round
# --------------------------------------------------------------------------------------------------


def profile(name: str, country: str, email: str) -> dict[str, Any]:
    return {
        "organisation": {"name": name, "country": country, "type": "VET provider",
                         "contact_person": {"name": f"Contact of {name}", "position": "International officer",
                                            "email": email}},
        "qualifications_offered": [{
            "title": "Cook", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
            "units": [{"code": u["code"], "title": u["title"], "ecvet_points": u["ecvet_points"],
                       "learning_outcomes": [{"kind": "skills", "text": f"Outcome of {u['code']}"}]} for u in UNITS],
        }],
        "vet_system": f"Initial VET in {country}: three years, school and company.",
        "europass_certificate_supplements": [{"qualification": "Cook", "url": "https://europass.example/cs/cook"}],
    }


@dataclass
class PartnershipFlow:
    """One Partnership process instance between a sending and a hosting organisation."""

    platform: Platform
    instance_id: str
    home: str
    abroad: str
    organisations: dict[str, int]

    @property
    def summary(self) -> dict[str, Any]:
        items = self.platform.people["sending"].get("/api/partnerships").get_json()["items"]
        (found,) = [p for p in items if p["instance_id"] == self.instance_id]
        return dict(found)

    @property
    def mou_id(self) -> int:
        return int(self.summary["mou_id"])

    def mou(self, who: str = "sending") -> dict[str, Any]:
        response = self.platform.people[who].get(f"/api/mous/{self.mou_id}")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    def open_steps(self) -> set[str]:
        return self.platform.open_steps(self.instance_id)

    def values(self, who: str, bpmn_id: str) -> dict[str, Any]:
        return self.platform.values(who, self.instance_id, bpmn_id)

    def complete(self, who: str, bpmn_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.platform.complete(who, self.instance_id, bpmn_id, data)

    def profiles(self) -> None:
        """Each partner describes its organisation, qualifications and VET system, the sender first."""
        p = self.platform
        self.complete("sending", "describe_sending", {"sending_profile": profile(
            "Sending school", self.home, p.people["sending"].person.email)})
        self.complete("hosting", "describe_hosting", {"hosting_profile": profile(
            "Hosting company", self.abroad, p.people["hosting"].person.email)})

    def role_map(self, holders: dict[str, dict[str, int]]) -> None:
        """`holders`: {function: {"home": organisation id, "host": organisation id}}."""
        roles = {f: {side: {"organisation_id": org} for side, org in sides.items()} for f, sides in holders.items()}
        self.complete("sending", "map_roles", {"ecvet_roles": roles})

    def content(self, *, max_weeks: int, sector: str | None = None) -> dict[str, Any]:
        """The MoU text (European template fields) the sending organisation drafts."""
        orgs = self.organisations
        content: dict[str, Any] = {
            "file_code": f"MoU-{self.home}-{self.abroad}-2027",
            "objectives": {"mutual_acceptance": ["assessment", "validation", "recognition"],
                           "other": "Exchanges of cooks in training"},
            "signing_organisations": [
                {"organisation_id": orgs[role], "role": role, "country": country, "name": name,
                 "address": "Main street 1", "website": "https://example.org",
                 "contact_person": {"name": f"Contact of {name}", "position": "Coordinator", "phone": "+1 555",
                                    "email": f"{role}@example.org"}}
                for role, country, name in (("sending", self.home, "Sending school"),
                                            ("hosting", self.abroad, "Hosting company"))
            ],
            "other_organisations": [],
            "qualifications": [{"title": "Cook", "country": self.home, "eqf_level": 4, "nqf_level": "4",
                                "ecvet_points": 180, "units": [dict(u) for u in UNITS]}],
            "arrangements": {
                "assessment": {"how": "Practical task observed by the host mentor",
                               "organisation_ids": [orgs["hosting"]]},
                "documentation": {"how": "Learner's Personal Transcript", "organisation_ids": [orgs["hosting"]]},
                "validation": {"how": "Comparison with the Learning Agreement", "organisation_ids": [orgs["sending"]]},
                "recognition": {"how": "Units awarded at home", "organisation_ids": [orgs["sending"]]},
            },
            "mobility_duration_weeks": {"min": 3, "max": max_weeks},
            "valid_until": "2029-12-31",
            "evaluation_and_review": "A review of every mobility; a yearly meeting of the partners",
        }
        if sector:
            content["sector"] = sector
        return content

    def draft_and_submit(self, content: dict[str, Any]) -> None:
        self.complete("sending", "draft_mou", content)
        values = self.values("sending", "submit_mou")
        assert values["mou_hash"] == self.mou()["content_hash"], "the sender signs the text it drafted"
        self.complete("sending", "submit_mou", {"confirmed": True, "signer": self.platform.shown_signer(
            "sending", values)})

    def decide(self, who: str, bpmn_id: str, decision: str, comment: str | None = None) -> None:
        values = self.values(who, bpmn_id)
        assert values["mou_hash"] == self.mou(who)["content_hash"], "the approver is shown the current text's hash"
        data: dict[str, Any] = {"mou_hash": values["mou_hash"], "decision": decision,
                                "signer": self.platform.shown_signer(who, values)}
        if comment is not None:
            data["comment"] = comment
        self.complete(who, bpmn_id, data)


def start_partnership(platform: Platform, home: str, abroad: str, parties: dict[str, int]) -> PartnershipFlow:
    """The sending coordinator starts the Partnership process, binding every lane's role."""
    response = platform.people["sending"].post("/api/process-instances", json={
        "process_key": "partnership", "business_key": f"partnership-{home}-{abroad}", "parties": parties})
    assert response.status_code == 201, response.get_json()
    return PartnershipFlow(platform, response.get_json()["id"], home, abroad, dict(parties))


# --------------------------------------------------------------------------------------------------
# Mobility: one learner, Learning Agreement to credits
# --------------------------------------------------------------------------------------------------


@dataclass
class MobilityFlow:
    """One learner's mobility and its process instance; people are named by their keys in the platform."""

    platform: Platform
    mobility_id: int
    instance_id: str
    learner_id: int
    learner: str  # key of the learner's own account
    name: str
    signs_for_guardian: str | None  # who signs the guardian's part: "guardian-..." (own account) or "sending"

    def detail(self, who: str = "sending") -> dict[str, Any]:
        response = self.platform.people[who].get(f"/api/mobilities/{self.mobility_id}")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())

    @property
    def la(self) -> dict[str, Any]:
        return dict(self.detail()["learning_agreement"])

    def open_steps(self) -> set[str]:
        return self.platform.open_steps(self.instance_id)

    def values(self, who: str, bpmn_id: str) -> dict[str, Any]:
        return self.platform.values(who, self.instance_id, bpmn_id)

    def complete(self, who: str, bpmn_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.platform.complete(who, self.instance_id, bpmn_id, data)

    # Before the mobility ---------------------------------------------------------------------------

    def prepare(self, units: list[str]) -> None:
        """The sending organisation prepares the agreement from the MoU's units; the host agrees the
        assessment."""
        values = self.values("sending", "prepare_la")
        assert [u["code"] for u in values["mou_units"]] == [u["code"] for u in UNITS]
        self.complete("sending", "prepare_la", {
            "units": [{"code": code, "learning_outcomes": [f"Outcome of {code}"],
                       "learning_activities": {"location": "Hotel kitchen", "tasks": f"Station work for {code}"}}
                      for code in units],
            "assessment": {"method": "Practical task"},
            "validation_and_recognition": {"who": "Sending school", "how": "Comparison with the LA",
                                           "effect": "Units exempted at home"},
        })
        values = self.values("hosting", "agree_assessment")
        self.complete("hosting", "agree_assessment", {"la_hash": values["la_hash"], "assessment": ASSESSMENT})

    def sign(self, who: str, bpmn_id: str) -> None:
        """`who` signs the version it is shown, whose hash is the agreement's current one, as the form
        shows the signer (themself; for a paper signature the school records, the parent on record)."""
        values = self.values(who, bpmn_id)
        assert values["la_hash"] == self.la["content_hash"]
        signer = values["signer"]
        if bpmn_id.endswith("_guardian") and who == "sending":
            assert signer == {"name": f"Parent of {self.name}", "email": "parent@family.example"}
        else:
            assert signer == self.platform.shown_signer(who, values)
        self.complete(who, bpmn_id, {"la_hash": values["la_hash"], "decision": "sign", "signer": signer})

    def signing_round(self, prefix: str) -> list[str]:
        """Every party signs in the order the agreement requires (learner, guardian of a minor,
        sending, hosting), each only when it is their turn: nobody else has a signing task then."""
        order = []
        for party in self.la["required_signatures"]:
            if party == "competent_institution":
                break
            who = {"learner": self.learner, "guardian": self.signs_for_guardian}.get(party, party)
            assert who is not None
            assert self.la["next_party"] == party
            steps = self.open_steps()
            assert steps == {f"{prefix}_{party}"}, (party, steps)
            self.sign(who, f"{prefix}_{party}")
            order.append(party)
        return order

    # During the mobility ---------------------------------------------------------------------------

    def change_units(self, removed: dict[str, str], added: dict[str, str]) -> None:
        """The host proposes a change of the agreement: units removed and added, each with its reason."""
        values = self.values("hosting", "checkpoint")
        self.complete("hosting", "checkpoint", {
            "la_hash": values["la_hash"], "decision": "change_la",
            "removed": [{"unit": code, "reason": reason} for code, reason in removed.items()],
            "added": [{"unit": {"code": code, "learning_outcomes": [f"Outcome of {code}"]}, "reason": reason}
                      for code, reason in added.items()],
        })

    def assess(self, results: dict[str, str]) -> None:
        """The host assesses each unit (assessment sheet), the learner acknowledges."""
        values = self.values("hosting", "checkpoint")
        self.complete("hosting", "checkpoint", {"la_hash": values["la_hash"], "decision": "assess"})
        values = self.values("hosting", "record_assessment")
        assert [u["code"] for u in values["la_units"]] == list(results)
        sheets = []
        for code, result in results.items():
            sheet = {"unit": code, "criteria": f"Criteria of {code}", "method": "practical_task",
                     "context": "Lunch service", "assessor": {"name": "Javier Ruiz", "organisation": "Hosting company",
                                                               "role": "company mentor"},
                     "date": "2027-04-05", "result": result, "evidence": f"Observation notes {code}"}
            if result == "achieved":
                sheet["grade"] = "8/10"
            sheets.append(sheet)
        self.complete("hosting", "record_assessment", {"assessments": sheets})
        self.complete(self.learner, "acknowledge_assessment", {"agrees": True})

    def issue_and_release(self) -> dict[str, Any]:
        """The host issues the Learner's Personal Transcript; the home side reads it only once the host
        marks it ready for recognition. Returns the transcript as the home side then reads it."""
        values = self.values("hosting", "issue_transcript")
        self.complete("hosting", "issue_transcript", {"signer": self.platform.shown_signer("hosting", values)})
        url = f"/api/mobilities/{self.mobility_id}"
        self.platform.hidden_from("sending", f"{url}/transcript", f"{url}/assessments")
        assert self.detail("sending")["transcript_status"] == "issued"
        assert self.detail("sending")["transcript"] is None
        issued = self.platform.people["hosting"].get(f"{url}/transcript").get_json()
        assert self.platform.people[self.learner].get(f"{url}/transcript").get_json()["id"] == issued["id"]
        values = self.values("hosting", "release_transcript")
        assert values["transcript_hash"] == issued["content_hash"]
        self.complete("hosting", "release_transcript", {"ready_for_recognition": True})
        released = self.platform.people["sending"].get(f"{url}/transcript")
        assert released.status_code == 200, released.get_json()
        return dict(released.get_json())

    # After the mobility ----------------------------------------------------------------------------

    def achievements(self, who: str | None = None) -> dict[str, Any]:
        response = self.platform.people[who or self.learner].get(f"/api/learners/{self.learner_id}/achievements")
        assert response.status_code == 200, response.get_json()
        return dict(response.get_json())


def nominate(platform: Platform, *, mou_id: int, hosting_id: int, learner: str, name: str, born: date,
             guardian: tuple[str, str] | None = None, sector: str | None = None,
             signs_for_guardian: str | None = None) -> MobilityFlow:
    """The sending organisation nominates a learner (with their own account) under its MoU in force:
    `POST /api/mobilities` starts the Mobility process."""
    details: dict[str, Any] = {"name": name, "date_of_birth": born.isoformat(),
                               "email": platform.people[learner].person.email}
    if guardian is not None:
        details["guardian_name"], details["guardian_email"] = guardian
    body: dict[str, Any] = {"mou_id": mou_id, "hosting_organisation_id": hosting_id, "qualification_title": "Cook",
                            "start_date": "2027-03-01", "end_date": "2027-04-09", "learner": details}
    if sector:
        body["sector"] = sector
    response = platform.people["sending"].post("/api/mobilities", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == "nomination"
    assert created["learner"]["is_minor"] == (guardian is not None)
    return MobilityFlow(platform, created["id"], created["process_instance_id"], created["learner_id"], learner,
                        name, signs_for_guardian)


# --------------------------------------------------------------------------------------------------
# Review: started by the mobility's message, evaluation sheets, action plan
# --------------------------------------------------------------------------------------------------


@dataclass
class ReviewFlow:
    platform: Platform
    instance_id: str
    mobility: MobilityFlow

    def complete(self, who: str, bpmn_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.platform.complete(who, self.instance_id, bpmn_id, data)

    def values(self, who: str, bpmn_id: str) -> dict[str, Any]:
        return self.platform.values(who, self.instance_id, bpmn_id)

    def record(self, who: str = "sending") -> dict[str, Any]:
        response = self.platform.people[who].get(f"/api/reviews?mobility_id={self.mobility.mobility_id}")
        (review,) = response.get_json()["items"]
        detail = self.platform.people[who].get(f"/api/reviews/{review['id']}")
        assert detail.status_code == 200, detail.get_json()
        return dict(detail.get_json())


def review_of(platform: Platform, mobility: MobilityFlow) -> ReviewFlow:
    """The Review process the mobility's end started: found, as the learner would, in their task list."""
    (task,) = platform.inbox(mobility.learner, process_key="review")
    assert task["bpmn_id"] == "evaluate_learner"
    return ReviewFlow(platform, task["instance_id"], mobility)
