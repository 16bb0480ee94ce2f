"""A newcomer's first minutes in a real browser, on the demo `make run` seeds (demo/seed.py): the
learner signs his Learning Agreement, the sending coordinator signs it next, then she nominates a new
learner through "Start > Nominate a learner" and lands on the task that follows. Screenshots are saved
like the other browser tests'."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from demo import cast, seed
from ecvet.mobility.models import LaSignature, Learner, LearningAgreement, Mobility
from ecvet.partnership.models import MouApproval, Partnership
from engine import clock
from engine.models import HumanTask, ProcessInstance, TaskState, User
from tests.support.factories import Person
from tests.web.conftest import LiveServer

JONAS = "Jonas Keller · Cook · Köln → València"


def demo_person(email: str) -> Person:
    (found,) = [p for p in cast.PEOPLE if p.email == email]
    return Person(0, found.email, seed.DEMO_PASSWORD)


@pytest.fixture
def seeded(live_server: LiveServer) -> seed.DemoResult:
    return seed.seed(live_server.db)


def open_task(page: Any, name: str, business_key: str) -> None:
    row = page.locator("tr.task-row", has_text=business_key).filter(has_text=name)
    row.locator("a.task-link").click()
    page.wait_for_url("**/tasks/*")
    assert page.locator("h1").inner_text().startswith(name)


def sign(page: Any, name: str, position: str | None = None) -> None:
    """Choose "Sign": the page shows who signs (the account, not an input) and the profile's position."""
    page.get_by_role("radio", name="Sign", exact=True).check()
    assert page.locator("#f-signer-name").inner_text() == name
    assert page.locator("input[name='signer.name']").count() == 0 or \
        page.locator("input[name='signer.name']").get_attribute("type") == "hidden", "a name is never typed"
    if position is not None:
        assert page.locator("#f-signer-position").input_value() == position


def test_the_learner_then_the_school_sign_and_the_school_nominates_a_new_learner(
        page: Any, live_server: LiveServer, seeded: seed.DemoResult, sign_in_as: Any, screenshot: Any) -> None:
    db = live_server.db
    # The learner finds his task at once, reads the agreement and signs it.
    sign_in_as(page, demo_person("jonas.keller@learner.example"))
    assert page.locator("tr.task-row").count() == 1
    screenshot(page, "demo-learner-inbox")
    open_task(page, "Sign your Learning Agreement", JONAS)
    document = page.locator("article.document").first
    assert "Learning Agreement" in document.inner_text()
    assert "Jonas Keller" in document.inner_text()
    sign(page, "Jonas Keller")
    screenshot(page, "demo-learner-signs")
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    assert "is done" in page.locator(".flashes").inner_text()
    assert page.locator("tr.task-row").count() == 0
    page.get_by_role("button", name="Sign out").click()

    # The sending coordinator signs next (the signing order: learner, sending, hosting).
    sign_in_as(page, demo_person("coordinator@berufskolleg.example"))
    open_task(page, "Sign the Learning Agreement", JONAS)
    sign(page, "Anna Schmidt", "VET coordinator")
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    assert "is done" in page.locator(".flashes").inner_text()
    with db.transaction(write=False) as s:
        mobility = s.scalars(select(Mobility).join(Learner).where(Learner.name == "Jonas Keller")).one()
        signed = set(s.scalars(select(LaSignature.party)
                               .join(LearningAgreement, LearningAgreement.id == LaSignature.la_id)
                               .where(LearningAgreement.mobility_id == mobility.id)))
        waiting = s.scalars(select(HumanTask.bpmn_id).where(
            HumanTask.instance_id == mobility.process_instance_id, HumanTask.state == TaskState.READY)).all()
    assert signed == {"learner", "sending"}
    assert waiting == ["sign_hosting"]
    with db.transaction(write=False) as s:
        signatures = {sig.party: sig for sig in s.scalars(select(LaSignature).join(
            LearningAgreement, LearningAgreement.id == LaSignature.la_id).where(
            LearningAgreement.mobility_id == mobility.id))}
        coordinator = s.scalars(select(User).where(User.email == "coordinator@berufskolleg.example")).one()
        jonas = s.scalars(select(User).where(User.email == "jonas.keller@learner.example")).one()
    assert (signatures["learner"].signer_user_id, signatures["learner"].signer_name) == (jonas.id, "Jonas Keller")
    assert (signatures["sending"].signer_user_id, signatures["sending"].signer_position,
            signatures["sending"].signer_place) == (coordinator.id, "VET coordinator", "Köln")

    # Then she nominates Lukas, who has an account but no mobility yet.
    page.get_by_role("link", name="Start", exact=True).click()
    page.get_by_role("link", name="Nominate a learner").click()
    page.wait_for_url("**/start/mobility")
    # Köln has two MoUs in force (the bilateral one and the three-partner consortium): she picks one first.
    mous = page.get_by_label("MoU")
    mous.select_option(label=next(o for o in mous.locator("option").all_inner_texts()
                                  if o.startswith("MoU-KOELN-VALENCIA-2026")))
    page.get_by_role("button", name="Continue").click()
    start = clock.now().date() + timedelta(days=60)
    page.get_by_label("First day abroad").fill(start.isoformat())
    page.get_by_label("Last day abroad").fill((start + timedelta(days=3)).isoformat())  # too short for the MoU
    page.get_by_label("Learner's name").fill("Lukas Becker")
    page.get_by_label("Date of birth").fill("2007-02-11")
    page.get_by_label("Learner's e-mail address").fill("lukas.becker@learner.example")
    page.get_by_role("button", name="Nominate and start the mobility").click()
    assert page.locator("#error-summary").is_visible()
    assert "the MoU plans at least 3" in page.locator("#f-end_date-error").inner_text()
    screenshot(page, "demo-nominate-refused")
    page.get_by_label("Last day abroad").fill((start + timedelta(days=27)).isoformat())
    page.get_by_role("button", name="Nominate and start the mobility").click()
    page.wait_for_url("**/tasks/*")
    assert "Lukas Becker is nominated" in page.locator(".flashes").inner_text()
    assert page.locator("h1").inner_text().startswith("Prepare the Learning Agreement")
    screenshot(page, "demo-nominated")
    with db.transaction(write=False) as s:
        lukas = s.scalar(select(Mobility).join(Learner).where(Learner.name == "Lukas Becker"))
        assert lukas is not None
        assert lukas.start_date == start


def test_the_coordinator_starts_a_partnership_with_the_proposed_institutions(
        page: Any, live_server: LiveServer, seeded: seed.DemoResult, sign_in_as: Any, screenshot: Any) -> None:
    sign_in_as(page, demo_person("coordinator@berufskolleg.example"))
    page.get_by_role("link", name="Start", exact=True).click()
    screenshot(page, "demo-start")
    page.get_by_role("link", name="Start a partnership").click()
    page.get_by_label("Partner (hosting organisation)").select_option(label="Hotel Sol de Valencia")
    page.get_by_role("button", name="Continue").click()
    home, host = page.locator("#f-competent_institution_home_id"), page.locator("#f-competent_institution_host_id")
    assert "IHK Köln" in home.locator("option:checked").inner_text()
    assert "Conselleria" in host.locator("option:checked").inner_text()
    assert "may object within 20 days" in page.locator("#gate-host-model").inner_text()
    page.get_by_label("Reference").fill("Köln – València, pastry cooks")
    screenshot(page, "demo-start-partnership")
    page.get_by_role("button", name="Start the partnership").click()
    page.wait_for_url("**/tasks/*")
    assert page.locator("h1").inner_text().startswith("Describe your organisation and VET system")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    assert page.locator("tr.task-row", has_text="Köln – València, pastry cooks").count() == 1


def test_the_dutch_college_approves_the_mou_as_itself(
        page: Any, live_server: LiveServer, seeded: seed.DemoResult, sign_in_as: Any, screenshot: Any) -> None:
    """Issue 9: the approval form was pre-filled with the German coordinator who submitted the MoU, so the
    Dutch college's approval went into the evidence under her name. Now it shows, and records, the
    college's own coordinator."""
    db = live_server.db
    sign_in_as(page, demo_person("coordinator@horecacollege.example"))
    open_task(page, "Approve the MoU", "Köln – Amsterdam")
    assert page.locator("#f-signer-name").inner_text() == "Sanne de Vries"
    assert page.locator("#f-signer-email").inner_text() == "coordinator@horecacollege.example"
    assert page.locator("#f-signer-position").input_value() == "International coordinator"
    assert "Anna Schmidt" not in page.locator("form.generated-form").inner_text()
    page.get_by_role("radio", name="Approved", exact=True).check()
    page.locator("#f-signer-place").fill("Amsterdam-Zuid")
    screenshot(page, "demo-college-approves-mou")
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    with db.transaction(write=False) as s:
        sanne = s.scalars(select(User).where(User.email == "coordinator@horecacollege.example")).one()
        partnership = s.scalars(select(Partnership).join(ProcessInstance, ProcessInstance.id == Partnership.instance_id)
                                .where(ProcessInstance.business_key == "Partnership Köln – Amsterdam (cooks)")).one()
        approvals = list(s.scalars(select(MouApproval).where(MouApproval.mou_id == partnership.mou_id,
                                                             MouApproval.role == "partner")))
    college = [a for a in approvals if a.signer_user_id == sanne.id]
    assert len(college) == 1
    assert college[0].organisation_id == sanne.organisation_ids[0]
    assert (college[0].signer_name, college[0].signer_position, college[0].signer_place) == (
        "Sanne de Vries", "International coordinator", "Amsterdam-Zuid")
