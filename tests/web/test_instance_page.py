"""An instance's page in a real browser: its diagram with completed, active and failed elements highlighted
(bpmn-js markers on the SVG), the taken flows, the parties and the audit trail; the operator suspends it."""
from __future__ import annotations

from typing import Any

from engine import deployments, instances
from engine.config import ROOT
from tests.support.dashboard import PROPOSAL, admin_actor, complete_ready, start
from tests.support.modeler import TWO_LANE, deploy, watch_console
from tests.web.conftest import Demo, LiveServer


def test_instance_diagram_highlights_completed_and_active_elements(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    db = live_server.db
    deploy(db, TWO_LANE)
    instance_id = start(db, demo, "mobility-7")
    complete_ready(db, demo, instance_id, PROPOSAL)
    problems = watch_console(page)
    sign_in_as(page, demo.mentor)
    page.goto(f"/instances/{instance_id}")
    page.wait_for_selector("#instance-diagram[data-rendered='true']")

    def marked(state: str) -> list[str]:
        return sorted(page.eval_on_selector_all(
            f"#instance-diagram g.djs-element.hl-{state}", "els => els.map(e => e.dataset.elementId)"))

    assert marked("completed") == ["StartEvent_proposal", "propose"]
    assert marked("active") == ["review"]
    assert marked("flow-taken") == ["Flow_to_propose", "Flow_to_review"]
    assert marked("failed") == []
    # The highlight changes what is drawn: the active task's shape takes the "active" colour.
    stroke = page.eval_on_selector("g.djs-element.hl-active[data-element-id='review'] .djs-visual > rect",
                                   "el => getComputedStyle(el).stroke")
    assert stroke == "rgb(31, 78, 140)"
    assert "Review placement" in page.locator("#element-states dd[data-state='active']").inner_text()
    assert "Hosting organisation" in page.locator("#parties").inner_text()
    assert "task.completed" in page.locator("#audit").inner_text()
    assert page.get_by_role("link", name="Review placement").is_visible()  # the mentor's own task
    assert page.get_by_text("Operator actions").count() == 0
    screenshot(page, "instance")
    assert problems == []

    # Another organisation cannot open it by URL.
    page.context.clear_cookies()
    sign_in_as(page, demo.outsider)
    response = page.goto(f"/instances/{instance_id}")
    assert response is not None
    assert response.status == 404


def test_failed_element_is_highlighted_and_the_operator_suspends(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    """A rejection whose script fails: the script task is drawn as failed, the incident listed."""
    failing = (TWO_LANE.read_bytes()
               .replace(b"<bpmn:script>rejected = True</bpmn:script>", b"<bpmn:script>rejected = 1 / 0</bpmn:script>")
               .replace(b'id="two_lane_review"', b'id="two_lane_failing"')
               .replace(b'processRef="two_lane_review"', b'processRef="two_lane_failing"'))
    db = live_server.db
    with db.transaction() as s:
        deployments.deploy(s, actor=None, files={"two_lane_failing.bpmn": failing}, forms_dir=ROOT / "forms")
    with db.transaction() as s:
        instance_id = instances.start(s, actor=admin_actor(db, demo), process_key="two_lane_failing",
                                      parties={"sending": demo.sending_org, "hosting": demo.hosting_org}).id
    complete_ready(db, demo, instance_id, PROPOSAL)
    complete_ready(db, demo, instance_id, {"accepted": False, "comment": "No room in March"})

    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto(f"/instances/{instance_id}")
    page.wait_for_selector("#instance-diagram[data-rendered='true']")
    assert page.locator("#instance-diagram g.djs-element.hl-failed[data-element-id='record_rejection']").count() == 1
    assert page.locator("#instance-diagram g.djs-element.hl-completed[data-element-id='review']").count() == 1
    assert "division by zero" in page.locator("#incident-list").inner_text()
    screenshot(page, "instance-failed")

    page.get_by_label("Reason for suspending").fill("Investigating the failed rejection")
    page.get_by_role("button", name="Suspend").click()
    page.wait_for_selector("[data-instance-status='suspended']")
    assert "Suspended." in page.locator(".flashes").inner_text()
    assert "instance.suspended" in page.locator("#audit").inner_text()
    assert page.get_by_role("button", name="Resume").is_visible()
    assert problems == []
