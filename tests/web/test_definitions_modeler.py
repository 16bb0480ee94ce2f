"""A process owner edits a diagram in the browser's bpmn-js modeler and deploys it as a new version; an
invalid edit comes back with the engine's error on the element it concerns, and nothing is deployed. The
properties panel edits what the engine reads (a user task's form file, a gateway condition), and the
diagrams of the modeler, the version and the instance pages zoom and fit."""
from __future__ import annotations

import json
import re
from typing import Any

from engine import deployments
from engine.config import ROOT
from engine.db import Database
from tests.support.dashboard import start
from tests.support.modeler import TWO_LANE, deploy, watch_console
from tests.web.conftest import Demo, LiveServer

DMN = ROOT / "processes" / "national_models.dmn"
DEADLINE = ROOT / "processes" / "signature_deadline.bpmn"


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
    assert "Record rejection" in page.locator("[data-properties-panel] .bio-properties-panel-header").inner_text()
    error.get_by_role("button").click()  # shows the element: the modeler selects it
    assert page.locator("g.djs-element.selected[data-element-id='record_rejection']").count() == 1
    screenshot(page, "modeler-error")
    assert [d.version for d in versions(live_server.db, "two_lane_review")] == [1, 2]

    page.goto("/definitions/two_lane_review/versions/2")
    page.wait_for_selector("[data-bpmn-viewer][data-rendered='true']")
    assert "Check the placement" in page.locator("g.djs-element[data-element-id='review']").text_content()
    assert problems == []


FORM_PROPERTY = """() => {
  const task = window.ecvetModeler.get('elementRegistry').get('review').businessObject;
  const props = task.extensionElements.values.find(v => v.$type === 'spiffworkflow:Properties');
  return props.properties.find(p => p.name === 'formJsonSchemaFilename').value;
}"""
CONDITION = """() => {
  const flow = window.ecvetModeler.get('elementRegistry').get('Flow_accepted').businessObject;
  return flow.conditionExpression ? flow.conditionExpression.body : null;
}"""
SCALE = "() => window.ecvetModeler.get('canvas').zoom()"


def open_group(page: Any, label: str) -> None:
    header = page.locator("[data-properties-panel] .bio-properties-panel-group-header", has_text=label)
    if "open" not in (header.get_attribute("class") or "").split():
        header.click()


def api_get(page: Any, token: str, path: str) -> Any:
    response = page.request.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200, response.text()
    return response


def test_owner_changes_a_form_file_and_a_condition_in_the_properties_panel_and_deploys(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    deploy(live_server.db, TWO_LANE)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto("/definitions/two_lane_review/modeler")
    page.wait_for_selector("[data-bpmn-modeler][data-rendered='true']")

    # The whole diagram is in view beside the palette, not under it; zoom in and fit work.
    palette = page.locator(".djs-palette").bounding_box()
    pool = page.locator("g.djs-element[data-element-id='Participant_two_lane_review']").bounding_box()
    canvas = page.locator("[data-modeler-canvas]").bounding_box()
    assert pool["x"] >= palette["x"] + palette["width"]
    assert pool["x"] + pool["width"] <= canvas["x"] + canvas["width"]
    assert canvas["height"] >= 500
    minimap = page.locator(".djs-minimap.open").bounding_box()
    assert pool["y"] >= minimap["y"] + minimap["height"]  # nor under the minimap
    fitted = page.evaluate(SCALE)
    page.get_by_role("button", name="Zoom in").click()
    assert page.evaluate(SCALE) > fitted
    page.get_by_role("button", name="Fit the whole diagram").click()
    assert abs(page.evaluate(SCALE) - fitted) < 0.01

    # The review task: its form file, changed in the panel.
    page.locator("g.djs-element[data-element-id='review']").click()
    panel = page.locator("[data-properties-panel]")
    assert "Review placement" in panel.locator(".bio-properties-panel-header").inner_text()
    open_group(page, "Form and instructions")
    # A choice among the version's form files, with "Other…" for a name typed (and checked) by hand.
    form = panel.get_by_label("Form file (JSON Schema)")
    assert form.input_value() == "two_lane_review.json"
    choices = form.locator("option").all_inner_texts()
    assert {"two_lane_review.json", "two_lane_propose.json", "Other…"} <= set(choices)
    form.select_option(label="Other…")
    other = panel.get_by_label("Other form file name")
    other.fill("../review form.txt")  # what the engine would refuse is refused on the field, not applied
    error = panel.locator("[data-entry-id='spiff-formJsonSchemaFilename-other'] .bio-properties-panel-error")
    assert "ending in .json" in error.inner_text()
    assert page.evaluate(FORM_PROPERTY) == "two_lane_review.json"
    form.select_option("two_lane_propose.json")
    page.wait_for_function(f"() => ({FORM_PROPERTY})() === 'two_lane_propose.json'")
    assert other.count() == 0  # a file of the bundle needs no typing

    # The gateway's "Yes" flow: its condition, changed in the panel.
    page.locator("g.djs-element[data-element-id='Flow_accepted_label']").click()
    open_group(page, "Condition")
    condition = panel.get_by_label("Condition (Python expression)")
    assert condition.input_value() == "accepted"
    condition.fill("accepted is True")
    page.wait_for_function(f"() => ({CONDITION})() === 'accepted is True'")
    screenshot(page, "modeler-properties", full_page=False)

    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-bpmn-modeler][data-last-save='saved']")
    assert "Deployed: two_lane_review version 2." in page.locator("[data-deploy-result]").inner_text()

    # Through the API: version 2 has both changes, version 1 neither.
    answer = page.request.post("/api/tokens", data={"email": demo.admin.email, "password": demo.admin.password})
    token = answer.json()["token"]
    v2 = api_get(page, token, "/api/process-definitions/two_lane_review?version=2").json()
    assert {t["bpmn_id"]: t["form"] for t in v2["user_tasks"]}["review"] == "two_lane_propose.json"
    xml = api_get(page, token, "/api/process-definitions/two_lane_review/versions/2/files/two_lane_review.bpmn").text()
    assert 'id="Flow_accepted"' in xml
    assert ">accepted is True</bpmn:conditionExpression>" in xml
    v1 = api_get(page, token, "/api/process-definitions/two_lane_review?version=1").json()
    assert {t["bpmn_id"]: t["form"] for t in v1["user_tasks"]}["review"] == "two_lane_review.json"

    # The same diagram with zoom controls on the version page and on an instance's page.
    page.goto("/definitions/two_lane_review/versions/2")
    page.wait_for_selector("[data-bpmn-viewer][data-rendered='true']")
    viewer_scale = "() => document.querySelector('[data-bpmn-viewer]').ecvetViewer.get('canvas').zoom()"
    fitted = page.evaluate(viewer_scale)
    page.get_by_role("button", name="Zoom out").click()
    assert page.evaluate(viewer_scale) < fitted
    instance_id = start(live_server.db, demo, "placement-1")
    page.goto(f"/instances/{instance_id}")
    page.wait_for_selector("#instance-diagram[data-rendered='true']")
    assert page.get_by_role("button", name="Fit the whole diagram").is_enabled()
    assert problems == []


def holds(element_id: str, expression: str, expected: Any) -> str:
    """JavaScript: true once `expression` on the element's business object (bo) in the modeler is `expected`."""
    return f"() => {{ const bo = window.ecvetModeler.get('elementRegistry').get('{element_id}').businessObject; " \
           f"return ({expression}) === {json.dumps(expected)}; }}"


def test_owner_changes_a_timer_instructions_and_a_lane_role_in_the_properties_panel(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any
) -> None:
    deploy(live_server.db, DEADLINE)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto("/definitions/signature_deadline/modeler")
    page.wait_for_selector("[data-bpmn-modeler][data-rendered='true']")
    panel = page.locator("[data-properties-panel]")

    page.locator("g.djs-element[data-element-id='Timer_deadline']").click()
    open_group(page, "Timer")
    assert panel.get_by_label("Kind of timer").input_value() == "timeDuration"
    when = panel.get_by_label("When (Python expression)")
    assert when.input_value() == '"PT2S"'
    when.fill('"PT48H"')
    page.wait_for_function(holds("Timer_deadline", "bo.eventDefinitions[0].timeDuration.body", '"PT48H"'))

    page.locator("g.djs-element[data-element-id='follow_up']").click()
    open_group(page, "Form and instructions")
    panel.get_by_label("Instructions for the person doing the task").fill("Call the school and record the answer.")
    page.wait_for_function(holds("follow_up", "bo.extensionElements.values.find(v => v.value).value",
                                 "Call the school and record the answer."))

    lane = page.locator("g.djs-element[data-element-id='Lane_ci']").bounding_box()
    page.mouse.click(lane["x"] + lane["width"] - 30, lane["y"] + lane["height"] / 2)  # an empty spot of the lane
    assert "Competent institution" in panel.locator(".bio-properties-panel-header").inner_text()
    open_group(page, "Role")
    panel.get_by_label("Role key").fill("competent-institution-home")
    page.wait_for_function(holds("Lane_ci", "bo.extensionElements?.values[0].properties[0].value",
                                 "competent-institution-home"))

    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-bpmn-modeler][data-last-save='saved']")
    token = page.request.post("/api/tokens", data={"email": demo.admin.email,
                                                   "password": demo.admin.password}).json()["token"]
    v2 = api_get(page, token, "/api/process-definitions/signature_deadline?version=2").json()
    follow_up = next(t for t in v2["user_tasks"] if t["bpmn_id"] == "follow_up")
    assert follow_up["instructions"] == "Call the school and record the answer."
    assert follow_up["role"] == "competent-institution-home"
    xml = api_get(page, token, "/api/process-definitions/signature_deadline/versions/2/files/signature_deadline.bpmn")
    assert '"PT48H"</bpmn:timeDuration>' in xml.text()
    assert problems == []


REVIEW = ROOT / "processes" / "review.bpmn"


def test_owner_adds_a_service_parameter_and_a_correlation_in_the_properties_panel(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any
) -> None:
    deploy(live_server.db, REVIEW)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto("/definitions/review/modeler")
    page.wait_for_selector("[data-bpmn-modeler][data-rendered='true']")
    panel = page.locator("[data-properties-panel]")

    page.locator("g.djs-element[data-element-id='record_revision']").click()
    open_group(page, "Service")
    assert panel.get_by_label("Operator (connector)").input_value() == "review.revision_done"
    parameters = panel.locator(".bio-properties-panel-group", has_text="Parameters")
    parameters.get_by_title("Create new list item").click()
    item = panel.locator("[data-entry-id='spiff-parameter-2']")
    item.get_by_label("Name").fill("mou_hash")
    item.get_by_label("Value").fill('mou_revision["mou_hash"]')
    page.wait_for_function(holds("record_revision", "bo.extensionElements.values[0].parameterList.parameters[2].value",
                                 'mou_revision["mou_hash"]'))

    # A property no group names (spiff-arena models carry their own) is kept and editable too.
    others = panel.locator(".bio-properties-panel-group", has_text="Other properties")
    others.get_by_title("Create new list item").click()
    other = panel.locator("[data-entry-id='spiff-property-0']")
    other.get_by_label("Name").fill("owner")
    other.get_by_label("Value").fill("school")
    page.wait_for_function(holds(
        "record_revision", "bo.extensionElements.values[1].properties.map(p => p.name + '=' + p.value).join()",
        "retries=3,owner=school"))

    page.locator("g.djs-element[data-element-id='Catch_mou_revised']").click()
    assert panel.get_by_label("Variable receiving the payload").input_value() == "mou_revision"
    correlations = panel.locator(".bio-properties-panel-group", has_text="Correlation")
    correlations.get_by_title("Create new list item").click()
    added = panel.locator("[data-entry-id='spiff-correlation-1']")
    added.get_by_label("Correlation property").fill("mou_id")
    added.get_by_label("Value in this instance").fill("mou_id")
    page.wait_for_function(holds(
        "Catch_mou_revised",
        "bo.eventDefinitions[0].extensionElements.values.filter(v => v.propertyId === 'mou_id').length", 1))

    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-bpmn-modeler][data-last-save='saved']")
    token = page.request.post("/api/tokens", data={"email": demo.admin.email,
                                                   "password": demo.admin.password}).json()["token"]
    xml = api_get(page, token, "/api/process-definitions/review/versions/2/files/review.bpmn").text()
    assert '<spiffworkflow:parameter id="mou_hash" type="str" value="mou_revision[&#34;mou_hash&#34;]"' in xml
    assert "<spiffworkflow:propertyId>mou_id</spiffworkflow:propertyId>" in xml
    assert '<spiffworkflow:property name="owner" value="school" />' in xml
    assert problems == []


def test_saving_the_shipped_processes_unchanged_keeps_every_extension(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any
) -> None:
    """The moddle description round-trips what the engine reads: each shipped process, opened and saved
    without an edit, deploys as a version with the same user tasks and the same spiffworkflow elements."""
    processes = ROOT / "processes"
    deploy(live_server.db, processes / "mobility.bpmn", processes / "partnership.bpmn", REVIEW, DMN)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    token = page.request.post("/api/tokens", data={"email": demo.admin.email,
                                                   "password": demo.admin.password}).json()["token"]
    for key, diagram in (("mobility", "mobility.bpmn"), ("partnership", "partnership.bpmn"), ("review", "review.bpmn")):
        page.goto(f"/definitions/{key}/modeler")
        page.wait_for_selector("[data-bpmn-modeler][data-rendered='true']")
        if key == "partnership":  # an error's payload, shown where the error is thrown
            page.evaluate("""() => { const m = window.ecvetModeler;
              m.get('selection').select(m.get('elementRegistry').get('EndEvent_hosting_rejected')); }""")
            open_group(page, "Payload")
            thrown = page.locator("[data-properties-panel]").get_by_label("Payload (thrown)").input_value()
            assert thrown == '{"comment": comment, "version": mou_version}'
        page.get_by_role("button", name="Save as new version").click()
        page.wait_for_selector("[data-bpmn-modeler][data-last-save='saved']")
        v1, v2 = (api_get(page, token, f"/api/process-definitions/{key}?version={n}").json() for n in (1, 2))
        assert v2["user_tasks"] == v1["user_tasks"], key
        tags = [re.findall(r"<spiffworkflow:(\w+)", api_get(
            page, token, f"/api/process-definitions/{key}/versions/{n}/files/{diagram}").text()) for n in (1, 2)]
        assert sorted(tags[1]) == sorted(tags[0]), key
        if key == "partnership":  # a multi-instance's loop variable, which bpmn-js alone drops on import
            saved = api_get(page, token, f"/api/process-definitions/{key}/versions/2/files/{diagram}").text()
            assert ">mou_other_partners</bpmn:loopDataInputRef>" in saved
    assert problems == []


def test_the_modeler_says_so_when_its_libraries_cannot_be_loaded(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any
) -> None:
    deploy(live_server.db, TWO_LANE)
    sign_in_as(page, demo.admin)
    page.route("**/vendor-modules/**", lambda route: route.abort())  # as before `npm ci`
    page.goto("/definitions/two_lane_review/modeler")
    page.wait_for_selector("[data-bpmn-modeler][data-render-error]")
    assert "Upload a BPMN file below instead" in page.locator("[data-diagram-status]").inner_text()
    assert page.get_by_text("Upload a BPMN file instead").is_visible()


def test_the_modeler_and_its_panel_speak_the_readers_language(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any
) -> None:
    """The properties panel's own words (through the translate service), the form file picker and the
    deploy answer come from the catalogue: a German reader reads German."""
    deploy(live_server.db, TWO_LANE)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.goto("/definitions/two_lane_review/modeler")
    page.wait_for_selector("[data-bpmn-modeler][data-rendered='true']")
    intro = page.locator(".page-head p.muted").first
    assert intro.inner_text().startswith("Bearbeitet wird Version 1 (two_lane_review.bpmn).")
    assert intro.locator("[data-next-version]").inner_text() == "2"
    page.locator("g.djs-element[data-element-id='review']").click()
    panel = page.locator("[data-properties-panel]")
    titles = panel.locator(".bio-properties-panel-group-header-title").all_inner_texts()
    assert {"Allgemein", "Dokumentation", "Formular und Anweisungen"} <= set(titles)
    assert not {"General", "Documentation"} & set(titles)
    add = panel.locator("[data-group-id='group-spiff-properties'] .bio-properties-panel-add-entry")
    assert add.get_attribute("title") == "Neuen Listeneintrag anlegen"
    open_group(page, "Formular und Anweisungen")
    choices = panel.get_by_label("Formulardatei (JSON Schema)").locator("option").all_inner_texts()
    assert {"Andere…", "two_lane_review.json"} <= set(choices)

    page.get_by_role("button", name="Als neue Version speichern").click()
    page.wait_for_selector("[data-bpmn-modeler][data-last-save='saved']")
    answer = page.locator("[data-deploy-result] .deploy-versions").inner_text()
    assert re.search(r"two_lane_review Version \d \((neu|unverändert: gleicher Inhalt)\)", answer), answer
    assert problems == []
