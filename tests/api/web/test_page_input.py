"""Pages get the API's input checks: NUL and out-of-range ids in query strings, form fields and paths are
a 4xx page (never a 500), and a refused form keeps nothing."""
from __future__ import annotations

from flask import Flask
from werkzeug.datastructures import MultiDict

from api.web import forms
from tests.api.conftest import World
from tests.api.edge_support import assert_no_traceback, row_counts
from tests.api.web.conftest import Browser, browser_for, ready_task, start_two_lane
from tests.api.web.test_forms import SCHEMA


def page_status(response: object, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]  # type: ignore[attr-defined]
    assert response.mimetype == "text/html"  # type: ignore[attr-defined]
    assert_no_traceback(response)
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


def test_nul_in_a_page_query_string_is_a_422_page(world: World, pages: dict[str, Browser]) -> None:
    for url in ("/tasks?process=a%00b", "/monitor/instances?status=%00", "/documents?cursor=%00",
                "/start/partnership?hosting_organisation_id=%00"):
        html = page_status(pages["admin"].get(url), 422)
        assert "must not contain NUL characters" in html, url


def test_out_of_range_ids_and_nul_in_page_paths_are_404_pages(world: World, pages: dict[str, Browser]) -> None:
    for url in ("/documents/mou/99999999999999999999", "/documents/mou/2147483648",
                "/documents/mou/2147483648.pdf", "/definitions/x/versions/9223372036854775808",
                "/processes/x/versions/2147483648/diagram.bpmn", "/instances/%00", "/tasks/a%00b",
                "/definitions/%00", "/monitor/heatmap/%00"):
        page_status(pages["admin"].get(url), 404)


def test_out_of_range_numbers_in_page_forms_and_queries_are_not_500s(world: World,
                                                                     pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    for url in ("/monitor/heatmap/two_lane_review?version=99999999999999999999",
                "/start/partnership?hosting_organisation_id=99999999999999999999",
                "/start/mobility?mou_id=2147483648"):
        response = admin.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert_no_traceback(response)
    before = row_counts(world.db)
    response = admin.post("/start/instance", {"process_key": "two_lane_review", "version": "99999999999999999999",
                                              "parties.sending": "org:99999999999999999999"})
    assert 400 <= response.status_code < 500
    assert_no_traceback(response)
    assert row_counts(world.db) == before


def test_nul_in_a_form_field_is_refused_and_nothing_is_kept(world: World, pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    before = row_counts(world.db)
    html = page_status(pages["sender"].post(f"/tasks/{task['id']}", {
        "placement_title": "Commis\x00chef", "start_date": "2027-03-01", "weeks": "6"}), 422)
    assert "must not contain NUL characters" in html
    assert ready_task(world.sender, instance_id)["state"] == "ready"
    assert row_counts(world.db) == before


def test_signing_in_with_nul_is_refused_before_the_lock_out_counts_it(app: Flask, world: World) -> None:
    browser = browser_for(app)
    before = row_counts(world.db)
    page_status(browser.post("/sign-in", {"email": f"a\x00{world.sender.person.email}", "password": "x"}), 422)
    assert row_counts(world.db) == before


def test_bytes_that_are_no_utf8_in_a_form_are_not_a_500(world: World, pages: dict[str, Browser]) -> None:
    instance_id = start_two_lane(world)
    task = ready_task(world.sender, instance_id)
    raw = "placement_title=%ED%A0%80x&start_date=2027-03-01&weeks=6&csrf_token=" + (pages["sender"].token or "")
    response = pages["sender"].client.post(f"/tasks/{task['id']}", data=raw,
                                           content_type="application/x-www-form-urlencoded",
                                           headers={"Accept": "text/html"})
    assert response.status_code < 500
    assert_no_traceback(response)


def test_json_typed_into_a_page_field_has_the_api_limits() -> None:
    for text in ("[" * 50_000 + "]" * 50_000, '{"a": "\\ud800"}', '{"a": "b\\u0000"}', "NaN"):
        submission = forms.parse(SCHEMA, MultiDict([("extra", text)]))
        assert submission.errors["extra"] == ["Enter valid JSON"], text
        assert "extra" not in submission.data


def test_json_variables_when_starting_an_instance_have_the_api_limits(world: World,
                                                                      pages: dict[str, Browser]) -> None:
    start_two_lane(world)
    before = row_counts(world.db)
    for variables, reason in (("[" * 50_000 + "]" * 50_000, "nested deeper than 64 levels"),
                              ('{"a": "\\ud800"}', "a: must not contain unpaired surrogates")):
        response = pages["admin"].post("/start/instance", {
            "process_key": "two_lane_review", "version": "1", "variables": variables,
            "parties.sending": f"org:{world.sending_org}", "parties.hosting": f"org:{world.hosting_org}"})
        html = page_status(response, 422)
        assert reason in html, html[:2000]
    assert row_counts(world.db) == before
