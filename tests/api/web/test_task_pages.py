"""The task page without a browser: the form from the JSON Schema, errors next to fields, completion, access."""
from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import func, select

from ecvet.mobility.models import EvidenceFile, PersonalTranscript
from ecvet.partnership.models import Attachment
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent
from tests.api.conftest import TWO_LANE as ROOT_TWO_LANE
from tests.api.conftest import World, post_bundle
from tests.api.web.conftest import Browser, browser_for, ready_task, start_two_lane
from tests.support import mobility_driver
from tests.support.factories import PASSWORD, Person
from tests.support.task_pages import FIXTURES

T0 = mobility_driver.T0

VALID = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": "6"}


def field_block(html: str, field_id: str) -> str:
    """The markup of one generated field, from its wrapper to the next one."""
    start = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, start)
    end = html.find('<div class="field', start + 10)
    return html[start:end if end > 0 else None]


def test_task_page_shows_instructions_context_and_the_generated_form(world: World, pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world, "mobility-42")
    task = ready_task(world.sender, instance_id)
    response = pages["sender"].get(f"/tasks/{task['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Propose placement" in html
    assert "Describe the placement you propose for the learner" in html  # instructionsForEndUser
    assert "Two-lane review (version 1)" in html
    assert "mobility-42" in html
    assert "Sending organisation" in html
    title = field_block(html, "f-placement_title")
    assert '<label for="f-placement_title">Placement title' in title
    assert "(required)" in title
    assert 'minlength="3"' in title
    assert "as the hosting organisation would recognise it" in title
    assert 'type="date"' in field_block(html, "f-start_date")
    weeks = field_block(html, "f-weeks")
    assert 'type="number"' in weeks
    assert 'min="1"' in weeks
    assert 'max="52"' in weeks
    assert response.headers["Cache-Control"] == "no-store"


def test_invalid_submission_shows_errors_next_to_fields_and_saves_nothing(world: World,
                                                                          pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    response = pages["sender"].post(f"/tasks/{task['id']}", {"placement_title": "Co", "weeks": "sixty",
                                                            "_action": "complete"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    weeks = field_block(html, "f-weeks")
    assert 'class="field has-error"' in weeks
    assert "Enter a whole number" in weeks
    assert 'value="sixty"' in weeks
    assert 'aria-invalid="true"' in weeks
    assert "This field is required" in field_block(html, "f-start_date")
    assert "Enter at least" in field_block(html, "f-placement_title")
    assert 'href="#f-weeks"' in html  # the summary links to each field
    assert ready_task(world.sender, instance_id)["state"] == "ready"

    # In range for a number, but outside the schema's bounds: the engine's own validation speaks.
    response = pages["sender"].post(f"/tasks/{task['id']}", {**VALID, "weeks": "60"})
    assert response.status_code == 422
    assert "Enter 52 or less" in field_block(response.get_data(as_text=True), "f-weeks")
    assert ready_task(world.sender, instance_id)["state"] == "ready"


def test_valid_submission_completes_and_the_next_party_gets_the_task(world: World,
                                                                     pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    response = pages["sender"].post(f"/tasks/{task['id']}", {**VALID, "_action": "complete"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    inbox = pages["sender"].get("/tasks").get_data(as_text=True)
    assert "“Propose placement” is done." in inbox
    assert "No tasks for you." in inbox
    done = world.sender.get(f"/api/tasks/{task['id']}").get_json()
    assert done["state"] == "completed"

    review = ready_task(world.host, instance_id)
    assert review["name"] == "Review placement"
    page = pages["host"].get(f"/tasks/{review['id']}").get_data(as_text=True)
    assert 'type="checkbox"' in field_block(page, "f-accepted")
    assert "<textarea" in field_block(page, "f-comment")  # maxLength 2000: a text area
    # The review form: an unticked box is a "no", and the process takes the rejection path.
    response = pages["host"].post(f"/tasks/{review['id']}", {"comment": "Kitchen closed in March"})
    assert response.status_code == 302
    instance = world.sender.get(f"/api/process-instances/{instance_id}").get_json()
    assert instance["status"] == "completed"
    with world.db.transaction(write=False) as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.task_id == review["id"])).all()
    assert [a.detail["data"] for a in audit if a.action == "task.completed"] == [
        {"accepted": False, "comment": "Kitchen closed in March"}]


def test_another_organisation_gets_404_for_the_task_by_url(world: World, pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    for person in ("outsider", "host"):
        response = pages[person].get(f"/tasks/{task['id']}")
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "Not found" in html
        assert "Propose placement" not in html
        response = pages[person].post(f"/tasks/{task['id']}", VALID)
        assert response.status_code == 404
    assert ready_task(world.sender, instance_id)["state"] == "ready"


def test_signed_out_visitors_are_sent_to_sign_in_and_back(world: World, app: object) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    visitor = browser_for(app)  # type: ignore[arg-type]
    response = visitor.get(f"/tasks/{task['id']}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/tasks/{task['id']}"
    visitor.get("/sign-in")
    response = visitor.post(f"/sign-in?next=/tasks/{task['id']}",
                            {"email": world.sender.person.email, "password": world.sender.person.password})
    assert response.headers["Location"] == f"/tasks/{task['id']}"


def test_admin_completes_only_on_behalf_and_the_audit_says_so(world: World, pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    html = pages["admin"].get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "Complete on behalf of" in html
    response = pages["admin"].post(f"/tasks/{task['id']}", VALID)
    assert response.status_code == 403
    assert "an administrator must set on_behalf" in response.get_data(as_text=True)
    assert ready_task(world.sender, instance_id)["state"] == "ready"
    response = pages["admin"].post(f"/tasks/{task['id']}", {**VALID, "_on_behalf": "true"})
    assert response.status_code == 302
    with world.db.transaction(write=False) as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.task_id == task["id"],
                                                      AuditEvent.action == "task.completed")).all()
    assert event.actor_id == world.admin.person.id
    assert event.detail["on_behalf"] is True


def test_a_task_completed_meanwhile_is_a_conflict_not_a_second_completion(world: World,
                                                                          pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    pages["sender"].get(f"/tasks/{task['id']}")
    other_tab = world.sender.post(f"/api/tasks/{task['id']}/complete", json={"data": {**VALID, "weeks": 6}})
    assert other_tab.status_code == 200
    response = pages["sender"].post(f"/tasks/{task['id']}", VALID)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "is already completed" in html
    assert "This task is completed." in html


def test_instructions_are_markdown_with_html_escaped(world: World, pages: dict[str, Browser]) -> None:
    bpmn = (ROOT_TWO_LANE.read_text()
            .replace("Describe the placement you propose for the learner",
                     "**Describe** the placement &lt;script&gt;alert(1)&lt;/script&gt; [guide](javascript:alert(2))"))

    response = post_bundle(world.admin, {"two_lane_review.bpmn": bpmn.encode()})
    assert response.status_code == 201, response.get_json()
    started = world.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "parties": {"sending": world.sending_org, "hosting": world.hosting_org}})
    task = ready_task(world.sender, started.get_json()["id"])
    html = pages["sender"].get(f"/tasks/{task['id']}").get_data(as_text=True)
    section = re.search(r'<section class="instructions".*?</section>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "<strong>Describe</strong>" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "<script>" not in section
    assert 'href="javascript:' not in section




EVIDENCE_FORM = {
    "type": "object", "required": ["assessed_on", "method", "results", "evidence"],
    "properties": {
        "assessed_on": {"type": "string", "format": "date"},
        "method": {"type": "string", "enum": ["observation", "test"]},
        "results": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
            "unit": {"type": "string"}}}},
        "evidence": {"type": "integer", "format": "attachment-id", "title": "Evidence (PDF)"},
    },
}


def start_evidence_task(world: World) -> tuple[str, dict[str, object]]:
    """The browser tests' assessment process, deployed with a form that asks for an attachment."""

    response = post_bundle(world.admin, {"assessment.bpmn": (FIXTURES / "assessment.bpmn").read_bytes(),
                                         "web_assessment.json": json.dumps(EVIDENCE_FORM).encode()})
    assert response.status_code == 201, response.get_json()
    started = world.host.post("/api/process-instances", json={
        "process_key": "web_assessment", "parties": {"hosting": world.hosting_org, "sending": world.sending_org}})
    instance_id = started.get_json()["id"]
    return instance_id, ready_task(world.host, instance_id)


def test_an_attachment_field_uploads_the_file_and_completes_with_its_id(world: World,
                                                                       pages: dict[str, Browser]) -> None:
    instance_id, task = start_evidence_task(world)
    html = pages["host"].get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" id="f-evidence" name="evidence"' in html
    fields = {"assessed_on": "2027-04-02", "method": "test", "results.__count": "1", "results.0.unit": "U1"}

    # Not a document type the platform accepts: the error sits on the field, and nothing is stored.
    response = pages["host"].post(f"/tasks/{task['id']}", {**fields, "evidence": (io.BytesIO(b"MZ\x90"), "x.exe")},
                                  content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Only PDF, PNG, JPEG, ODT and DOCX documents are accepted" in field_block(
        response.get_data(as_text=True), "f-evidence")
    with world.db.transaction(write=False) as s:
        assert s.scalars(select(Attachment)).all() == []

    # A valid one with an invalid date elsewhere: the whole submission rolls back, upload included.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = pages["host"].post(f"/tasks/{task['id']}", {**fields, "assessed_on": "2 April",
                                                          "evidence": (io.BytesIO(pdf), "evidence.pdf")},
                                  content_type="multipart/form-data")
    assert response.status_code == 422
    with world.db.transaction(write=False) as s:
        assert s.scalars(select(Attachment)).all() == []

    response = pages["host"].post(f"/tasks/{task['id']}", {**fields, "evidence": (io.BytesIO(pdf), "evidence.pdf")},
                                  content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with world.db.transaction(write=False) as s:
        (attachment,) = s.scalars(select(Attachment)).all()
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.task_id == task["id"],
                                                      AuditEvent.action == "task.completed")).all()
    assert attachment.filename == "evidence.pdf"
    assert attachment.uploaded_by == world.host.person.id
    assert event.detail["data"]["evidence"] == attachment.id
    assert ready_task(world.sender, instance_id)["name"] == "Acknowledge the assessment"


def test_the_host_reads_the_transcript_before_issuing_it(app: Flask, db: Database, frozen: FrozenClock) -> None:
    """The issue task shows the transcript the document builder makes of it now, and keeps nothing."""
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.parties_sign()
    mobility_driver.go_live(sc)
    run.assess({"U1": "achieved", "U2": "not_achieved"})
    task = run.only_for("hosting", "issue_transcript")
    host = browser_for(app, Person(sc.hosting.user_id, sc.hosting.email, PASSWORD))
    html = host.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Preview: not issued yet" in html
    assert "Learner&#39;s Personal Transcript" in html or "Learner's Personal Transcript" in html
    assert "Results per unit" in html
    assert "Observation notes U1" in html
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(PersonalTranscript)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "transcript.issued")) == 0
    run.issue_transcript()
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(PersonalTranscript)) == 1


def test_the_assessment_page_uploads_evidence_for_a_learning_outcome(app: Flask, db: Database,
                                                                     frozen: FrozenClock) -> None:
    """A file chosen next to a learning outcome becomes an attachment and that outcome's evidence file."""
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Daan de Vries", date(2004, 9, 1))
    run.prepare()
    run.parties_sign()
    mobility_driver.go_live(sc)
    frozen.set(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    values = run.values("hosting", "checkpoint")
    run.complete("hosting", "checkpoint", {"la_hash": values["la_hash"], "decision": "assess"})
    task = run.only_for("hosting", "record_assessment")
    host = browser_for(app, Person(sc.hosting.user_id, sc.hosting.email, PASSWORD))
    html = host.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    fields = {"assessments.__count": "2", "assessments.0.unit": "U1", "assessments.0.criteria": "To recipe",
              "assessments.0.method": "practical_task", "assessments.0.date": "2027-04-05",
              "assessments.0.result": "achieved", "assessments.0.outcomes.__count": "1",
              "assessments.0.outcomes.0.learning_outcome": "Prepares cold starters to recipe",
              "assessments.0.outcomes.0.result": "achieved", "assessments.0.outcomes.0.evidence_files.__count": "1",
              "assessments.0.outcomes.0.evidence_files.0": (io.BytesIO(pdf), "starter.pdf"),
              "assessments.1.unit": "U2", "assessments.1.criteria": "Hygiene plan",
              "assessments.1.method": "observation", "assessments.1.date": "2027-04-05",
              "assessments.1.result": "achieved"}
    response = host.post(f"/tasks/{task.id}", fields, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.transaction(write=False) as s:
        (evidence,) = s.scalars(select(EvidenceFile)).all()
        attachment = s.get(Attachment, evidence.attachment_id)
    assert (evidence.unit_code, evidence.learning_outcome) == ("U1", "Prepares cold starters to recipe")
    assert attachment is not None
    assert attachment.filename == "starter.pdf"
