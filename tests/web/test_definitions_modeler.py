"""A process owner edits a diagram in the browser's bpmn-js modeler and deploys it as a new version; an
invalid edit comes back with the engine's error on the element it concerns, and nothing is deployed."""
from __future__ import annotations

from typing import Any

from ecvet.national_models import service
from engine import deployments
from engine.config import ROOT
from engine.db import Database
from tests.support.modeler import TWO_LANE, deploy, watch_console
from tests.web.conftest import Demo, LiveServer

DMN = ROOT / "processes" / "national_models.dmn"
USES_TABLE = ROOT / "tests" / "fixtures" / "modeling" / "uses_national_model.bpmn"


def versions(db: Database, key: str) -> list[Any]:
    with db.transaction(write=False) as s:
        return deployments.list_definitions(s, key=key).items


RENAME_REVIEW = """() => {
  const modeler = window.ecvetModeler;
  const review = modeler.get('elementRegistry').get('review');
  modeler.get('modeling').updateLabel(review, 'Check the placement');
}"""

BREAK_SCRIPT = """() => {
  const modeler = window.ecvetModeler;
  const task = modeler.get('elementRegistry').get('record_rejection');
  modeler.get('modeling').updateProperties(task, { script: 'rejected = (' });
}"""


def test_owner_renames_a_task_in_the_modeler_and_deploys_version_2(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    deploy(live_server.db, TWO_LANE)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.get_by_role("link", name="Process definitions").click()
    page.get_by_role("link", name="Two-lane review").click()
    page.get_by_role("link", name="Edit the latest version in the modeler").click()
    page.wait_for_selector("[data-bpmn-modeler][data-rendered='true']")
    assert page.locator("g.djs-element[data-element-id='review']").count() == 1

    page.evaluate(RENAME_REVIEW)
    assert "Check the placement" in page.locator("g.djs-element[data-element-id='review']").text_content()
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-bpmn-modeler][data-last-save='saved']")
    result = page.locator("[data-deploy-result]")
    assert "Deployed: two_lane_review version 2." in result.inner_text()
    assert page.locator("[data-current-version]").inner_text() == "2"  # the page now edits version 2
    screenshot(page, "modeler")

    (v1, v2) = versions(live_server.db, "two_lane_review")
    assert v2.version == 2
    assert [t["name"] for t in v2.user_tasks] == ["Propose placement", "Check the placement"]
    assert [t["name"] for t in v1.user_tasks] == ["Propose placement", "Review placement"]

    # An edit the engine refuses: the error is listed and drawn on its element; nothing is deployed.
    page.evaluate(BREAK_SCRIPT)
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-bpmn-modeler][data-last-save='refused']")
    error = page.locator("[data-deploy-result] li[data-element-id='record_rejection']")
    assert "not valid Python" in error.inner_text()
    assert page.locator("g.djs-element.deploy-error[data-element-id='record_rejection']").count() == 1
    assert page.locator("[data-error-element='record_rejection']").is_visible()
    error.get_by_role("button").click()  # shows the element: the modeler selects it
    assert page.locator("g.djs-element.selected[data-element-id='record_rejection']").count() == 1
    screenshot(page, "modeler-error")
    assert [d.version for d in versions(live_server.db, "two_lane_review")] == [1, 2]

    page.goto("/definitions/two_lane_review/versions/2")
    page.wait_for_selector("[data-bpmn-viewer][data-rendered='true']")
    assert "Check the placement" in page.locator("g.djs-element[data-element-id='review']").text_content()
    assert problems == []


def test_owner_edits_the_national_models_table(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    deploy(live_server.db, USES_TABLE, DMN)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto("/definitions")
    page.get_by_role("link", name="national_models.dmn").click()
    page.wait_for_selector("[data-dmn-editor][data-rendered='true']")
    assert page.locator(".tjs-table").count() == 1  # the decision table view, not the diagram
    assert page.get_by_text('"ES"').first.is_visible()

    # A typo in an answer: dmn-js accepts it, the engine accepts it, the platform cannot act on it.
    page.evaluate("""() => {
      const decision = window.ecvetDmn.getActiveView().element;
      const rule = decision.decisionLogic.rule.find(r => r.inputEntry[0].text === '"ES"');
      const cell = rule.outputEntry.find(e => e.text === '"implicit"');
      window.ecvetDmn.getActiveViewer().get('modeling').editCell(cell, '"implict"');
    }""")
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-dmn-editor][data-last-save='refused']")
    assert "implict" in page.locator("[data-deploy-result]").inner_text()
    assert len(versions(live_server.db, "uses_national_model")) == 1

    page.evaluate("""() => {
      const decision = window.ecvetDmn.getActiveView().element;
      const rule = decision.decisionLogic.rule.find(r => r.inputEntry[0].text === '"ES"');
      const cell = rule.outputEntry.find(e => e.text === '"implict"');
      window.ecvetDmn.getActiveViewer().get('modeling').editCell(cell, '"explicit"');
    }""")
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-dmn-editor][data-last-save='saved']")
    assert "uses_national_model version 2" in page.locator("[data-deploy-result]").inner_text()
    screenshot(page, "decision-table")

    with live_server.db.transaction(write=False) as s:
        assert service.decide("ES", session=s).mou_approval == "explicit"
    assert problems == []
