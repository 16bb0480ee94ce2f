"""/api/organisations/{id}/retention, /processing-register and /api/retention/dry-run (api/retention.py):
members read and set their organisation's periods (422 for a bad kind or value, audited), others get
404; the register is generated from the policy and the catalogue, as JSON and PDF; the dry run is the
administrators'."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ecvet.privacy.holdings import about_learners
from ecvet.retention.register import ACTIVITIES
from engine.models import AuditEvent
from tests.api.conftest import World, assert_problem


def _kinds(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["kind"]: row for row in body["kinds"]}


def test_a_member_reads_and_sets_the_organisations_periods(world: World) -> None:
    url = f"/api/organisations/{world.sending_org}/retention"
    read = world.sender.get(url)
    assert read.status_code == 200
    transcript = _kinds(read.get_json())["transcript"]
    assert (transcript["source"], transcript["configurable"]) == ("national_default", True)
    assert transcript["keep_months"] > 0
    assert transcript["basis"].startswith("retention.basis.")
    assert "must confirm" in read.get_json()["note"].lower()
    assert _kinds(read.get_json())["outbox"]["keep_days"] == 90

    changed = world.sender.put(url, json={"keep_months": {"transcript": 100, "review": 6}})
    assert changed.status_code == 200
    kinds = _kinds(changed.get_json())
    assert (kinds["transcript"]["keep_months"], kinds["transcript"]["source"]) == (100, "organisation")
    assert kinds["review"]["keep_months"] == 6
    back = world.sender.put(url, json={"keep_months": {"transcript": None}})
    assert _kinds(back.get_json())["transcript"]["source"] == "national_default"
    with world.db.transaction() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "retention.policy_changed")
                                .order_by(AuditEvent.id)))
    assert [e.detail["changes"] for e in events] == [
        {"transcript": [transcript["keep_months"], 100], "review": [24, 6]},
        {"transcript": [100, transcript["keep_months"]]}]


def test_others_get_404_and_bad_values_422(world: World) -> None:
    url = f"/api/organisations/{world.sending_org}/retention"
    assert_problem(world.host.get(url), 404)
    assert_problem(world.outsider.put(url, json={"keep_months": {"transcript": 1}}), 404)
    assert_problem(world.sender.get("/api/organisations/999999/retention"), 404)
    for body in ({"keep_months": {"not_a_kind": 1}}, {"keep_months": {"outbox": 1}},
                 {"keep_months": {"transcript": -1}}, {"keep_months": {"transcript": 361}},
                 {"keep_months": {"transcript": "12"}}, {"keep_months": {"transcript": 1.5}}, {}):
        assert_problem(world.sender.put(url, json=body), 422)
    assert world.admin.get(url).status_code == 200


def test_the_processing_register_follows_the_policy_and_the_catalogue(world: World) -> None:
    url = f"/api/organisations/{world.sending_org}/processing-register"
    world.sender.put(f"/api/organisations/{world.sending_org}/retention", json={"keep_months": {"transcript": 99}})
    body = world.sender.get(url).get_json()
    activities = {a["key"]: a for a in body["activities"]}
    assert set(activities) == {"partnership", "mobility", "assessment", "credentials", "review", "accounts"}
    assessment = activities["assessment"]
    assert {"kind": "transcript", "period": "99 months after the mobility's end", "source": "organisation"
            } == {k: v for k, v in next(r for r in assessment["retention"] if r["kind"] == "transcript").items()
                  if k != "basis"}
    # categories of personal data are the catalogue's words, never column names
    assert any("Personal Transcripts" in c for c in assessment["personal_data"])
    assert not any("_" in c for a in activities.values() for c in a["personal_data"])
    assert "Learners" in activities["mobility"]["data_subjects"]
    assert "EU/EEA" in assessment["transfers"]
    pdf = world.sender.get(url + "?format=pdf&lang=de")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert_problem(world.host.get(url), 404)
    assert_problem(world.sender.get(url + "?format=docx"), 422)


def test_every_table_holding_learners_data_is_in_an_activity_of_the_register() -> None:
    covered = {t for a in ACTIVITIES for t in a.tables}
    assert {h.table for h in about_learners()} - covered == set()


def test_the_dry_run_is_for_administrators(world: World) -> None:
    assert_problem(world.sender.get("/api/retention/dry-run"), 403)
    found = world.admin.get("/api/retention/dry-run")
    assert found.status_code == 200
    assert found.get_json()["dry_run"] is True
    with world.db.transaction() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action.like("retention.%")))
        assert (event.action, event.actor_id is not None) == ("retention.dry_run", True)  # who looked is recorded
