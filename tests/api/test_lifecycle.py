"""The whole ECVET lifecycle end to end through the HTTP API alone, once per illustrative national model.

Per model (rows of processes/national_models.dmn, illustrative, not legal advice): the administrator
deploys processes/ and forms/, creates the organisations, people and competent institutions over HTTP.
A partnership with two partners: profiles, role map, MoU sent back once with a comment, revised, then
approved by every party the national models of both countries require (an implicit approval recorded
by the worker alone when its period ends). Two learners' mobilities under the MoU (one a minor with a
parent or guardian): Learning Agreement prepared and signed in order (and approved by the competent
institution where the model says so), changed during the mobility (a unit removed, one added, each with
its reason) and signed again, assessed per unit, acknowledged, transcript issued and released,
validated and recognised by the party the model names (in one act where it merges them), credits in
the learner's achievements. The end of each mobility starts its review (message mobility_recognized):
evaluation sheets by sending, hosting and learner, then the action plan.

At every step the ready task is in exactly the named party's task list (everyone else gets 404 for
it); competent-institution gates appear exactly where the model requires; the documents contain what
was agreed (units, points, results, signatures that count, hashes). Timers fire by the worker alone
(engine.jobs.run_due on a frozen clock), never by a request.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from engine.clock import FrozenClock
from engine.db import Database
from tests.api.conftest import assert_problem, sign_in
from tests.support.factories import make_user
from tests.support.lifecycle_driver import (
    MobilityFlow,
    PartnershipFlow,
    Platform,
    ReviewFlow,
    nominate,
    review_of,
    start_partnership,
)

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
# Who signs for the parties, with the position the administrator gave them (their signing profile).
SIGNERS = {"sending": ("Anna Schmidt", "VET coordinator"), "hosting": ("Javier Ruiz", "Company mentor"),
           "ci-home": ("Jonas Weber", "Head of vocational training"), "ci-host": ("Carmen López", "Técnica de FP"),
           "outsider": ("Member of outsider", "Coordinator")}
CHANGE_REMOVED = {"U2": "The hygiene course is not offered this season"}
CHANGE_ADDED = {"U3": "The learner works in the restaurant instead"}
RESULTS = {"adult": {"U1": "achieved", "U3": "achieved"}, "minor": {"U1": "achieved", "U3": "not_achieved"}}
CREDITS = {"adult": {"U1": 12.0, "U3": 6.0}, "minor": {"U1": 12.0}}
GATE_TASKS = {("ci-home", "explicit"): "approve_ci_home", ("ci-host", "explicit"): "approve_ci_host",
              ("ci-home", "implicit"): "object_mou_ci_home", ("ci-host", "implicit"): "object_mou_ci_host"}


@dataclass(frozen=True)
class Model:
    """What one illustrative national model (of the home country, and the host country's for the MoU)
    requires, as the test expects to see it."""

    name: str
    home: str
    abroad: str
    mou_gates: dict[str, str]  # {"ci-home"/"ci-host": "explicit" | "implicit"}: who approves the MoU besides the host
    rejected_by: tuple[str, str]  # who sends the first MoU version back, from which task
    ci_home_functions: tuple[str, ...]  # registered for the home competent institution (none: no such party)
    ci_host_functions: tuple[str, ...]
    la_gates: dict[str, str | None]  # per learner: how the competent institution (home) approves the LA
    models: dict[str, str]  # per learner: the national model row the mobility is decided with
    after: tuple[tuple[str, str], ...]  # (who, task) of validation and recognition
    guardian_account: bool  # the minor's parent signs with an account (else on paper, recorded by the school)
    adult_sector: str | None = None


MODELS = {
    # NL: the provider has full responsibility; the DE chamber abroad approves the MoU explicitly.
    "NL": Model("provider_responsibility", "NL", "DE", {"ci-host": "explicit"}, ("hosting", "approve_hosting"),
                (), ("mou_approval",), {"adult": None, "minor": None},
                {"adult": "provider_responsibility", "minor": "provider_responsibility"},
                (("sending", "validate_and_recognise_sending"),), guardian_account=False),
    # DE: the chamber approves the MoU (and rejects the first version), approves crafts LAs, recognises units;
    # the ES authority abroad approves the MoU implicitly.
    "DE": Model("chamber_approval", "DE", "ES", {"ci-home": "explicit", "ci-host": "implicit"},
                ("ci-home", "approve_ci_home"), ("mou_approval", "la_approval", "recognition"), ("mou_approval",),
                {"adult": "explicit", "minor": None}, {"adult": "chamber_crafts", "minor": "chamber_approval"},
                (("sending", "validate_units"), ("ci-home", "recognise_ci")), guardian_account=True,
                adult_sector="crafts"),
    # ES: the regional authority approves the MoU and LAs implicitly; the school validates, then recognises.
    "ES": Model("regional_authority", "ES", "NL", {"ci-home": "implicit"}, ("hosting", "approve_hosting"),
                ("mou_approval", "la_approval"), (), {"adult": "implicit", "minor": "implicit"},
                {"adult": "regional_authority", "minor": "regional_authority"},
                (("sending", "validate_units"), ("sending", "recognise_sending")), guardian_account=True),
}


@dataclass
class World:
    """The platform with every party of one model's lifecycle, all created over the admin API."""

    platform: Platform
    model: Model
    orgs: dict[str, int]
    partnership: PartnershipFlow | None = None
    mobilities: dict[str, MobilityFlow] = field(default_factory=dict)
    reviews: dict[str, ReviewFlow] = field(default_factory=dict)


def set_up(app: Flask, db: Database, frozen: FrozenClock, model: Model) -> World:
    """The first administrator exists (`ecvet create-admin`); everything else is done over HTTP."""
    client = app.test_client()
    p = Platform(client, db, frozen, sign_in(client, make_user(db, is_admin=True)))
    versions = p.deploy()
    assert {"partnership", "mobility", "review"} <= set(versions)
    orgs = {"sending": p.organisation("Sending school", model.home),
            "hosting": p.organisation("Hosting company", model.abroad),
            "outsider": p.organisation("Another school", model.home)}
    if model.ci_home_functions:
        orgs["ci-home"] = p.organisation("Competent institution (home)", model.home)
        p.register(orgs["ci-home"], model.home, *model.ci_home_functions)
    if model.ci_host_functions:
        orgs["ci-host"] = p.organisation("Competent institution (host)", model.abroad)
        p.register(orgs["ci-host"], model.abroad, *model.ci_host_functions)
    for key, org_id in orgs.items():
        name, position = SIGNERS[key]
        p.person(key, name, organisation_id=org_id, position=position)
    p.person("adult", "Daan de Vries")
    p.person("minor", "Sanne Bakker")
    if model.guardian_account:
        p.person("guardian", "Parent of Sanne Bakker")
    return World(p, model, orgs)


# --------------------------------------------------------------------------------------------------
# Building and formalising the partnership
# --------------------------------------------------------------------------------------------------


def mou_gates_asked(w: World, pf: PartnershipFlow) -> None:
    """After submission: the host and every competent-institution gate have a task (an institution
    that approves by silence sees an objection task); GET /api/mous names every required approval with
    its mode, and the deadlines of the competent institutions."""
    model = w.model
    asked = {"approve_hosting"} | {GATE_TASKS[(who, mode)] for who, mode in model.mou_gates.items()}
    assert pf.open_steps() == asked
    for r in pf.mou()["required_approvals"]:
        if r["role"] == "competent_institution":
            assert r["if_silent"] == ("approved_by_silence" if r["mode"] == "implicit" else "escalated")
            assert r["due_at"] is not None
    required = {(r["organisation_id"], r["role"], r["mode"]) for r in pf.mou()["required_approvals"]}
    expected = {(w.orgs["sending"], "partner", "explicit"), (w.orgs["hosting"], "partner", "explicit")}
    expected |= {(w.orgs[who], "competent_institution", mode) for who, mode in model.mou_gates.items()}
    assert required == expected


def build_and_formalise(w: World) -> PartnershipFlow:
    p, model, orgs = w.platform, w.model, w.orgs
    pf = start_partnership(p, model.home, model.abroad, {
        "sending": orgs["sending"], "hosting": orgs["hosting"],
        # Where the national model names no competent institution, the partner holds the function itself.
        "competent-institution-home": orgs.get("ci-home", orgs["sending"]),
        "competent-institution-host": orgs.get("ci-host", orgs["hosting"]),
    })
    w.partnership = pf
    assert pf.open_steps() == {"describe_sending"}

    # Building: partner profiles, then the role map naming who holds each ECVET function in each country.
    pf.profiles()
    assert pf.open_steps() == {"map_roles"}
    holders = {
        function: {"home": orgs["ci-home"] if function in model.ci_home_functions else orgs["sending"],
                   "host": orgs["ci-host"] if function in model.ci_host_functions else orgs["hosting"]}
        for function in ("assessment", "validation", "recognition", "award_of_credit", "mou_approval", "la_approval")
    }
    pf.role_map(holders)
    summary = pf.summary
    profiles = p.people["hosting"].get(f"/api/partnerships/{summary['id']}/profiles").get_json()
    assert [(x["side"], x["organisation_id"]) for x in profiles] == [("sending", orgs["sending"]),
                                                                     ("hosting", orgs["hosting"])]
    role_map = p.people["sending"].get(f"/api/partnerships/{summary['id']}/role-map").get_json()
    approval = {e["side"]: (e["organisation_id"], e["registered"]) for e in role_map["entries"]
                if e["function"] == "mou_approval"}
    assert approval == {"home": (holders["mou_approval"]["home"], "ci-home" in orgs),
                        "host": (holders["mou_approval"]["host"], "ci-host" in orgs)}

    # Formalising: the first version goes round and is sent back with a comment.
    pf.draft_and_submit(pf.content(max_weeks=12))
    mou_gates_asked(w, pf)
    first_hash = pf.mou()["content_hash"]
    who, bpmn_id = model.rejected_by
    pf.decide(who, bpmn_id, "rejected", comment="At most eight weeks abroad for learners of this qualification")
    assert pf.open_steps() == {"draft_mou"}, "a rejection ends the round and returns the draft to the sender"
    assert pf.mou()["status"] == "draft"
    assert pf.values("sending", "draft_mou")["rejection"] == {
        "comment": "At most eight weeks abroad for learners of this qualification", "version": 1}

    # The revised version: a stale approval is refused; every required party approves the new text.
    pf.draft_and_submit(pf.content(max_weeks=8))
    assert pf.mou()["version"] == 2
    assert pf.mou()["content_hash"] != first_hash
    mou_gates_asked(w, pf)
    stale = p.people["hosting"].post(f"/api/mous/{pf.mou_id}/approvals", json={
        "content_hash": first_hash, "signer": {"position": SIGNERS["hosting"][1]}})
    assert_problem(stale, 409)
    pf.decide("hosting", "approve_hosting", "approved")
    for who, mode in model.mou_gates.items():
        if mode == "explicit":
            pf.decide(who, GATE_TASKS[(who, mode)], "approved")
    assert pf.open_steps() == {GATE_TASKS[(who, mode)] for who, mode in model.mou_gates.items()
                               if mode == "implicit"}, "the objection task stays until its deadline"
    if "implicit" in model.mou_gates.values():
        # The worker alone records the approval by silence, once the objection period (20 days) is over.
        assert pf.mou()["status"] == "in_approval"
        p.advance(days=19)
        p.worker()
        assert pf.mou()["status"] == "in_approval", "the objection period is still running"
        p.advance(days=1, seconds=1)
        p.worker()
    mou = pf.mou()
    assert (mou["status"], mou["version"], mou["active_version"], mou["is_active"]) == ("active", 2, 2, True)
    assert mou["content"]["mobility_duration_weeks"] == {"min": 3, "max": 8}
    # Every decision is its signer's: the account of a member of the organisation it was given for.
    for decision in mou["approvals"]:
        if decision["mode"] == "implicit":
            assert decision["signer"]["user_id"] is None, "approved by silence: nobody signed"
            continue
        key = next(k for k, org_id in orgs.items() if org_id == decision["organisation_id"])
        assert decision["signer"] == {"user_id": p.people[key].person.id, "name": SIGNERS[key][0],
                                      "email": p.people[key].person.email, "position": SIGNERS[key][1],
                                      "place": None}

    # Competent institutions were asked exactly where a model says so, and acted as it says.
    for who in ("ci-home", "ci-host"):
        if who in orgs:
            gate = model.mou_gates.get(who)
            expected: list[tuple[str, str]] = []
            if gate == "explicit":
                # Version 1: rejected by this institution, or withdrawn when the other party rejected first.
                first = "completed" if model.rejected_by[0] == who else "cancelled"
                expected = [(GATE_TASKS[(who, gate)], first), (GATE_TASKS[(who, gate)], "completed")]
            elif gate == "implicit":
                # Withdrawn by the first rejection, then by the end of the objection period (silence).
                expected = [(GATE_TASKS[(who, gate)], "cancelled"), (GATE_TASKS[(who, gate)], "cancelled")]
            assert p.history(who, pf.instance_id) == expected, who
    return pf


def check_mou_document(w: World, pf: PartnershipFlow) -> None:
    """The MoU as its parties read it: the text in force, and the signatures that count for it."""
    p, orgs, model = w.platform, w.orgs, w.model
    mou = pf.mou()
    readers = ["sending", "hosting", *(k for k in ("ci-home", "ci-host") if k in orgs)]
    documents = [p.document(who, "mou", pf.mou_id) for who in readers]
    assert all(d == documents[0] for d in documents), "every party reads the same document"
    doc = documents[0]
    assert (doc["status"], doc["reference"]["version"], doc["content_hash"]) == ("active", 2, mou["content_hash"])
    assert doc["data"]["content"]["mobility_duration_weeks"]["max"] == 8
    assert [u["code"] for u in doc["data"]["content"]["qualifications"][0]["units"]] == ["U1", "U2", "U3"]
    counting = {(a["organisation_id"], a["role"], a["mode"]) for a in doc["data"]["approvals"] if a["counts"]}
    expected = {(orgs["sending"], "partner", "explicit"), (orgs["hosting"], "partner", "explicit")}
    expected |= {(orgs[who], "competent_institution", mode) for who, mode in model.mou_gates.items()}
    assert counting == expected
    assert all(a["content_hash"] == mou["content_hash"] for a in doc["data"]["approvals"] if a["counts"])
    refused = [(a["version"], a["decision"], a["comment"]) for a in doc["data"]["approvals"]
               if a["decision"] == "rejected"]
    assert refused == [(1, "rejected", "At most eight weeks abroad for learners of this qualification")]
    assert {s["mode"] for s in doc["signatures"] if s["counts"]} == {"explicit"} | set(model.mou_gates.values())
    first = p.document("hosting", "mou", pf.mou_id, version=1)
    assert first["status"] == "superseded by version 2"
    assert first["data"]["content"]["mobility_duration_weeks"]["max"] == 12
    p.hidden_from("outsider", f"/api/documents/mou/{pf.mou_id}", f"/api/mous/{pf.mou_id}")
    p.hidden_from("adult", f"/api/documents/mou/{pf.mou_id}")


# --------------------------------------------------------------------------------------------------
# Before the mobility: nomination and the Learning Agreement
# --------------------------------------------------------------------------------------------------


def nominate_learners(w: World, pf: PartnershipFlow) -> None:
    p, model = w.platform, w.model
    guardian_email = p.people["guardian"].person.email if model.guardian_account else "parent@family.example"
    w.mobilities["adult"] = nominate(p, mou_id=pf.mou_id, hosting_id=w.orgs["hosting"], learner="adult",
                                     name="Daan de Vries", born=date(2004, 9, 1), sector=model.adult_sector)
    w.mobilities["minor"] = nominate(p, mou_id=pf.mou_id, hosting_id=w.orgs["hosting"], learner="minor",
                                     name="Sanne Bakker", born=date(2010, 6, 15),
                                     guardian=("Parent of Sanne Bakker", guardian_email),
                                     signs_for_guardian="guardian" if model.guardian_account else "sending")
    for key, m in w.mobilities.items():
        national = m.detail()["national_model"]
        assert national["model"] == model.models[key]
        assert national["la_approval"] == (model.la_gates[key] or "none")
        instance = p.instance(m.instance_id)
        assert instance["parties"]["learner"] == {"organisation_id": None, "user_id": p.people[key].person.id}
        # Where the national model names no competent institution (NL), the school holds the function.
        assert instance["parties"]["competent-institution-home"]["organisation_id"] == w.orgs.get(
            "ci-home", w.orgs["sending"])
        if key == "minor":
            bound = instance["parties"]["guardian"]
            assert bound == ({"organisation_id": None, "user_id": p.people["guardian"].person.id}
                             if model.guardian_account else {"organisation_id": w.orgs["sending"], "user_id": None})
        p.hidden_from("outsider", f"/api/mobilities/{m.mobility_id}", f"/api/learners/{m.learner_id}",
                      f"/api/process-instances/{m.instance_id}")
    p.hidden_from("adult", f"/api/learners/{w.mobilities['minor'].learner_id}")


def la_gate(w: World, key: str, prefix: str) -> None:
    """After the parties signed: the competent institution (home) approves exactly as the model says."""
    m, gate = w.mobilities[key], w.model.la_gates[key]
    then = set() if prefix == "sign" else {"checkpoint"}  # waiting for the start date / back to the host
    if gate is None:
        assert m.open_steps() == then
        assert m.la["status"] == "signed"
        assert m.la["in_force"]
    elif gate == "explicit":
        task = "approve_la_ci" if prefix == "sign" else "reapprove_la_ci"
        assert m.open_steps() == {task}
        assert m.la["status"] == "signed"
        assert not m.la["in_force"]
        values = m.values("ci-home", task)
        m.complete("ci-home", task, {"la_hash": values["la_hash"], "decision": "approved",
                                     "signer": w.platform.shown_signer("ci-home", values)})
        assert m.la["status"] == "approved"
        assert m.la["in_force"]
        assert m.open_steps() == then
    else:
        task = "object_la_ci" if prefix == "sign" else "reobject_la_ci"
        assert m.open_steps() == {task}
        assert not m.la["in_force"]
        (ready,) = [t for t in w.platform.inbox("ci-home", instance_id=m.instance_id) if t["bpmn_id"] == task]
        due = datetime.fromisoformat(ready["due_at"])
        assert due == w.platform.clock.now() + timedelta(days=10), "due when the 10-day objection period ends"
        w.platform.only_for("ci-home", m.instance_id, task)


def implicit_approvals_by_the_worker(w: World, prefix: str) -> None:
    """The competent institution (home) raised no objection: nothing happens a day before the period
    ends; after it the worker records the approval and the task is withdrawn, without any request."""
    keys = [k for k, gate in w.model.la_gates.items() if gate == "implicit"]
    if not keys:
        return
    p = w.platform
    p.advance(days=9)
    p.worker()
    for key in keys:
        assert w.mobilities[key].la["status"] == "signed", "the objection period is still running"
    p.advance(days=1, seconds=1)
    p.worker()
    task = "object_la_ci" if prefix == "sign" else "reobject_la_ci"
    for key in keys:
        m = w.mobilities[key]
        assert m.la["status"] == "approved"
        assert m.la["in_force"]
        implicit = [s for s in m.la["signatures"] if s["mode"] == "implicit" and s["counts"]]
        assert [(s["party"], s["organisation_id"]) for s in implicit] == [("competent_institution",
                                                                          w.orgs["ci-home"])]
        assert (task, "cancelled") in p.history("ci-home", m.instance_id)
        if prefix == "sign":
            assert m.open_steps() == set()


def before_the_mobility(w: World) -> None:
    for key, m in w.mobilities.items():
        m.prepare(["U1", "U2"])
        la = m.la
        assert (la["version"], la["status"], la["next_party"]) == (2, "draft", "learner")
        expected = ["learner", "guardian", "sending", "hosting"] if key == "minor" else [
            "learner", "sending", "hosting"]
        if w.model.la_gates[key]:
            expected.append("competent_institution")
        assert la["required_signatures"] == expected
        order = m.signing_round("sign")
        assert order == [party for party in expected if party != "competent_institution"]
        la_gate(w, key, "sign")
        signed_by_accounts(w, key)
    implicit_approvals_by_the_worker(w, "sign")


def signed_by_accounts(w: World, key: str) -> None:
    """Each signature records the account that gave it and the organisation it was given for; a parent
    without an account signed on paper: the parent on record, recorded by the school."""
    m, p = w.mobilities[key], w.platform
    for signature in m.la["signatures"]:
        party, signer = signature["party"], signature["signer"]
        if signature["mode"] == "implicit":
            assert signer["user_id"] is None
        elif party == "learner":
            assert (signer["user_id"], signer["name"], signature["organisation_id"]) == (
                p.people[m.learner].person.id, m.name, None)
        elif party == "guardian" and m.signs_for_guardian == "sending":
            assert (signer["user_id"], signer["name"], signature["recorded_by"], signature["organisation_id"]) == (
                None, f"Parent of {m.name}", p.people["sending"].person.id, w.orgs["sending"])
        elif party == "guardian":
            assert (signer["user_id"], signature["organisation_id"]) == (p.people["guardian"].person.id, None)
        else:
            who = "ci-home" if party == "competent_institution" else party
            assert (signer["user_id"], signer["position"], signature["organisation_id"]) == (
                p.people[who].person.id, SIGNERS[who][1], w.orgs[who])


def go_live(w: World) -> None:
    """The worker alone: nothing the evening before; at the start date both mobilities are live."""
    p = w.platform
    p.at(datetime(2027, 2, 28, 23, 0, tzinfo=UTC))
    p.worker()
    assert all(m.detail()["status"] == "nomination" for m in w.mobilities.values())
    p.at(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    p.worker()
    for m in w.mobilities.values():
        assert m.detail()["status"] == "live"
        assert m.open_steps() == {"checkpoint"}
        p.only_for("hosting", m.instance_id, "checkpoint")


# --------------------------------------------------------------------------------------------------
# During the mobility: change and re-sign, assessment, transcript
# --------------------------------------------------------------------------------------------------


def change_the_agreement(w: World) -> None:
    for key, m in w.mobilities.items():
        signed_version = m.la["content_hash"]
        m.change_units(CHANGE_REMOVED, CHANGE_ADDED)
        la = m.la
        assert la["version"] == 3
        assert la["content_hash"] != signed_version
        assert not la["in_force"]
        assert [u["code"] for u in la["content"]["units"]] == ["U1", "U3"]
        m.signing_round("resign")
        la_gate(w, key, "resign")
    implicit_approvals_by_the_worker(w, "resign")
    for m in w.mobilities.values():
        la = m.la
        assert la["in_force"]
        assert la["version"] == 3
        assert la["changes"] == [
            {"unit": "U2", "change": "removed", "reason": CHANGE_REMOVED["U2"]},
            {"unit": "U3", "change": "added", "reason": CHANGE_ADDED["U3"]},
        ]
        counting = [s["party"] for s in la["signatures"] if s["counts"]]
        assert counting == la["required_signatures"], "every party signed the changed text again, in order"
        assert m.open_steps() == {"checkpoint"}


def assess_and_document(w: World) -> dict[str, dict[str, Any]]:
    p = w.platform
    p.at(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    released: dict[str, dict[str, Any]] = {}
    for key, m in w.mobilities.items():
        m.assess(RESULTS[key])
        released[key] = m.issue_and_release()
        transcript = released[key]
        la = m.la
        assert (transcript["la_version"], transcript["la_hash"]) == (3, la["content_hash"])
        assert [(u["code"], u["result"]) for u in transcript["content"]["units"]] == list(RESULTS[key].items())
        assert transcript["content"]["ecvet_points_achieved"] == sum(
            {"U1": 12, "U3": 6}[code] for code, result in RESULTS[key].items() if result == "achieved")
        assert m.open_steps() == {w.model.after[0][1]}, "validation (or the merged act) comes next"
    return released


# --------------------------------------------------------------------------------------------------
# After the mobility: validation, recognition, credits
# --------------------------------------------------------------------------------------------------


def validate_and_recognise(w: World, released: dict[str, dict[str, Any]]) -> None:
    for key, m in w.mobilities.items():
        results = RESULTS[key]
        outcomes = {code: "validated" if result == "achieved" else "not_validated" for code, result in results.items()}
        for who, task in w.model.after:
            values = m.values(who, task)
            assert values["transcript_hash"] == released[key]["content_hash"], "decided on the transcript released"
            if task == "validate_and_recognise_sending":
                data: dict[str, Any] = {"unit_decisions": [
                    {"unit": code, "outcome": outcome, **({"comment": "Not achieved abroad"}
                                                          if outcome != "validated" else {})}
                    for code, outcome in outcomes.items()]}
            elif task == "validate_units":
                data = {"unit_outcomes": [
                    {"unit": code, "outcome": outcome, **({"comment": "Not achieved abroad"}
                                                          if outcome != "validated" else {})}
                    for code, outcome in outcomes.items()]}
            else:
                assert values["validation"] == outcomes
                data = {"unit_recognition": [{"unit": code, "recognised": outcome == "validated"}
                                             for code, outcome in outcomes.items()]}
            m.complete(who, task, {"transcript_hash": values["transcript_hash"],
                                   "signer": w.platform.shown_signer(who, values), **data})
        implications = ({"implications": [{"kind": "exempted_activity", "unit": "U1",
                                           "description": "Exempted from the cold kitchen module at home"}]}
                        if key == "adult" else {"none": True})
        m.complete("sending", "record_implications", implications)
        detail = m.detail()
        assert detail["status"] == "recognized"
        assert [c["new_status"] for c in detail["status_history"]] == ["nomination", "live", "recognized"]
        assert w.platform.instance(m.instance_id)["status"] == "completed"
        assert m.open_steps() == set()
        recogniser = w.model.after[-1][0]
        assert detail["recognition"]["organisation_id"] == w.orgs[recogniser]
        assert detail["recognition"]["merged_with_validation"] == (len(w.model.after) == 1)
        assert {c["unit"]: c["ecvet_points"] for c in detail["credits"]} == CREDITS[key]


def achievements(w: World) -> None:
    p = w.platform
    for key, m in w.mobilities.items():
        mine = m.achievements()
        assert {c["unit"]: c["ecvet_points"] for c in mine["credits"]} == CREDITS[key]
        assert mine["total_ecvet_points"] == sum(CREDITS[key].values())
        assert mine["mobility_ids"] == [m.mobility_id]
        assert [i["kind"] for i in mine["implications"]] == (["exempted_activity"] if key == "adult" else [])
        assert m.achievements("hosting")["credits"] == mine["credits"], "the host took part in that mobility"
        other = "minor" if key == "adult" else "adult"
        p.hidden_from(other, f"/api/learners/{m.learner_id}/achievements")
        p.hidden_from("outsider", f"/api/learners/{m.learner_id}/achievements")


def gates_over_the_whole_mobility(w: World) -> None:
    """What the competent institution (home) did, over the mobility's whole life: exactly its gates."""
    p = w.platform
    for key, m in w.mobilities.items():
        gate = w.model.la_gates[key]
        expected: list[tuple[str, str]] = []
        if gate == "explicit":
            expected += [("approve_la_ci", "completed"), ("reapprove_la_ci", "completed")]
        if gate == "implicit":
            expected += [("object_la_ci", "cancelled"), ("reobject_la_ci", "cancelled")]
        expected += [(task, "completed") for who, task in w.model.after if who == "ci-home"]
        if "ci-home" in w.orgs:
            assert p.history("ci-home", m.instance_id) == expected, key
        else:
            assert expected == []
        if "ci-host" in w.orgs:
            assert p.history("ci-host", m.instance_id) == [], "no competent institution abroad acts on mobilities"
        guardian = [t for t, _ in p.history(m.signs_for_guardian, m.instance_id) if "guardian" in t] \
            if m.signs_for_guardian else []
        assert guardian == (["sign_guardian", "resign_guardian"] if key == "minor" else [])


# --------------------------------------------------------------------------------------------------
# Review: started by the end of the mobility
# --------------------------------------------------------------------------------------------------


def review(w: World) -> None:
    p = w.platform
    assert p.inbox("sending", process_key="review") == [], "nothing before the worker delivers the message"
    p.worker()
    for key, m in w.mobilities.items():
        r = review_of(p, m)
        w.reviews[key] = r
        instance = p.instance(r.instance_id)
        assert instance["parties"] == {
            "sending": {"organisation_id": w.orgs["sending"], "user_id": None},
            "hosting": {"organisation_id": w.orgs["hosting"], "user_id": None},
            "learner": {"organisation_id": None, "user_id": p.people[key].person.id}}
        assert p.open_steps(r.instance_id) == {"evaluate_sending", "evaluate_hosting", "evaluate_learner"}
        assert r.values(key, "evaluate_learner")["mobility_id"] == m.mobility_id
        r.complete("sending", "evaluate_sending", {"outcomes_appropriate": "yes", "evidence_sufficient": "yes",
                                                   "strengths": "Well prepared mentor"})
        r.complete("hosting", "evaluate_hosting", {
            "outcomes_appropriate": "partly", "outcomes_comment": "U2 cannot be learned here in spring",
            "evidence_sufficient": "yes"})
        r.complete(key, "evaluate_learner", {"outcomes_appropriate": "yes", "evidence_sufficient": "partly",
                                             "evidence_comment": "The sheet names no criteria per outcome"})
        assert p.open_steps(r.instance_id) == {"plan_actions"}
        r.complete("sending", "plan_actions", {
            "summary": "Plan U3 from the start; criteria per learning outcome",
            "items": [{"action": "Offer U3 instead of U2 in spring", "owner": "hosting", "owner_name": "Javier Ruiz",
                       "due_date": "2027-09-30"},
                      {"action": "Add criteria per outcome to the assessment sheet", "owner": "sending",
                       "due_date": "2027-09-30"},
                      {"action": "Keep a learning diary", "owner": "learner", "due_date": "2027-09-30"}],
            "revise_mou": False})
        assert p.instance(r.instance_id)["status"] == "completed"
        record = r.record(key)
        assert w.partnership is not None
        assert (record["status"], record["mobility_id"], record["mou_id"]) == ("completed", m.mobility_id,
                                                                               w.partnership.mou_id)
        # Each party reads its own evaluation sheet (the default policy, issue 16).
        assert [e["party"] for e in record["evaluations"]] == ["learner"]
        assert [e["party"] for e in r.record("sending")["evaluations"]] == ["sending"]
        assert [i["owner"] for i in record["action_plan"]["items"]] == ["hosting", "sending", "learner"]
        p.hidden_from("outsider", f"/api/reviews/{record['id']}")


# --------------------------------------------------------------------------------------------------
# The documents contain what was agreed
# --------------------------------------------------------------------------------------------------


def check_mobility_documents(w: World, released: dict[str, dict[str, Any]]) -> None:
    p = w.platform
    for key, m in w.mobilities.items():
        detail = m.detail()
        la_id = detail["learning_agreement"]["id"]
        la = p.document(key, "learning-agreement", la_id)
        assert la == p.document("hosting", "learning-agreement", la_id)
        assert (la["reference"]["version"], la["content_hash"]) == (3, detail["learning_agreement"]["content_hash"])
        assert [(u["code"], u["ecvet_points"]) for u in la["data"]["content"]["units"]] == [("U1", 12), ("U3", 6)]
        assert [(c["unit"], c["change"], c["reason"]) for c in la["data"]["changes"]] == [
            ("U2", "removed", CHANGE_REMOVED["U2"]), ("U3", "added", CHANGE_ADDED["U3"])]
        assert la["data"]["content"]["assessment"]["assessors"] == [
            {"name": "Javier Ruiz", "organisation": "Hosting company", "role": "company mentor"}]
        counting = [(s["party"], s["mode"]) for s in la["data"]["signatures"] if s["counts"]]
        assert [party for party, _ in counting] == la["data"]["required_signatures"]
        assert all(s["content_hash"] == la["content_hash"] for s in la["data"]["signatures"] if s["counts"])
        if w.model.la_gates[key] == "implicit":
            assert counting[-1] == ("competent_institution", "implicit")
        before = p.document(key, "learning-agreement", la_id, version=2)
        assert before["status"] == "superseded by version 3"
        assert [u["code"] for u in before["data"]["content"]["units"]] == ["U1", "U2"]
        assert [s["party"] for s in before["data"]["signatures"] if s["counts"]] == \
            before["data"]["required_signatures"], "version 2 was in force before the change"

        sheets = detail["assessments"]
        assert [(s["unit"], s["result"], s["learner_acknowledgement"]["agrees"]) for s in sheets] == [
            (code, result, True) for code, result in RESULTS[key].items()]
        for sheet in sheets:
            doc = p.document("sending", "assessment-sheet", sheet["id"])
            assert (doc["data"]["unit"], doc["data"]["result"], doc["data"]["la_version"]) == (
                sheet["unit"], sheet["result"], 3)
            assert [(s["party"], s["name"]) for s in doc["signatures"]] == [
                ("Hosting organisation: Hosting company (" + w.model.abroad + ")", SIGNERS["hosting"][0]),
                ("Learner (acknowledgement)", m.name)]

        transcript = p.document("sending", "transcript", released[key]["id"])
        assert transcript["content_hash"] == released[key]["content_hash"]
        assert transcript["status"] == "ready for recognition"
        assert [(u["code"], u["result"], u["ecvet_points"]) for u in transcript["data"]["content"]["units"]] == [
            (code, result, {"U1": 12, "U3": 6}[code]) for code, result in RESULTS[key].items()]
        assert [(s["name"], s["position"]) for s in transcript["signatures"]] == [SIGNERS["hosting"]]

        record = p.document(key, "recognition-record", detail["recognition"]["id"])
        assert {c["unit"]: c["ecvet_points"] for c in record["data"]["credits"]} == CREDITS[key]
        assert all(s["counts"] and s["content_hash"] == released[key]["content_hash"] for s in record["signatures"])
        signed_by = [s["name"] for s in record["signatures"]]
        assert signed_by == [SIGNERS[who][0] for who, _ in w.model.after]

        assert w.partnership is not None
        refs = {(r["kind"], r["record_id"]) for r in
                p.people["sending"].get(f"/api/process-instances/{m.instance_id}/documents").get_json()["items"]}
        assert {("mou", w.partnership.mou_id), ("learning-agreement", la_id), ("transcript", released[key]["id"]),
                ("recognition-record", detail["recognition"]["id"])} <= refs

        review = w.reviews[key].record("sending")
        answers, sheet_ids = {}, []
        for who in ("sending", "hosting", key):  # each party opens its own sheet (issue 16)
            for evaluation in w.reviews[key].record(who)["evaluations"]:
                doc = p.document(who, "evaluation", evaluation["id"])
                answers[doc["data"]["party"]] = (doc["data"]["outcomes_appropriate"],
                                                 doc["data"]["evidence_sufficient"])
                sheet_ids.append(evaluation["id"])
        assert answers == {"sending": ("yes", "yes"), "hosting": ("partly", "yes"), "learner": ("yes", "partly")}
        plan = p.document("hosting", "action-plan", review["action_plan"]["id"])
        assert [(i["action"], i["owner"], i["due_date"]) for i in plan["data"]["items"]] == [
            ("Offer U3 instead of U2 in spring", "hosting", "2027-09-30"),
            ("Add criteria per outcome to the assessment sheet", "sending", "2027-09-30"),
            ("Keep a learning diary", "learner", "2027-09-30")]
        assert sorted(plan["data"]["evaluation_ids"]) == sorted(sheet_ids)

        p.pdf(key, "learning-agreement", la_id)
        p.pdf("sending", "recognition-record", detail["recognition"]["id"])
        p.hidden_from("outsider", f"/api/documents/learning-agreement/{la_id}",
                      f"/api/documents/transcript/{released[key]['id']}",
                      f"/api/documents/recognition-record/{detail['recognition']['id']}",
                      f"/api/documents/action-plan/{review['action_plan']['id']}")
        other = "minor" if key == "adult" else "adult"
        p.hidden_from(other, f"/api/documents/learning-agreement/{la_id}",
                      f"/api/documents/transcript/{released[key]['id']}")


# --------------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("home", list(MODELS))
def test_the_ecvet_lifecycle_through_the_api(app: Flask, db: Database, frozen: FrozenClock, home: str) -> None:
    w = set_up(app, db, frozen, MODELS[home])
    pf = build_and_formalise(w)
    check_mou_document(w, pf)
    nominate_learners(w, pf)
    before_the_mobility(w)
    go_live(w)
    change_the_agreement(w)
    released = assess_and_document(w)
    validate_and_recognise(w, released)
    achievements(w)
    gates_over_the_whole_mobility(w)
    review(w)
    check_mobility_documents(w, released)
