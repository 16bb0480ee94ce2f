"""A MoU of three partners and their competent institutions, through the HTTP API alone.

A German school sends, a Spanish hotel hosts, a Dutch college does both; the German chamber approves
MoUs explicitly, the Spanish authority by silence (the DE and ES national models), and the MoU names one
more competent institution in the Netherlands. The sending school proposes, every partner and every
competent institution gets its own task (in its own inbox only) and approves the same content hash;
the MoU is in force when all have. Attacks: an organisation that does not sign cannot approve (403) nor
see the tasks (404); a rejection and the changed text void every earlier approval (409 for the old
hash, every party asked again). Timers fire by the worker alone on a frozen clock.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from engine.clock import FrozenClock
from engine.db import Database
from tests.api.conftest import assert_problem, sign_in
from tests.support.factories import make_user
from tests.support.lifecycle_driver import PartnershipFlow, Platform, start_partnership

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PEOPLE = {"sending": ("Anna Schmidt", "VET coordinator", "DE"), "hosting": ("Javier Ruiz", "Company mentor", "ES"),
          "third": ("Sanne de Vries", "International coordinator", "NL"),
          "ci-home": ("Jonas Weber", "Head of vocational training", "DE"),
          "ci-host": ("Carmen López", "Técnica de FP", "ES"),
          "ci-nl": ("Pieter Jansen", "Adviser", "NL"), "outsider": ("Member of outsider", "Coordinator", "DE")}
#: Every party's task in the round: the sender signs when it submits, everyone else has one task.
ROUND = {"hosting": "approve_hosting", "third": "approve_partner", "ci-home": "approve_ci_home",
         "ci-host": "object_mou_ci_host", "ci-nl": "approve_institution"}


def set_up(app: Flask, db: Database, frozen: FrozenClock) -> tuple[Platform, dict[str, int]]:
    client = app.test_client()
    p = Platform(client, db, frozen, sign_in(client, make_user(db, is_admin=True)))
    p.deploy()
    orgs = {key: p.organisation(f"Organisation {key}", country) for key, (_, _, country) in PEOPLE.items()}
    p.register(orgs["ci-home"], "DE", "mou_approval")
    p.register(orgs["ci-host"], "ES", "mou_approval")
    for key, (name, position, _) in PEOPLE.items():
        p.person(key, name, organisation_id=orgs[key], position=position)
    return p, orgs


def content(pf: PartnershipFlow, orgs: dict[str, int], *, max_weeks: int) -> dict[str, Any]:
    """The MoU text: the driver's bilateral one, with the Dutch college as third partner and the Dutch
    institution named."""
    text = pf.content(max_weeks=max_weeks)
    third = dict(text["signing_organisations"][1], organisation_id=orgs["third"], role="both", country="NL",
                 name="Organisation third", contact_person={"name": "Sanne de Vries", "email": "third@example.org"})
    text["signing_organisations"].append(third)
    text["competent_institutions"] = [{"organisation_id": orgs["ci-nl"]}]
    return text


def decide(p: Platform, pf: PartnershipFlow, who: str, decision: str = "approved", comment: str | None = None) -> None:
    """`who` decides in its own task, quoting the hash it is shown (the current text's)."""
    values = pf.values(who, ROUND[who])
    assert values["mou_hash"] == pf.mou(who)["content_hash"]
    data: dict[str, Any] = {"mou_hash": values["mou_hash"], "decision": decision,
                            "signer": p.shown_signer(who, values)}
    if comment is not None:
        data["comment"] = comment
    pf.complete(who, ROUND[who], data)


def test_a_three_partner_mou_through_the_api(app: Flask, db: Database, frozen: FrozenClock) -> None:
    p, orgs = set_up(app, db, frozen)
    pf = start_partnership(p, "DE", "ES", {"sending": orgs["sending"], "hosting": orgs["hosting"],
                                           "competent-institution-home": orgs["ci-home"],
                                           "competent-institution-host": orgs["ci-host"]})
    pf.profiles()
    functions = ("assessment", "validation", "recognition", "award_of_credit", "mou_approval", "la_approval")
    pf.role_map({f: {"home": orgs["ci-home"], "host": orgs["ci-host"]} for f in functions})

    # A third partner without its role under the MoU is refused while the sender writes the draft.
    text = content(pf, orgs, max_weeks=12)
    roleless = [*text["signing_organisations"][:2],
                {k: v for k, v in text["signing_organisations"][2].items() if k != "role"}]
    task = p.only_for("sending", pf.instance_id, "draft_mou")
    refused = p.people["sending"].post(f"/api/tasks/{task['id']}/complete",
                                       json={"data": dict(text, signing_organisations=roleless)})
    assert "signing_organisations.2.role" in assert_problem(refused, 422)["errors"]
    assert pf.open_steps() == {"draft_mou"}

    # Proposed: every partner and every institution has its own task, in its own inbox only.
    pf.draft_and_submit(text)
    assert pf.open_steps() == set(ROUND.values())
    for who, bpmn_id in ROUND.items():
        p.only_for(who, pf.instance_id, bpmn_id)
    required = {(r["organisation_id"], r["role"], r["mode"]) for r in pf.mou()["required_approvals"]}
    assert required == {(orgs["sending"], "partner", "explicit"), (orgs["hosting"], "partner", "explicit"),
                        (orgs["third"], "partner", "explicit"), (orgs["ci-home"], "competent_institution", "explicit"),
                        (orgs["ci-host"], "competent_institution", "implicit"),
                        (orgs["ci-nl"], "competent_institution", "explicit")}
    first_hash = pf.mou()["content_hash"]

    # Attacks: an organisation that does not sign cannot approve, see the MoU or act on a partner's task.
    outsider = p.people["outsider"]
    assert_problem(outsider.post(f"/api/mous/{pf.mou_id}/approvals", json={
        "content_hash": first_hash, "signer": {"position": "Coordinator"}}), 404)
    assert_problem(p.people["ci-nl"].post(f"/api/mous/{pf.mou_id}/approvals", json={
        "content_hash": first_hash, "signer": {"position": "Adviser"}}), 403)
    third_task = p.only_for("third", pf.instance_id, "approve_partner")
    assert_problem(outsider.post(f"/api/tasks/{third_task['id']}/complete", json={"data": {
        "mou_hash": first_hash, "decision": "approved", "signer": {"position": "Coordinator"}}}), 404)
    assert_problem(p.people["hosting"].post(f"/api/tasks/{third_task['id']}/complete", json={"data": {
        "mou_hash": first_hash, "decision": "approved", "signer": {"position": "Company mentor"}}}), 404)

    # The host and the chamber approve; the Dutch college rejects: the round ends, the draft goes back.
    decide(p, pf, "hosting")
    decide(p, pf, "ci-home")
    decide(p, pf, "third", "rejected", comment="Eight weeks at most")
    assert pf.open_steps() == {"draft_mou"}
    assert pf.mou()["status"] == "draft"

    # A changed text voids every earlier approval: the old hash is refused, everyone is asked again.
    pf.draft_and_submit(content(pf, orgs, max_weeks=8))
    mou = pf.mou()
    assert (mou["version"], mou["status"]) == (2, "in_approval")
    assert mou["content_hash"] != first_hash
    assert pf.open_steps() == set(ROUND.values())
    stale = p.people["hosting"].post(f"/api/mous/{pf.mou_id}/approvals", json={
        "content_hash": first_hash, "signer": {"position": "Company mentor"}})
    assert_problem(stale, 409)
    counting = {(a["organisation_id"], a["role"]) for a in mou["approvals"] if a["content_hash"] == mou["content_hash"]}
    assert counting == {(orgs["sending"], "partner")}, "only the sender's signature of the new text"

    for who in ("hosting", "third", "ci-home", "ci-nl"):
        decide(p, pf, who)
    assert pf.open_steps() == {"object_mou_ci_host"}
    assert pf.mou()["status"] == "in_approval", "the Spanish authority's objection period is running"
    p.advance(days=20, seconds=1)
    p.worker()

    # In force: every party approved the same hash; the document prints all three partners and signatures.
    mou = pf.mou()
    assert (mou["status"], mou["is_active"]) == ("active", True)
    doc = p.document("third", "mou", pf.mou_id)
    assert doc == p.document("ci-nl", "mou", pf.mou_id) == p.document("sending", "mou", pf.mou_id)
    assert [o["organisation_id"] for o in doc["data"]["content"]["signing_organisations"]] == [
        orgs["sending"], orgs["hosting"], orgs["third"]]
    counts = {(a["organisation_id"], a["role"], a["mode"]) for a in doc["data"]["approvals"] if a["counts"]}
    assert counts == required
    assert all(a["content_hash"] == mou["content_hash"] for a in doc["data"]["approvals"] if a["counts"])
    signed = {s["mode"] for s in doc["signatures"] if s["counts"]}
    assert signed == {"explicit", "implicit"}
    assert len([s for s in doc["signatures"] if s["counts"]]) == len(required)
    p.hidden_from("outsider", f"/api/documents/mou/{pf.mou_id}", f"/api/mous/{pf.mou_id}")
    # The third partner sees the partnership it signs.
    items = p.people["third"].get("/api/partnerships").get_json()["items"]
    assert [i["instance_id"] for i in items] == [pf.instance_id]
    confirm_the_role_map(p, pf, orgs)


JURISDICTION = {"sending": "Validation of units in North Rhine-Westphalia", "hosting": "Assessment in its kitchen",
                "third": "Every function for its own learners (MBO)", "ci-home": "MoU approval and recognition, DE",
                "ci-host": "MoU and LA approval in the region", "ci-nl": "Advice on MBO qualifications"}


def confirm_the_role_map(p: Platform, pf: PartnershipFlow, orgs: dict[str, int]) -> None:
    """Every partner and competent institution confirms the role map, each for its own organisation:
    within its jurisdiction and beyond; the MoU document prints the map and the confirmations."""
    pid = pf.summary["id"]
    url = f"/api/partnerships/{pid}/role-map/confirmations"
    role_map = p.people["sending"].get(f"/api/partnerships/{pid}/role-map").get_json()
    assert sorted(role_map["awaiting_confirmation"]) == sorted(orgs[k] for k in JURISDICTION)
    assert_problem(p.people["outsider"].post(url, json={"role_map_id": role_map["id"], "jurisdiction": "x"}), 404)
    assert_problem(p.people["third"].post(url, json={"role_map_id": role_map["id"] + 1, "jurisdiction": "x"}), 409)
    assert "jurisdiction" in assert_problem(p.people["third"].post(url, json={"role_map_id": role_map["id"]}),
                                            422)["errors"]
    for who, within in JURISDICTION.items():
        response = p.people[who].post(url, json={"role_map_id": role_map["id"], "jurisdiction": within,
                                                 "beyond": "Recognition lies with the chamber" if who == "third"
                                                 else None})
        assert response.status_code == 201, (who, response.get_json())
    assert_problem(p.people["third"].post(url, json={"role_map_id": role_map["id"], "jurisdiction": "again"}), 409)
    confirmed = response.get_json()
    assert confirmed["awaiting_confirmation"] == []
    by = {c["organisation_id"]: (c["jurisdiction"], c["signer"]["name"]) for c in confirmed["confirmations"]}
    assert by == {orgs[k]: (JURISDICTION[k], PEOPLE[k][0]) for k in JURISDICTION}, "each signed by its own member"
    doc = p.document("ci-nl", "mou", pf.mou_id)
    sections = {s["heading"]: s for s in doc["sections"]}
    assert {"ECVET role map", "Confirmations of the role map"} <= set(sections)
    rows = sections["Confirmations of the role map"]["table"]["rows"]
    assert sorted(r[1] for r in rows) == sorted(JURISDICTION.values())

