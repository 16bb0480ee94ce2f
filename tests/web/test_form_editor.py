"""A process owner edits a task's form in the browser: the preview follows the schema as it is typed, an
invalid schema is refused with its errors, and saving deploys the next version with the new form."""
from __future__ import annotations

import json
from typing import Any

from engine import deployments
from engine.config import ROOT
from tests.support.modeler import TWO_LANE, deploy, watch_console
from tests.web.conftest import Demo, LiveServer

FORM = "two_lane_propose.json"


def test_owner_edits_a_form_field_sees_the_preview_and_deploys(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    deploy(live_server.db, TWO_LANE)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto("/definitions/two_lane_review")
    page.get_by_role("link", name="Edit the form of Propose placement").click()
    page.wait_for_selector("[data-form-editor][data-ready='true']")
    preview = page.locator("[data-preview]")
    assert preview.get_by_label("Placement title").count() == 1

    schema = json.loads((ROOT / "forms" / FORM).read_text())
    schema["properties"]["placement_title"]["title"] = "Name of the placement"
    schema["properties"]["weeks"]["maximum"] = 26
    page.locator("[data-schema-text]").fill(json.dumps(schema, indent=2))
    page.wait_for_selector("[data-form-editor][data-preview-state='valid']")
    assert preview.get_by_label("Name of the placement").count() == 1
    assert preview.get_by_label("Duration in weeks").get_attribute("max") == "26"

    # Not a JSON Schema: the preview says where, and saving is refused; nothing is deployed.
    broken = {**schema, "required": "placement_title"}
    page.locator("[data-schema-text]").fill(json.dumps(broken, indent=2))
    page.wait_for_selector("[data-form-editor][data-preview-state='invalid']")
    assert "required" in preview.locator(".deploy-errors").inner_text()
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-form-editor][data-last-save='refused']")
    assert "required" in page.locator("[data-deploy-result]").inner_text()
    with live_server.db.transaction(write=False) as s:
        assert len(deployments.list_definitions(s, key="two_lane_review").items) == 1

    page.locator("[data-schema-text]").fill(json.dumps(schema, indent=2))
    page.wait_for_selector("[data-form-editor][data-preview-state='valid']")
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-form-editor][data-last-save='saved']")
    assert "two_lane_review version 2" in page.locator("[data-deploy-result]").inner_text()
    screenshot(page, "form-editor")

    with live_server.db.transaction(write=False) as s:
        v1, v2 = deployments.list_definitions(s, key="two_lane_review").items
        deployed = json.loads(deployments.definition_file(s, v2, FORM))
        kept = json.loads(deployments.definition_file(s, v1, FORM))
    assert deployed["properties"]["placement_title"]["title"] == "Name of the placement"
    assert kept["properties"]["placement_title"]["title"] == "Placement title"

    # On a phone the schema and the preview stack; nothing is cut off on the right.
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    page.wait_for_selector("[data-form-editor][data-ready='true']")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot(page, "form-editor-375")
    assert problems == []
