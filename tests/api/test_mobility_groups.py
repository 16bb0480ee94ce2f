"""/api/mobility-groups over HTTP: a group of learners with an intermediary goes from nomination to
recognition through the API alone (the worker sets the mobilities live at their start date). One
programme and Learning Agreement text for the group, each learner and the guardian of the minor sign
their own copy, the organisations sign all copies in one request, each signature their own; nobody
outside the group sees it, and a learner cannot sign another learner's copy."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from ecvet.mobility.models import LaSignature, Mobility, MobilityGroup, MobilityStatus
from engine.clock import FrozenClock
from engine.db import Database
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.support import mobility_driver
from tests.support.ecvet_factories import make_party
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.mobility_driver import ASSESSMENT_AGREED, start

T0 = mobility_driver.T0  # the frozen fixture starts the clock here
PROGRAMME = "Three weeks in the hotel kitchen (garde-manger, pastry), one week in the restaurant"
UNITS = {
    "units": [{"code": "U1", "learning_outcomes": ["Prepares cold starters to recipe"],
               "learning_activities": {"location": "Hotel kitchen", "tasks": "Garde-manger station"}},
              {"code": "U2"}],
    "assessment": {"method": "Practical task"},
    "validation_and_recognition": {"who": "Sending school", "how": "Comparison with the LA",
                                   "effect": "Units exempted at home"},
}


def person(app: Flask, user_id: int, email: str) -> Caller:
    return sign_in(app.test_client(), Person(user_id, email, PASSWORD))


def group_body(sc: mobility_driver.Scenario, learners: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "mou_id": sc.mou_id, "hosting_organisation_id": sc.hosting.org_id, "qualification_title": "Cook",
        "start_date": "2027-03-01", "end_date": "2027-04-09", "name": "Cooks 2027, class 2b",
        "programme": PROGRAMME, "learners": learners,
        "accompanying_persons": [{"name": "Karin Berg", "role": "teacher", "organisation": "Sending school"}],
        **overrides,
    }


def counts(db: Database) -> tuple[int, int]:
    with db.transaction(write=False) as s:
        return (s.scalar(select(func.count(Mobility.id))) or 0, s.scalar(select(func.count(MobilityGroup.id))) or 0)


def only_task(caller: Caller, instance_id: str, bpmn_id: str) -> dict[str, Any]:
    items = [t for t in caller.get("/api/tasks", query_string={"instance_id": instance_id}).get_json()["items"]
             if t["bpmn_id"] == bpmn_id]
    assert len(items) == 1, items
    detail = caller.get(f"/api/tasks/{items[0]['id']}").get_json()
    return {"id": items[0]["id"], "values": detail["form"]["values"]}


def complete(caller: Caller, instance_id: str, bpmn_id: str, data: dict[str, Any]) -> None:
    task = only_task(caller, instance_id, bpmn_id)
    response = caller.post(f"/api/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 200, response.get_json()


def complete_all(caller: Caller, group_id: int, bpmn_id: str, data: dict[str, Any], expected: int) -> None:
    response = caller.post(f"/api/mobility-groups/{group_id}/complete", json={"bpmn_id": bpmn_id, "data": data})
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()) == expected


def test_a_group_mobility_with_an_intermediary_through_the_api(app: Flask, db: Database,
                                                              frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    agency = make_party(db, "NL", "Mobility agency Noord", member="Ines Agent")
    other_agency = make_party(db, "NL", "Another agency")
    names = ("Daan de Vries", "Sanne Bakker", "Noor Jansen")
    learners = [make_user(db, name=n) for n in names]
    guardian = make_user(db, name="Parent of Noor")
    details = [{"name": n, "date_of_birth": born, "email": u.email}
               for n, u, born in zip(names, learners, ("2004-09-01", "2005-06-15", "2010-05-05"), strict=True)]
    details[2].update(guardian_name="Parent of Noor", guardian_email=guardian.email)

    def callers() -> dict[str, Caller]:
        """Tokens live 30 days of the (frozen) clock: sign in again whenever it moved."""
        out = {name: person(app, p.user_id, p.email) for name, p in (
            ("sending", sc.sending), ("hosting", sc.hosting), ("agency", agency), ("other_agency", other_agency),
            ("outsider", sc.outsider))}
        out |= {f"learner{i}": person(app, u.id, u.email) for i, u in enumerate(learners)}
        out["guardian"] = person(app, guardian.id, guardian.email)
        return out

    who = callers()
    # Refused, nothing recorded: a learner without an account, an accompanying person without a role,
    # another school, the host as intermediary.
    missing = make_user(db).email.replace("@", "+nobody@")
    before = counts(db)
    problem = assert_problem(who["sending"].post("/api/mobility-groups", json=group_body(
        sc, [details[0], {**details[1], "email": missing}])), 422)
    assert any(key.startswith("learners.1.") for key in problem["errors"]), problem
    assert_problem(who["sending"].post("/api/mobility-groups", json=group_body(
        sc, details, accompanying_persons=[{"name": "Karin Berg", "organisation": "Sending school"}])), 422)
    assert who["outsider"].post("/api/mobility-groups", json=group_body(sc, details)).status_code in (403, 404)
    assert_problem(who["sending"].post("/api/mobility-groups", json=group_body(
        sc, details, intermediary_organisation_id=sc.hosting.org_id)), 422)
    assert counts(db) == before

    response = who["sending"].post("/api/mobility-groups", json=group_body(
        sc, details, intermediary_organisation_id=agency.org_id))
    assert response.status_code == 201, response.get_json()
    group = response.get_json()
    group_id = group["id"]
    assert group["accompanying_persons"] == [{"name": "Karin Berg", "role": "teacher",
                                              "organisation": "Sending school"}]
    members = group["mobilities"]
    assert [m["learner_name"] for m in members] == list(names)
    instances = [m["process_instance_id"] for m in members]
    assert [(t["bpmn_id"], len(t["task_ids"])) for t in group["my_tasks"]] == [("prepare_la", 3)]

    # Outside the group: nothing. A learner: their own mobility only.
    for outsider in (who["other_agency"], who["outsider"]):
        assert_problem(outsider.get(f"/api/mobility-groups/{group_id}"), 404)
        assert outsider.get("/api/mobilities").get_json()["items"] == []
        assert_problem(outsider.post(f"/api/mobility-groups/{group_id}/complete",
                                     json={"bpmn_id": "sign_intermediary", "data": {}}), 404)
    mine = who["learner0"].get(f"/api/mobility-groups/{group_id}").get_json()
    assert [m["mobility_id"] for m in mine["mobilities"]] == [members[0]["mobility_id"]]
    assert mine["programme"] == PROGRAMME
    assert [m["id"] for m in who["agency"].get("/api/mobilities").get_json()["items"]] == \
        [m["mobility_id"] for m in members]

    # Before: one text for the group, prepared and agreed for every copy at once.
    assert_problem(who["sending"].post(f"/api/mobility-groups/{group_id}/complete",
                                       json={"bpmn_id": "record_assessment", "data": {}}), 422)
    complete_all(who["sending"], group_id, "prepare_la", UNITS, 3)
    hashes = {only_task(who["hosting"], i, "agree_assessment")["values"]["la_hash"] for i in instances}
    assert len(hashes) == 1, "the group's copies share one text"
    complete_all(who["hosting"], group_id, "agree_assessment",
                 {"la_hash": hashes.pop(), "assessment": ASSESSMENT_AGREED}, 3)

    # Each learner signs their own copy; no learner reaches another's.
    others_task = only_task(who["learner1"], instances[1], "sign_learner")
    assert_problem(who["learner0"].get(f"/api/tasks/{others_task['id']}"), 404)
    assert_problem(who["learner0"].post(f"/api/tasks/{others_task['id']}/complete", json={"data": {
        "la_hash": others_task["values"]["la_hash"], "decision": "sign"}}), 404)
    digest = only_task(who["learner0"], instances[0], "sign_learner")["values"]["la_hash"]
    complete_all(who["learner0"], group_id, "sign_learner", {"la_hash": digest, "decision": "sign"}, 1)
    for index in (1, 2):
        complete(who[f"learner{index}"], instances[index], "sign_learner",
                 {"la_hash": digest, "decision": "sign"})
    complete(who["guardian"], instances[2], "sign_guardian", {"la_hash": digest, "decision": "sign"})
    # The school, the intermediary and the host each sign all copies at once: one signature per copy, theirs.
    sign = {"la_hash": digest, "decision": "sign", "signer": {"position": "Coordinator", "place": "Utrecht"}}
    assert_problem(who["agency"].post(f"/api/mobility-groups/{group_id}/complete",
                                      json={"bpmn_id": "sign_intermediary", "data": sign}), 409)  # not its turn
    complete_all(who["sending"], group_id, "sign_sending", sign, 3)
    stale = {**sign, "la_hash": "0" * 64}
    assert_problem(who["agency"].post(f"/api/mobility-groups/{group_id}/complete",
                                      json={"bpmn_id": "sign_intermediary", "data": stale}), 409)
    complete_all(who["agency"], group_id, "sign_intermediary", sign, 3)
    complete_all(who["hosting"], group_id, "sign_hosting", {**sign, "signer": {"position": "Company mentor"}}, 3)
    with db.transaction(write=False) as s:
        signed = s.execute(select(LaSignature.party, LaSignature.signer_user_id, LaSignature.organisation_id)
                           .where(LaSignature.party.in_(("intermediary", "sending")))).all()
    assert sorted(signed) == sorted([("intermediary", agency.user_id, agency.org_id)] * 3
                                    + [("sending", sc.sending.user_id, sc.sending.org_id)] * 3)
    for member in members:
        seen = who["sending"].get(f"/api/mobilities/{member['mobility_id']}").get_json()
        assert seen["learning_agreement"]["in_force"]
        assert seen["learning_agreement"]["content"]["group"]["programme"] == PROGRAMME
        assert seen["learning_agreement"]["content"]["intermediary_organisation"]["id"] == agency.org_id

    # During and after: the worker sets them live; the host assesses each learner; the school recognises.
    frozen.set(datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC))
    sc.worker()
    frozen.set(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    who = callers()
    for index, instance in enumerate(instances):
        host = who["hosting"]
        digest = only_task(host, instance, "checkpoint")["values"]["la_hash"]
        complete(host, instance, "checkpoint", {"la_hash": digest, "decision": "assess"})
        complete(host, instance, "record_assessment", {"assessments": [
            {"unit": code, "criteria": f"Criteria of {code}", "method": "practical_task", "context": "Lunch service",
             "assessor": {"name": "Javier Ruiz", "organisation": "Hotel Sol"}, "date": "2027-04-05",
             "result": "achieved", "evidence": f"Observation notes {code}"} for code in ("U1", "U2")]})
        complete(who[f"learner{index}"], instance, "acknowledge_assessment", {"agrees": True})
        complete(host, instance, "issue_transcript",
                 {"signer": {"position": "Company mentor"}, "period": {"end": "2027-04-05"}})
        complete(host, instance, "release_transcript", {"ready_for_recognition": True})
        digest = only_task(who["sending"], instance, "validate_and_recognise_sending")["values"]["transcript_hash"]
        complete(who["sending"], instance, "validate_and_recognise_sending", {
            "transcript_hash": digest, "signer": {"position": "Head of training"},
            "unit_decisions": [{"unit": "U1", "outcome": "validated"}, {"unit": "U2", "outcome": "validated"}]})
        complete(who["sending"], instance, "record_implications", {"none": True})
    final = who["sending"].get(f"/api/mobility-groups/{group_id}").get_json()
    assert [m["status"] for m in final["mobilities"]] == [MobilityStatus.RECOGNIZED] * 3
    assert final["my_tasks"] == []


def test_a_group_takes_known_learners_by_id_and_refuses_an_entry_with_neither(app: Flask, db: Database,
                                                                              frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    known = sc.nominate("Daan de Vries", date(2004, 9, 1))
    sender = person(app, sc.sending.user_id, sc.sending.email)
    before = counts(db)
    problem = assert_problem(sender.post("/api/mobility-groups", json=group_body(
        sc, [{"learner_id": known.learner_id}, {"name": "Only a name"}])), 422)
    assert "learners" in problem["errors"], problem
    assert counts(db) == before
    response = sender.post("/api/mobility-groups", json=group_body(
        sc, [{"learner_id": known.learner_id}], start_date="2027-05-03", end_date="2027-06-04"))
    assert response.status_code == 201, response.get_json()
    assert [m["learner_id"] for m in response.get_json()["mobilities"]] == [known.learner_id]
