"""/api/mobilities and /api/learners over HTTP: nominating starts the process; parties read the records,
the home side sees the transcript only once released, outsiders get 404 for everything."""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from ecvet.mobility import assessment
from ecvet.mobility.models import Learner, Mobility, MobilityStatus
from engine import config
from engine.clock import FrozenClock
from engine.db import Database
from engine.parties import Actor
from tests.api.conftest import Caller, assert_problem, sign_in
from tests.support import mobility_driver
from tests.support.beneficiary_report_case import FORMULA_NAME, MOBILITY_ID, PROJECT_CODE, report_case
from tests.support.ecvet_factories import Party, make_live_mobility, make_party
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.mobility_driver import (
    Run,
    Scenario,
    go_live,
    start,
)
from tests.support.uploads import PDF

T0 = mobility_driver.T0  # the frozen fixture starts the clock here


def caller(app: Flask, who: Party | Actor) -> Caller:
    actor = who.actor if isinstance(who, Party) else who
    return sign_in(app.test_client(), Person(actor.user_id, actor.email, PASSWORD))


def body(sc: Scenario, learner_email: str, **overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mou_id": sc.mou_id, "hosting_organisation_id": sc.hosting.org_id, "qualification_title": "Cook",
        "start_date": "2027-03-01", "end_date": "2027-04-09",
        "learner": {"name": "Fenna Smit", "date_of_birth": "2004-02-02", "email": learner_email},
    }
    out.update(overrides)
    return out


def count(db: Database) -> tuple[int, int]:
    with db.transaction(write=False) as s:
        return (s.scalars(select(func.count(Mobility.id))).one(), s.scalars(select(func.count(Learner.id))).one())


def test_nominate_starts_the_mobility_process(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    sender = caller(app, sc.sending)
    learner = make_user(db)
    response = sender.post("/api/mobilities", json=body(sc, learner.email, business_key="fenna-2027"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == MobilityStatus.NOMINATION
    assert created["process_instance_id"]
    assert created["learner"]["name"] == "Fenna Smit"
    assert created["learner"]["has_account"] is True
    assert created["national_model"]["model"] == "provider_responsibility"
    assert created["learning_agreement"] is None
    assert created["transcript_status"] == "not_issued"
    assert [c["new_status"] for c in created["status_history"]] == ["nomination"]
    tasks = sender.get("/api/tasks").get_json()["items"]
    assert [(t["bpmn_id"], t["instance_id"]) for t in tasks] == [("prepare_la", created["process_instance_id"])]
    as_learner = sign_in(app.test_client(), learner)
    assert as_learner.get(f"/api/mobilities/{created['id']}").status_code == 200
    assert as_learner.get("/api/tasks").get_json()["items"] == [], "nothing to sign before the text exists"
    instance = sender.get(f"/api/process-instances/{created['process_instance_id']}").get_json()
    assert instance["business_key"] == "fenna-2027"
    assert instance["parties"]["learner"] == {"organisation_id": None, "user_id": learner.id}
    assert instance["parties"]["competent-institution-home"]["organisation_id"] == sc.sending.org_id


def test_nomination_refusals_change_nothing(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    sender, host, outsider = caller(app, sc.sending), caller(app, sc.hosting), caller(app, sc.outsider)
    learner = make_user(db)
    before = count(db)
    cases = [
        (outsider, body(sc, learner.email), 404),  # a MoU the caller is no party of does not exist for them
        (host, body(sc, learner.email), 403),  # the hosting partner does not nominate
        (sender, body(sc, learner.email, qualification_title="Baker"), 422),
        (sender, body(sc, learner.email, hosting_organisation_id=sc.outsider.org_id), 422),
        (sender, body(sc, learner.email, start_date="2027-01-01"), 422),  # before today
        (sender, body(sc, learner.email, end_date="2027-03-07"), 422),  # 1 week: the MoU plans 3 to 12
        (sender, body(sc, "nobody@nowhere.example"), 422),  # no account to sign with
        (sender, body(sc, learner.email, learner={"name": "Kid", "date_of_birth": "2012-01-01",
                                                  "email": learner.email}), 422),  # a minor without guardian
        (sender, body(sc, learner.email, learner=None), 422),  # neither learner nor learner_id
        (sender, {**body(sc, learner.email), "unknown": 1}, 422),
    ]
    for who, payload, status in cases:
        problem = assert_problem(who.post("/api/mobilities", json=payload), status)
        if status == 422:
            assert problem["errors"], problem
    assert count(db) == before


def test_reading_a_mobility_through_its_life(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    other = sc.nominate("Sanne Bakker", date(2005, 6, 15))
    admin_person = make_user(db, is_admin=True)

    def sign_in_all() -> tuple[Caller, ...]:
        """Tokens live 30 days of the (frozen) clock: sign in again whenever it moved."""
        return (caller(app, sc.sending), caller(app, sc.hosting), caller(app, sc.outsider), caller(app, run.learner),
                sign_in(app.test_client(), admin_person))

    sender, host, outsider, learner, admin = sign_in_all()
    url = f"/api/mobilities/{run.mobility_id}"
    for path in (url, f"{url}/transcript", f"{url}/assessments", f"/api/learners/{run.learner_id}",
                 f"/api/learners/{run.learner_id}/achievements", f"/api/process-instances/{run.instance_id}"):
        assert_problem(outsider.get(path), 404)
    assert outsider.get("/api/mobilities").get_json()["items"] == []
    assert learner.get(f"/api/learners/{other.learner_id}").status_code == 404, "another learner's data"
    first = sender.get("/api/mobilities?limit=1").get_json()
    second = sender.get(f"/api/mobilities?limit=1&cursor={first['next_cursor']}").get_json()
    assert [m["id"] for m in first["items"] + second["items"]] == [run.mobility_id, other.mobility_id]
    assert second["next_cursor"] is None
    assert [m["id"] for m in learner.get("/api/mobilities").get_json()["items"]] == [run.mobility_id]
    assert_problem(sender.get("/api/mobilities?status=unknown"), 422)
    assert_problem(sender.get("/api/mobilities?cursor=%%%"), 422)

    run.prepare()
    run.parties_sign()
    other.prepare()
    other.parties_sign()
    go_live(sc)
    run.assess({"U1": "achieved", "U2": "not_achieved"})
    run.issue_transcript()
    sender, host, outsider, learner, admin = sign_in_all()
    seen = sender.get(url).get_json()
    assert seen["status"] == MobilityStatus.LIVE
    assert seen["transcript_status"] == "issued"
    assert seen["transcript"] is None
    assert seen["assessments"] is None
    la = seen["learning_agreement"]
    assert la["in_force"]
    assert [v["number"] for v in la["versions"]] == [1, 2]
    assert [s["party"] for s in la["signatures"]] == ["learner", "sending", "hosting"]
    assert_problem(sender.get(f"{url}/transcript"), 404)
    assert_problem(sender.get(f"{url}/assessments"), 404)
    for reader in (host, learner, admin):
        assert reader.get(f"{url}/transcript").status_code == 200
        assert reader.get(url).get_json()["transcript"]["content"]["units"][1]["result"] == "not_achieved"
    sheets = host.get(f"{url}/assessments").get_json()
    assert [(s["unit"], s["result"], s["learner_acknowledgement"]["agrees"]) for s in sheets] == [
        ("U1", "achieved", True), ("U2", "not_achieved", True)]

    run.release_transcript()
    released = sender.get(f"{url}/transcript").get_json()
    assert released["la_version"] == 2
    assert released["ready_for_recognition_at"]
    assert released["content"]["ecvet_points_achieved"] == 12
    digest = run.values("sending", "validate_and_recognise_sending")["transcript_hash"]
    assert digest == released["content_hash"]
    run.complete("sending", "validate_and_recognise_sending", {
        "transcript_hash": digest, "signer": {"position": "Head of training"},
        "unit_decisions": [{"unit": "U1", "outcome": "validated"},
                           {"unit": "U2", "outcome": "not_validated", "comment": "Not achieved"}]})
    done = sender.get(url).get_json()
    assert done["status"] == MobilityStatus.RECOGNIZED
    assert [(v["unit"], v["outcome"]) for v in done["validation"]] == [("U1", "validated"),
                                                                       ("U2", "not_validated")]
    assert done["recognition"]["merged_with_validation"] is True
    assert done["recognition"]["signer"]["user_id"] == sc.sending.user_id
    assert done["recognition"]["signer"]["position"] == "Head of training"
    assert released["issued_by"]["user_id"] == sc.hosting.user_id
    assert released["issued_by"]["organisation_id"] == sc.hosting.org_id
    assert {s["signer"]["user_id"] for s in sheets} == {sc.hosting.user_id}
    assert [(c["unit"], c["ecvet_points"]) for c in done["credits"]] == [("U1", 12.0)]
    mine = learner.get(f"/api/learners/{run.learner_id}/achievements").get_json()
    assert mine["total_ecvet_points"] == 12
    assert mine["mobility_ids"] == [run.mobility_id]
    assert host.get(f"/api/learners/{run.learner_id}/achievements").get_json()["credits"][0]["unit"] == "U1"
    assert admin.get(f"/api/learners/{run.learner_id}").get_json()["email"] == run.learner.email


def test_learner_nominated_again_by_id(app: Flask, db: Database, frozen: FrozenClock) -> None:
    """The same learner's second mobility: by learner_id, and only for a school that nominated them."""
    sc = start(db, frozen, "NL", "BE")
    run: Run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    sender = caller(app, sc.sending)
    payload = body(sc, run.learner.email, learner=None, learner_id=run.learner_id, start_date="2027-06-01",
                   end_date="2027-07-09")
    created = sender.post("/api/mobilities", json=payload)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["learner_id"] == run.learner_id
    stranger = make_party(db, "NL", "Another school with the learner's id")
    assert_problem(caller(app, stranger).post("/api/mobilities", json=payload), 404)


def test_the_sending_school_withdraws_a_live_mobility(app: Flask, db: Database, frozen: FrozenClock) -> None:
    sc = start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.parties_sign()
    go_live(sc)
    sender, host = caller(app, sc.sending), caller(app, sc.hosting)
    url = f"/api/mobilities/{run.mobility_id}/cancel"
    assert_problem(host.post(url, json={"reason": "Hotel closed"}), 403)
    assert_problem(caller(app, sc.outsider).post(url, json={"reason": "x"}), 404)
    assert_problem(sender.post(url, json={"reason": ""}), 422)
    assert run.open_steps() == {"checkpoint"}
    done = sender.post(url, json={"reason": "The learner fell ill"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == MobilityStatus.CANCELLED
    assert done.get_json()["cancel_reason"] == "The learner fell ill"
    assert run.instance_status() == "terminated"
    assert run.ready() == []
    assert host.get("/api/tasks").get_json()["items"] == []
    assert_problem(sender.post(url, json={"reason": "again"}), 409)


def test_beneficiary_report_is_the_senders_mobilities_as_csv(app: Flask, db: Database) -> None:
    case = report_case(db)
    response = caller(app, case.sending).get("/api/mobilities/beneficiary-report?format=csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    header, *rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
    assert header[:4] == ["Mobility ID", "Project Code", "Participant Name", "Participant Email"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Mobility ID"], row["Project Code"]) == (MOBILITY_ID, PROJECT_CODE)
    # The learner's name would run as a formula in a spreadsheet: it comes out quoted.
    assert row["Participant Name"] == "'" + FORMULA_NAME
    assert (row["Receiving Organisation"], row["Receiving Country"], row["EQF Level"]) == ("Hosting company", "BE", "4")


def test_beneficiary_report_shows_no_other_organisations_mobilities(app: Flask, db: Database) -> None:
    case = report_case(db)
    for party in (case.hosting, case.other):
        text = caller(app, party).get("/api/mobilities/beneficiary-report").get_data(as_text=True)
        assert MOBILITY_ID not in text
        assert "HYPERLINK" not in text
    assert len(list(csv.reader(io.StringIO(
        caller(app, case.hosting).get("/api/mobilities/beneficiary-report").get_data(as_text=True))))) == 1
    assert_problem(caller(app, case.sending).get("/api/mobilities/beneficiary-report?format=xlsx"), 422)
    assert app.test_client().get("/api/mobilities/beneficiary-report").status_code == 401


# --------------------------------------------------------------------------------------------------
# Evidence files and assessors' signatures over HTTP
# --------------------------------------------------------------------------------------------------

EVIDENCE_OUTCOME = "Prepares cold starters to recipe"  # U1's outcome in make_live_mobility's agreement


def send_evidence(who: Caller, mobility_id: int, content: bytes, **form: str) -> Any:
    data = {"file": (io.BytesIO(content), "starter.pdf", "application/pdf"), "unit": "U1",
            "learning_outcome": EVIDENCE_OUTCOME, **form}
    return who.post(f"/api/mobilities/{mobility_id}/evidence-files", data=data, content_type="multipart/form-data")


def test_evidence_files_over_http_for_the_mobilitys_parties_only(app: Flask, db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen)
    frozen.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))
    host, sender, outsider, learner = (caller(app, p) for p in (live.hosting, live.sending, live.outsider,
                                                                 live.learner))
    url = f"/api/mobilities/{live.mobility_id}/evidence-files"
    added = send_evidence(host, live.mobility_id, PDF, description="Plated starter")
    assert added.status_code == 201, added.get_json()
    file_id, digest = added.get_json()["id"], added.get_json()["sha256"]
    assert digest == hashlib.sha256(PDF).hexdigest()
    assert [f["id"] for f in learner.get(url).get_json()] == [file_id]
    download = learner.get(f"{url}/{file_id}/content")
    assert (download.status_code, download.data, download.headers["X-Content-Type-Options"]) == (200, PDF, "nosniff")
    for who in (outsider, sender):  # another organisation; the home side before the transcript is released
        assert_problem(who.get(f"{url}/{file_id}/content"), 404)
        assert_problem(who.get(url), 404)
    assert_problem(send_evidence(outsider, live.mobility_id, PDF), 404)
    assert_problem(send_evidence(sender, live.mobility_id, PDF), 403)
    assert_problem(send_evidence(host, live.mobility_id, b"MZ\x90\x00 not a document"), 415)
    assert_problem(send_evidence(host, live.mobility_id, PDF, learning_outcome="Flambés desserts"), 422)
    assert_problem(host.post(url, data={"unit": "U1"}, content_type="multipart/form-data"), 422)
    config.use(config.changed(attachment_max_bytes=100))  # the root conftest restores the settings after
    assert_problem(send_evidence(host, live.mobility_id, PDF + b"\x00" * 200), 413)
    assert [f["id"] for f in host.get(url).get_json()] == [file_id], "nothing half-stored by a refusal"


def test_an_assessor_signs_the_sheet_over_http_and_nobody_else(app: Flask, db: Database, frozen: FrozenClock) -> None:
    live = make_live_mobility(db, frozen)
    frozen.set(datetime(2027, 3, 20, 10, 0, tzinfo=UTC))
    with db.transaction() as s:
        sheets = assessment.record(s, actor=live.hosting.actor, mobility_id=live.mobility_id, assessments=[
            {"unit": u, "criteria": "To recipe", "method": "observation", "date": "2027-03-18", "result": "achieved"}
            for u in ("U1", "U2")])
        sheet_id = sheets[0].id
    colleague = sign_in(app.test_client(), make_user(db, organisation_ids=[live.hosting.org_id], name="Carmen Vidal",
                                                     position="Head chef"))
    url = f"/api/mobilities/{live.mobility_id}/assessments/{sheet_id}/signatures"
    assert_problem(caller(app, live.sending).post(url, json={}), 403)
    assert_problem(caller(app, live.learner).post(url, json={}), 403)
    assert_problem(caller(app, live.outsider).post(url, json={}), 404)
    assert_problem(colleague.post(url, json={"signer": {"name": "Javier Ruiz"}}), 422)
    signed = colleague.post(url, json={"signer": {"place": "València"}})
    assert signed.status_code == 201, signed.get_json()
    assert {k: signed.get_json()[k] for k in ("name", "position", "place")} == {
        "name": "Carmen Vidal", "position": "Head chef", "place": "València"}
    assert_problem(colleague.post(url, json={}), 409)


def test_a_guardian_reads_a_minors_mobility_until_the_18th_birthday_over_http(app: Flask, db: Database,
                                                                               frozen: FrozenClock) -> None:
    """Issue 16: the guardian's access ends by itself on the learner's 18th birthday (engine clock)."""
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Keller", date(2009, 3, 15), guardian_account=True)
    run.prepare()
    assert run.guardian is not None
    la_id = run.la()["id"]
    urls = (f"/api/mobilities/{run.mobility_id}", f"/api/learners/{run.learner_id}",
            f"/api/documents/learning-agreement/{la_id}")
    frozen.set(datetime(2027, 3, 14, 23, 59, tzinfo=UTC))
    guardian = sign_in(app.test_client(), Person(run.guardian.user_id, run.guardian.email, PASSWORD))
    learner = sign_in(app.test_client(), Person(run.learner.user_id, run.learner.email, PASSWORD))
    for url in urls:
        assert guardian.get(url).status_code == 200, url
    assert [m["id"] for m in guardian.get("/api/mobilities").get_json()["items"]] == [run.mobility_id]
    frozen.set(datetime(2027, 3, 15, 0, 0, 1, tzinfo=UTC))
    for url in urls:
        assert_problem(guardian.get(url), 404)
        assert learner.get(url).status_code == 200, url
    assert guardian.get("/api/mobilities").get_json()["items"] == []
    assert [m["id"] for m in learner.get("/api/mobilities").get_json()["items"]] == [run.mobility_id]
