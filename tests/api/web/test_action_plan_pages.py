"""Action-plan items updated on their own page: owners and the sending organisation move them on, the
other parties read them, outsiders get 404, and bad input is refused with nothing saved."""
from __future__ import annotations

from typing import Any

from flask import Flask

from tests.api.conftest import Reviewed
from tests.api.web.conftest import Browser, browser_for


def _plan(r: Reviewed) -> dict[str, Any]:
    plan: dict[str, Any] = r.sender.get(f"/api/reviews/{r.review_id}").get_json()["action_plan"]
    return plan


def _page(app: Flask, who: Any) -> Browser:
    return browser_for(app, who.person)


def test_the_owner_updates_an_action_on_its_page(app: Flask, reviewed: Reviewed) -> None:
    r = reviewed
    plan = _plan(r)
    hosting_item, sending_item, _ = (i["id"] for i in plan["items"])
    host = _page(app, r.host)

    document = host.get(f"/documents/action-plan/{plan['id']}").get_data(as_text=True)
    assert f'href="/action-plans/{plan["id"]}"' in document  # reachable from the action plan

    listing = host.get(f"/action-plans/{plan['id']}").get_data(as_text=True)
    assert f'href="/action-plans/{plan["id"]}/items/{hosting_item}"' in listing
    assert "Update action 1" in listing  # the host owns action 1...
    assert "Open action 2" in listing  # ...and only reads the sending organisation's

    url = f"/action-plans/{plan['id']}/items/{hosting_item}"
    page = host.get(url).get_data(as_text=True)
    assert 'name="status"' in page
    assert "In progress" in page
    saved = host.post(url, {"status": "done", "note": "Template changed"})
    assert saved.status_code == 302
    assert "The action is saved as “Done”." in host.get(saved.headers["Location"]).get_data(as_text=True)
    item = next(i for i in _plan(r)["items"] if i["id"] == hosting_item)
    assert (item["status"], item["status_note"]) == ("done", "Template changed")

    # Not the owner: read only, and a post is refused by the service.
    other = f"/action-plans/{plan['id']}/items/{sending_item}"
    assert 'name="status"' not in host.get(other).get_data(as_text=True)
    assert host.post(other, {"status": "done"}).status_code == 403
    assert next(i for i in _plan(r)["items"] if i["id"] == sending_item)["status"] == "open"


def test_bad_input_is_refused_and_outsiders_see_nothing(app: Flask, reviewed: Reviewed) -> None:
    r = reviewed
    plan = _plan(r)
    sending_item = plan["items"][1]["id"]
    url = f"/action-plans/{plan['id']}/items/{sending_item}"
    sender = _page(app, r.sender)
    sender.get(url)
    refused = sender.post(url, {"status": "finished", "note": "x"})
    assert refused.status_code == 422
    assert "Choose where the action stands" in refused.get_data(as_text=True)
    assert sender.post(url, {"status": "done", "note": "x" * 4001}).status_code == 422
    assert next(i for i in _plan(r)["items"] if i["id"] == sending_item)["status"] == "open"
    assert sender.get(f"/action-plans/{plan['id']}/items/999999").status_code == 404

    outsider = _page(app, r.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/action-plans/{plan['id']}").status_code == 404
    assert outsider.post(url, {"status": "done"}).status_code == 404
