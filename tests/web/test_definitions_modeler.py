"""A process owner edits a diagram in the browser's bpmn-js modeler and deploys it as a new version; an
invalid edit comes back with the engine's error on the element it concerns, and nothing is deployed."""
from __future__ import annotations

from typing import Any

from engine import deployments
from engine.db import Database
from tests.support.modeler import TWO_LANE, deploy, watch_console
from tests.web.conftest import Demo, LiveServer


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

