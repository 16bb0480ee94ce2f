"""The monitor's dashboard and heatmap in a real browser: the chart is drawn from the figures, the heatmap
puts the number of waiting instances on the element where they wait; a phone-width dashboard works too."""
from __future__ import annotations

from typing import Any

from tests.support.dashboard import PROPOSAL, complete_ready, start
from tests.support.modeler import TWO_LANE, deploy, watch_console
from tests.web.conftest import Demo, LiveServer


def three_mobilities(live_server: LiveServer, demo: Demo) -> list[str]:
    """Two instances wait at 'Propose placement', one at 'Review placement'."""
    db = live_server.db
    deploy(db, TWO_LANE)
    ids = [start(db, demo, f"mobility-{n}") for n in (1, 2, 3)]
    complete_ready(db, demo, ids[2], PROPOSAL)
    return ids


def test_dashboard_draws_the_chart_and_counts_the_coordinators_instances(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    three_mobilities(live_server, demo)
    problems = watch_console(page)
    sign_in_as(page, demo.coordinator)
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_selector("canvas[data-chart-target][data-rendered='true']")
    assert page.locator("[data-figure='open']").inner_text() == "3"
    row = page.locator("#by-status tr[data-process='two_lane_review']")
    assert row.locator("td[data-status='waiting']").inner_text() == "3"
    phases = page.locator("#by-phase").inner_text()
    assert "Propose placement" in phases
    assert "Review placement" in phases
    box = page.locator("#counts-chart").bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 100
    screenshot(page, "dashboard")
    page.get_by_text("Figures per day (table)").click()
    assert page.locator("#counts-table tbody tr").count() == 30
    assert page.locator("#counts-table tbody tr").last.locator("td").first.inner_text() == "3"

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("canvas[data-chart-target][data-rendered='true']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(page, "dashboard-phone")
    assert problems == []

    # The outsider's dashboard is empty: nothing of the mobility is theirs.
    page.context.clear_cookies()
    sign_in_as(page, demo.outsider)
    page.goto("/monitor")
    assert page.get_by_text("No process instances yet.").is_visible()


def test_heatmap_shows_the_count_on_the_waiting_element(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    three_mobilities(live_server, demo)
    problems = watch_console(page)
    sign_in_as(page, demo.admin)
    page.goto("/monitor")
    page.locator("#by-status").get_by_role("link", name="Heatmap").click()
    page.wait_for_selector("[data-bpmn-viewer][data-rendered='true']")
    assert page.locator("[data-heat-element='propose']").inner_text() == "2"
    assert page.locator("[data-heat-element='review']").inner_text() == "1"
    assert page.locator("g.djs-element.heat-5[data-element-id='propose']").count() == 1
    assert page.locator("g.djs-element.heat-3[data-element-id='review']").count() == 1
    assert page.locator("[data-heat-element='StartEvent_proposal']").count() == 0
    table = page.locator("#heat-table tr[data-element-id='propose']").inner_text()
    assert "Propose placement" in table
    assert "2" in table
    screenshot(page, "heatmap")
    assert problems == []
