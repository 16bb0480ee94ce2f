"""The shipped Mobility process (processes/mobility.bpmn) in a real browser, under the NL national model (host in BE):
the learner signs their Learning Agreement, and the hosting mentor records the assessment with one
invalid, then a valid submission. The steps in between are driven through the services, as the
process tests do (tests/ecvet/mobility/test_workflow.py), on the live server's database."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from ecvet.mobility.models import AssessmentRecord, LaSignature
from engine.clock import FrozenClock
from engine.models import HumanTask, TaskState
from tests.support.ecvet_factories import SIGNER, Party
from tests.support.factories import PASSWORD, Person
from tests.support.mobility_driver import HOST_SIGNER, Run, Scenario, go_live, start
from tests.web.conftest import LiveServer

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def person(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


@pytest.fixture
def mobility(live_server: LiveServer, frozen: FrozenClock) -> tuple[Scenario, Run]:
    scenario = start(live_server.db, frozen, "NL", "BE")
    run = scenario.nominate("Lena Vos", date(2005, 5, 5))
    run.prepare()  # the sending school prepares the LA; the host agrees the assessment arrangements
    return scenario, run


def open_task(page: Any, run: Run, bpmn_id: str) -> str:
    (task,) = [t for t in run.ready() if t.bpmn_id == bpmn_id]
    page.locator(f'tr[data-task-id="{task.id}"] a.task-link').click()
    page.wait_for_url(f"**/tasks/{task.id}")
    return task.id


def test_learner_signs_the_learning_agreement_of_their_mobility(page: Any, mobility: tuple[Scenario, Run],
                                                                sign_in_as: Any, screenshot: Any) -> None:
    scenario, run = mobility
    la_hash = run.values("learner", "sign_learner")["la_hash"]
    sign_in_as(page, Person(run.learner.user_id, run.learner.email, PASSWORD))
    open_task(page, run, "sign_learner")
    document = page.locator("article.document").first
    assert "Learning Agreement" in document.inner_text()
    assert "Lena Vos" in document.inner_text()
    assert page.locator("#f-la_hash").input_value() == la_hash  # the exact text being signed
    page.get_by_role("radio", name="Sign", exact=True).check()
    # Who signs is shown, not asked: the signed-in learner.
    assert page.locator("#f-signer-name").inner_text() == "Lena Vos"
    assert page.locator("#f-signer-email").inner_text() == run.learner.email
    page.locator("#f-signer-place").fill("Utrecht")
    screenshot(page, "task-page-mobility-sign")
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    assert "is done" in page.locator(".flashes").inner_text()

    with scenario.db.transaction(write=False) as s:
        (signature,) = s.scalars(select(LaSignature).where(LaSignature.party == "learner")).all()
    assert (signature.content_hash, signature.signer_user_id, signature.signer_name, signature.signer_place) == (
        la_hash, run.learner.user_id, "Lena Vos", "Utrecht")
    assert run.open_steps() == {"sign_sending"}  # next in the signing order


def test_hosting_mentor_records_the_assessment_after_one_invalid_submission(
        page: Any, mobility: tuple[Scenario, Run], frozen: FrozenClock, sign_in_as: Any, screenshot: Any) -> None:
    scenario, run = mobility
    run.sign("sign_learner", "learner")
    run.sign("sign_sending", "sending", SIGNER)
    run.sign("sign_hosting", "hosting", HOST_SIGNER)
    go_live(scenario)
    frozen.set(datetime(2027, 4, 5, 10, 0, tzinfo=UTC))
    values = run.values("hosting", "checkpoint")
    run.complete("hosting", "checkpoint", {"la_hash": values["la_hash"], "decision": "assess"})
    assert run.open_steps() == {"record_assessment"}

    sign_in_as(page, person(scenario.hosting))
    task_id = open_task(page, run, "record_assessment")
    assert "U1" in page.locator("#f-la_units").inner_text()  # the units to assess, read-only
    sheet = page.locator("#f-assessments-0")
    # The units are picked from the Learning Agreement's, not typed.
    unit_choices = sheet.locator("#f-assessments-0-unit").get_by_role("radio")
    assert [c.get_attribute("value") for c in unit_choices.all()] == ["U1", "U2"]
    sheet.get_by_role("radio", name="U1", exact=False).check()
    sheet.get_by_label("Method").select_option("practical_task")
    # Who assessed is suggested from the assessors the Learning Agreement names (typing stays possible).
    assessor = page.locator("#f-assessments-0-assessor-name")
    offered = page.locator(f"datalist#{assessor.get_attribute('list')} option")
    assert [o.get_attribute("value") for o in offered.all()] == ["Javier Ruiz"]
    assessor.fill("Javier Ruiz")
    where = page.locator("#f-assessments-0-assessor-organisation")
    assert page.locator(f"datalist#{where.get_attribute('list')} option").count() == 2  # sending and hosting
    page.locator("#f-assessments-0-assessor-organisation").fill("Hotel Sol")
    sheet.get_by_role("radio", name="Achieved", exact=True).check()
    page.get_by_role("button", name="Complete task", exact=True).click()  # no criteria, no date: refused

    assert page.locator("#error-summary").is_visible()
    assert "This field is required" in page.locator("#f-assessments-0-criteria-error").inner_text()
    assert "This field is required" in page.locator("#f-assessments-0-date-error").inner_text()
    screenshot(page, "task-page-mobility-assessment-errors")
    assert {t.id for t in run.ready()} == {task_id}

    sheet = page.locator("#f-assessments-0")
    sheet.get_by_label("Assessment criteria").fill("Prepares three cold starters to recipe within the hour")
    sheet.get_by_label("Date of the assessment").fill("2027-04-05")
    # A result per learning outcome of the unit, as the Learning Agreement states it.
    sheet.get_by_role("button", name="Add a learning outcome").click()
    outcome = page.locator("#f-assessments-0-outcomes-0")
    outcome.get_by_label("Learning outcome").fill("Prepares cold starters to recipe")
    outcome.get_by_role("radio", name="Achieved", exact=True).check()
    page.get_by_role("button", name="Add another assessment sheet").click()
    second = page.locator("#f-assessments-1")
    second.get_by_role("radio", name="U2", exact=False).check()
    second.get_by_label("Assessment criteria").fill("Applies the hygiene plan")
    second.get_by_label("Method").select_option("observation")
    # The mentor assessed U2 herself: no assessor typed, the sheet names the signed-in mentor.
    second.get_by_label("Date of the assessment").fill("2027-04-05")
    second.get_by_role("radio", name="Not achieved").first.check()
    second.get_by_role("button", name="Add a learning outcome").click()
    outcome = page.locator("#f-assessments-1-outcomes-0")
    outcome.get_by_label("Learning outcome").fill("Knows the HACCP principles")
    outcome.get_by_role("radio", name="Not achieved").check()
    page.get_by_role("button", name="Complete task", exact=True).click()
    page.wait_for_url("**/tasks")
    assert "is done" in page.locator(".flashes").inner_text()

    with scenario.db.transaction(write=False) as s:

        done = s.get(HumanTask, task_id)
        assert done is not None
        assert done.state == TaskState.COMPLETED
        sheets = {r.unit_code: r for r in s.scalars(select(AssessmentRecord).where(
            AssessmentRecord.mobility_id == run.mobility_id))}
    assert {r.signer_user_id for r in sheets.values()} == {scenario.hosting.user_id}
    assert (sheets["U1"].assessor_name, sheets["U2"].assessor_name) == ("Javier Ruiz", "Javier Ruiz")
    assert sheets["U2"].assessor_organisation == "Hotel Sol"
    assert sheets["U2"].assessor_role == "Coordinator"
    assert run.open_steps() == {"acknowledge_assessment"}  # the learner acknowledges next
