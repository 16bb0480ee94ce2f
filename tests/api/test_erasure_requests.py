"""/api/learners/{id}/erasure-requests and /api/erasure-requests: the learner (or the guardian of a minor,
or the sending school on the learner's behalf) asks, a member of the sending school answers (PATCH:
carried out or refused) within a month; the answer says what was erased and what was kept, why and
until when."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from ecvet.mobility.models import Learner
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, OutboxMessage, User
from engine.parties import Actor
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.support import mobility_driver
from tests.support.ecvet_factories import Party
from tests.support.factories import PASSWORD, Person
from tests.support.privacy_world import make_privacy_world

T0 = mobility_driver.T0
CARRY_OUT = {"status": "carried_out"}


def caller(app: Flask, who: Party | Actor) -> Caller:
    actor = who.actor if isinstance(who, Party) else who
    return sign_in(app.test_client(), Person(actor.user_id, actor.email, PASSWORD))


def actions(db: Database, prefix: str) -> list[str]:
    with db.transaction(write=False) as s:
        return [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                            .order_by(AuditEvent.id))]


def test_the_learner_asks_and_the_sending_school_erases_all_but_the_kept_evidence(
        app: Flask, db: Database, frozen: FrozenClock) -> None:
    world = make_privacy_world(db, frozen)
    sc, lid = world.sc, world.learner_id
    identity = world.identity()
    learner, sending, hosting, outsider = (caller(app, who) for who in (world.run.learner, sc.sending, sc.hosting,
                                                                         sc.outsider))
    assert_problem(hosting.post(f"/api/learners/{lid}/erasure-requests"), 403)  # a party, but not for the learner
    assert_problem(outsider.post(f"/api/learners/{lid}/erasure-requests"), 404)
    response = learner.post(f"/api/learners/{lid}/erasure-requests")
    assert response.status_code == 201
    asked = response.get_json()
    assert (asked["status"], asked["on_behalf"], asked["answer"], asked["learner_name"]) == (
        "received", False, [], "Sanne Bakker")
    assert datetime.fromisoformat(asked["due_at"]) - datetime.fromisoformat(asked["requested_at"]) == \
        timedelta(days=30)
    assert_problem(learner.post(f"/api/learners/{lid}/erasure-requests"), 409)  # one waits already
    rid = asked["id"]
    assert [r["id"] for r in sending.get("/api/erasure-requests").get_json()] == [rid]
    assert hosting.get("/api/erasure-requests").get_json() == []
    for stranger in (hosting, outsider):
        assert_problem(stranger.get(f"/api/erasure-requests/{rid}"), 404)
        assert_problem(stranger.patch(f"/api/erasure-requests/{rid}", json=CARRY_OUT), 404)
    assert_problem(learner.patch(f"/api/erasure-requests/{rid}", json=CARRY_OUT), 403)  # she cannot erase herself
    assert_problem(sending.patch("/api/erasure-requests/999999", json=CARRY_OUT), 404)

    done = sending.patch(f"/api/erasure-requests/{rid}", json=CARRY_OUT)
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "carried_out"
    assert body["learner_name"] == f"Learner L-{lid} (erased)"
    evidence = [k for k in body["kept"] if k["reason"] == "evidence"]
    assert {k["what"] for k in evidence} >= {"la_signatures", "personal_transcripts", "europass_mobilities"}
    assert {k["until"] for k in evidence} == {"2034-04-09"}
    assert "deleted" in {e["how"] for e in body["erased"]}
    assert any("kept until 2034-04-09" in line and "Art. 17(3)(b)" in line for line in body["answer"])
    assert any("audit trail" in line for line in body["answer"])
    assert_problem(sending.patch(f"/api/erasure-requests/{rid}", json=CARRY_OUT), 409)
    with db.transaction(write=False) as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "erasure_answer")).all()
        assert not s.get_one(User, identity["user_id"]).is_active
    # The answer went to the addresses held before the erasure: hers, and her guardian's (she is a minor).
    assert sorted(m.to_email for m in mails) == sorted([identity["email"], identity["guardian_email"]])
    assert all(f"erasure request {rid}" in m.subject and identity["name"] not in m.body for m in mails)
    assert_problem(learner.get(f"/api/learners/{lid}"), 401)  # her account is closed
    assert actions(db, "erasure.") == ["erasure.requested", "erasure.carried_out"]


def test_a_running_mobility_is_refused_with_the_reason(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Wagner", date(2010, 1, 20), guardian_account=True)
    assert run.guardian is not None
    guardian, sending = caller(app, run.guardian), caller(app, sc.sending)
    asked = guardian.post(f"/api/learners/{run.learner_id}/erasure-requests")  # for a minor, the guardian
    assert asked.status_code == 201
    assert asked.get_json()["on_behalf"] is True
    body = sending.patch(f"/api/erasure-requests/{asked.get_json()['id']}", json=CARRY_OUT).get_json()
    assert (body["status"], body["refusal_reason"]) == ("refused", "running_mobility")
    assert "still running" in body["answer"][0]
    assert "cancel or finish it first" in body["answer"][0]
    with db.transaction(write=False) as s:
        assert s.get_one(Learner, run.learner_id).name == "Mia Wagner"  # nothing erased
    # The guardian reads the answer on the learner's requests.
    (seen,) = guardian.get(f"/api/learners/{run.learner_id}/erasure-requests").get_json()
    assert seen["answer"] == body["answer"]
    assert actions(db, "erasure.") == ["erasure.requested", "erasure.refused"]


def test_the_school_records_a_request_and_refuses_it_in_its_own_words(
        app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    sending, learner = caller(app, sc.sending), caller(app, run.learner)
    with db.transaction() as s:  # the learner reads German
        s.get_one(User, run.learner.user_id).language = "de"
    asked = sending.post(f"/api/learners/{run.learner_id}/erasure-requests").get_json()
    assert (asked["on_behalf"], asked["language"]) == (True, "de")
    url = f"/api/erasure-requests/{asked['id']}"
    for bad in ({}, {"status": "refused"}, {"status": "refused", "reason": "   "},
                {"status": "refused", "reason": "x" * 2001}, {"status": "refused", "reason": 7},
                {"status": "received"}, {"status": "erased"}):
        assert_problem(sending.patch(url, json=bad), 422)
    assert_problem(sending.patch(url, data="{", content_type="application/json"), 400)  # malformed, as everywhere
    assert_problem(learner.patch(url, json={"status": "refused", "reason": "I changed my mind"}), 403)
    assert_problem(sending.patch("/api/erasure-requests/not-a-number", json=CARRY_OUT), 404)
    body = sending.patch(url, json={"status": "refused", "reason": "Die Anerkennung ist noch strittig"}).get_json()
    assert body["status"] == "refused"
    assert body["answer"] == ["Ihre entsendende Einrichtung hat die Löschung Ihrer Daten aus diesem Grund "
                              "abgelehnt: Die Anerkennung ist noch strittig"]
    assert_problem(sending.patch(url, json={"status": "refused", "reason": "again"}), 409)
    assert_problem(sending.patch(url, json=CARRY_OUT), 409)
    with db.transaction(write=False) as s:
        (mail,) = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "erasure_answer")).all()
    assert (mail.to_email, mail.subject) == (run.learner.email, f"[ECVET] Antwort auf Ihren Löschantrag {asked['id']}")
    assert learner.get(f"/api/learners/{run.learner_id}/erasure-requests").get_json()[0]["status"] == "refused"


def test_the_guardian_asks_for_a_minor_only_until_the_18th_birthday(
        app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Lena Vos", date(2009, 6, 1), guardian_account=True)
    assert run.guardian is not None
    frozen.set(datetime(2027, 6, 1, 8, 0, tzinfo=T0.tzinfo))  # her 18th birthday
    guardian, learner = caller(app, run.guardian), caller(app, run.learner)
    # From the 18th birthday the guardian does not see the learner at all (ecvet.mobility.guardians): 404.
    assert_problem(guardian.post(f"/api/learners/{run.learner_id}/erasure-requests"), 404)
    assert learner.post(f"/api/learners/{run.learner_id}/erasure-requests").status_code == 201
