"""The form editor through the test client: process owners only, a live preview that is the task page's
own form, every metaschema error listed, and saving deploys the next version with only that form changed."""
from __future__ import annotations

import json
from typing import Any

from engine.config import ROOT
from tests.api.conftest import World
from tests.api.web.conftest import Browser, start_two_lane

FORM = "two_lane_propose.json"
URL = f"/definitions/two_lane_review/forms/{FORM}"
SCHEMA = json.loads((ROOT / "forms" / FORM).read_text())


def _versions(world: World) -> list[dict[str, Any]]:
    return world.admin.get("/api/process-definitions?key=two_lane_review").get_json()["items"]


def _post_json(browser: Browser, url: str, body: Any) -> Any:
    """What the editor's JavaScript sends: JSON, the CSRF token as a header."""
    return browser.client.post(url, json=body, headers={"Accept": "application/json",
                                                        "X-CSRFToken": browser.token or ""})


def _renamed(title: str) -> str:
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["placement_title"]["title"] = title
    return json.dumps(schema, indent=2)


def test_form_editor_is_for_process_owners_only(world: World, pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    assert pages["admin"].get(URL).status_code == 200
    for who in ("sender", "outsider"):
        browser = pages[who]
        assert browser.get(URL).status_code == 403
        browser.get("/tasks")
        assert _post_json(browser, URL + "/preview", {"schema": _renamed("X")}).status_code == 403
        assert _post_json(browser, URL, {"schema": _renamed("X")}).status_code == 403
    assert pages["admin"].get("/definitions/two_lane_review/forms/other.json").status_code == 404
    assert [v["version"] for v in _versions(world)] == [1]


def test_the_detail_page_links_each_task_form_to_its_editor(world: World, pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    html = pages["admin"].get("/definitions/two_lane_review").get_data(as_text=True)
    assert f'href="{URL}"' in html, html[html.find("User tasks"):][:800]


def test_preview_is_the_generated_form_and_lists_metaschema_errors(world: World, pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    admin = pages["admin"]
    page = admin.get(URL).get_data(as_text=True)
    assert "Placement title" in page
    assert 'id="f-placement_title"' in page

    answer = _post_json(admin, URL + "/preview", {"schema": _renamed("Name of the placement")}).get_json()
    assert answer["problems"] == []
    assert "Name of the placement" in answer["html"]
    assert 'id="f-weeks"' in answer["html"]

    broken = json.loads(_renamed("x"))
    broken["properties"]["weeks"]["type"] = "whole"
    broken["properties"]["weeks"]["minimum"] = "one"
    answer = _post_json(admin, URL + "/preview", {"schema": json.dumps(broken)}).get_json()
    where = sorted(p["where"] for p in answer["problems"])
    assert where == ["properties/weeks/minimum", "properties/weeks/type"]
    assert 'id="f-weeks"' not in answer["html"]

    answer = _post_json(admin, URL + "/preview", {"schema": '{"type": "object",'}).get_json()
    assert answer["problems"][0]["where"].startswith("line 1")
    assert _post_json(admin, URL + "/preview", {"schema": ""}).status_code == 422
    assert _post_json(admin, URL + "/preview", {"schema": 42}).status_code == 422


def test_saving_deploys_the_next_version_with_the_changed_form(world: World, pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    admin = pages["admin"]
    admin.get(URL)
    refused = _post_json(admin, URL, {"schema": '{"type": "objekt"}'})
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert any("objekt" in e["message"] for e in refused.get_json()["errors"])
    assert [v["version"] for v in _versions(world)] == [1]

    saved = _post_json(admin, URL, {"schema": _renamed("Name of the placement")})
    assert saved.status_code == 201, saved.get_json()
    assert [(v["key"], v["version"], v["created"]) for v in saved.get_json()["versions"]] == [
        ("two_lane_review", 2, True)]
    content = admin.get(URL).get_data(as_text=True)
    assert "Name of the placement" in content
    assert "version 2" in content
    # The new version runs with the new form; the first one keeps its own.
    v1, v2 = _versions(world)
    assert v1["content_hash"] != v2["content_hash"]

    again = _post_json(admin, URL, {"schema": _renamed("Name of the placement")})
    assert again.status_code == 200  # the same content: nothing new deployed
    assert [v["version"] for v in _versions(world)] == [1, 2]


def test_without_javascript_preview_and_save_are_form_posts(world: World, pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    admin = pages["admin"]
    admin.get(URL)
    shown = admin.post(URL, {"schema": _renamed("Where the learner works"), "action": "preview"})
    assert shown.status_code == 200
    assert "Where the learner works" in shown.get_data(as_text=True)
    assert [v["version"] for v in _versions(world)] == [1]

    refused = admin.post(URL, {"schema": "[1, 2]", "action": "save"})
    assert refused.status_code == 422
    assert "a form schema must be a JSON object" in refused.get_data(as_text=True)

    saved = admin.post(URL, {"schema": _renamed("Where the learner works"), "action": "save"})
    assert saved.status_code == 302
    assert [v["version"] for v in _versions(world)] == [1, 2]
