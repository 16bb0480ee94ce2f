"""Monitors' pages through the test client: each organisation sees only its own instances, the instance
page is 404 to strangers, and operator actions are admin-only POST forms with CSRF that the audit records."""
from __future__ import annotations

import re
from typing import Any

import pytest

from bench.generate import script_process
from ecvet.partnership import mou
from tests.api.conftest import World, post_bundle
from tests.api.web.conftest import Browser, ready_task, start_two_lane
from tests.support.ecvet_factories import Party, mou_content
from tests.support.engine import actor_for

PROPOSAL = {"placement_title": "Commis chef", "start_date": "2027-03-01", "weeks": 6}


def _status(world: World, instance_id: str) -> str:
    return world.admin.get(f"/api/process-instances/{instance_id}").get_json()["status"]


def _audit_actions(world: World, instance_id: str) -> list[str]:
    return [e["action"] for e in world.admin.get(f"/api/process-instances/{instance_id}").get_json()["audit"]]


def _cell(html: str, process: str, status: str) -> str:
    """The figure in the dashboard's status table for one process and status."""
    row = re.search(rf'<tr data-process="{process}">(.*?)</tr>', html, re.S)
    assert row, html
    cell = re.search(rf'data-status="{status}">(.*?)</td>', row.group(1), re.S)
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip() if cell else "absent"


@pytest.fixture
def running(world: World) -> dict[str, str]:
    """Two instances of the sending and hosting organisations (one moved to review), none of the outsider."""
    first = start_two_lane(world, "mobility-1")
    second = start_two_lane(world, "mobility-2")
    task = ready_task(world.sender, second)
    assert world.sender.post(f"/api/tasks/{task['id']}/complete", json={"data": PROPOSAL}).status_code == 200
    return {"first": first, "second": second}


def test_dashboard_counts_only_the_viewers_instances(running: dict[str, str], world: World,
                                                     pages: dict[str, Browser]) -> None:
    response = pages["sender"].get("/monitor")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _cell(html, "two_lane_review", "waiting") == "2"
    assert "Propose placement" in html
    assert "Review placement" in html
    assert 'data-chart-source' in html
    assert 'id="counts-chart"' in html
    assert "/vendor/chart.js/chart.umd.min.js?v=" in html

    outsider = pages["outsider"].get("/monitor").get_data(as_text=True)
    assert 'data-process="two_lane_review"' not in outsider
    assert "No process instances yet." in outsider
    assert "mobility-1" not in outsider

    admin = pages["admin"].get("/monitor").get_data(as_text=True)
    assert _cell(admin, "two_lane_review", "waiting") == "2"
    assert pages["sender"].get("/monitor?days=5").status_code == 422
    assert pages["sender"].get("/monitor?days=7").status_code == 200


def test_instance_list_and_heatmap_are_scoped(running: dict[str, str], world: World,
                                              pages: dict[str, Browser]) -> None:
    listing = pages["host"].get("/monitor/instances").get_data(as_text=True)
    assert "mobility-1" in listing
    assert "mobility-2" in listing
    assert "mobility-1" not in pages["outsider"].get("/monitor/instances").get_data(as_text=True)
    assert "No process instances yet." in pages["outsider"].get("/monitor/instances").get_data(as_text=True)
    assert pages["host"].get("/monitor/instances?status=bogus").status_code == 422

    heat = pages["sender"].get("/monitor/heatmap/two_lane_review").get_data(as_text=True)
    assert re.search(r'data-element-id="propose" data-kind="task">.*?data-label="Instances">1<', heat, re.S)
    assert re.search(r'data-element-id="review" data-kind="task">.*?data-label="Instances">1<', heat, re.S)
    nothing = pages["outsider"].get("/monitor/heatmap/two_lane_review").get_data(as_text=True)
    assert "No instance of this version is waiting." in nothing
    assert pages["sender"].get("/monitor/heatmap/nope").status_code == 404


def test_instance_page_shows_highlights_to_parties_and_404_to_others(running: dict[str, str], world: World,
                                                                    pages: dict[str, Browser]) -> None:
    second = running["second"]
    response = pages["host"].get(f"/instances/{second}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = re.search(r'data-states="([^"]*)"', html)
    assert found is not None
    states = found.group(1)
    assert "&#34;propose&#34;: &#34;completed&#34;" in states
    assert "&#34;review&#34;: &#34;active&#34;" in states
    flows = re.search(r'data-flows="([^"]*)"', html)
    assert flows is not None
    assert "Flow_to_review" in flows.group(1)
    assert "task.completed" in html
    assert "Sending organisation" in html
    assert "Operator actions" not in html  # parties watch; administrators operate
    assert pages["host"].get(f"/instances/{second}/diagram.bpmn").mimetype == "application/xml"

    for url in (f"/instances/{second}", f"/instances/{second}/diagram.bpmn", "/instances/no-such-id"):
        assert pages["outsider"].get(url).status_code == 404, url


def test_operator_actions_are_admin_only_and_audited(running: dict[str, str], world: World,
                                                     pages: dict[str, Browser]) -> None:
    first = running["first"]
    sender = pages["sender"]
    sender.get(f"/instances/{first}")
    assert sender.post(f"/instances/{first}/suspend", {"reason": "no"}).status_code == 403
    assert _status(world, first) == "waiting"
    admin = pages["admin"]
    page = admin.get(f"/instances/{first}").get_data(as_text=True)
    assert "Operator actions" in page
    assert f'action="/instances/{first}/suspend"' in page
    assert admin.post(f"/instances/{first}/suspend", {"reason": "checking"}, csrf=False).status_code == 400
    assert _status(world, first) == "waiting"

    response = admin.post(f"/instances/{first}/suspend", {"reason": "checking the placement"})
    assert response.status_code == 302
    assert _status(world, first) == "suspended"
    assert "Suspended." in admin.get(f"/instances/{first}").get_data(as_text=True)
    assert admin.post(f"/instances/{first}/suspend", {}).status_code == 409
    assert admin.post(f"/instances/{first}/resume", {}).status_code == 302
    assert _status(world, first) == "waiting"
    assert admin.post(f"/instances/{first}/terminate", {"reason": "cancelled"}).status_code == 302
    assert _status(world, first) == "terminated"
    assert {"instance.suspended", "instance.resumed", "instance.terminated"} <= set(_audit_actions(world, first))
    assert "Operator actions" not in admin.get(f"/instances/{first}").get_data(as_text=True)


def test_retry_of_an_incident_from_the_instance_page(world: World, pages: dict[str, Browser]) -> None:
    assert post_bundle(world.admin, {"boom.bpmn": script_process("boom", "x = 1 / 0")}).status_code == 201
    created = world.admin.post("/api/process-instances", json={"process_key": "boom", "parties": {}})
    instance_id = created.get_json()["id"]
    (incident,) = world.admin.get(f"/api/incidents?instance_id={instance_id}").get_json()["items"]
    admin = pages["admin"]
    html = admin.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "division by zero" in html
    assert f"/incidents/{incident['id']}/retry" in html
    assert "&#34;script&#34;: &#34;failed&#34;" in html
    dashboard = admin.get("/monitor").get_data(as_text=True)
    assert 'id="incidents"' in dashboard
    assert "division by zero" in dashboard

    assert admin.post(f"/instances/other-id/incidents/{incident['id']}/retry", {}).status_code == 404
    response = admin.post(f"/instances/{instance_id}/incidents/{incident['id']}/retry", {})
    assert response.status_code == 302
    actions = _audit_actions(world, instance_id)
    assert actions.count("incident.retried") == 1
    assert actions.count("incident.raised") == 2


def test_dashboard_nav_entry_for_every_member(world: World, pages: dict[str, Browser]) -> Any:
    html = pages["outsider"].get("/tasks").get_data(as_text=True)
    assert 'href="/monitor"' in html
    assert 'href="/definitions"' not in html
    assert 'href="/definitions"' in pages["admin"].get("/tasks").get_data(as_text=True)


def test_instance_page_links_the_documents_it_holds(world: World, pages: dict[str, Browser]) -> None:
    sender_actor = actor_for(world.db, world.sender.person.id)
    host_actor = actor_for(world.db, world.host.person.id)
    sending = Party(world.sending_org, sender_actor, world.sender.person.id, world.sender.person.email)
    hosting = Party(world.hosting_org, host_actor, world.host.person.id, world.host.person.email)
    with world.db.transaction() as s:
        mou_id = mou.create_draft(s, actor=sender_actor, sending_organisation_id=world.sending_org,
                                   content=mou_content(sending, hosting)).id
    start_two_lane(world)
    created = world.sender.post("/api/process-instances", json={
        "process_key": "two_lane_review", "variables": {"mou_id": mou_id},
        "parties": {"sending": world.sending_org, "hosting": world.hosting_org}})
    instance_id = created.get_json()["id"]
    html = pages["sender"].get(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'href="/documents/mou/{mou_id}"' in html
    assert "No documents yet." not in html
