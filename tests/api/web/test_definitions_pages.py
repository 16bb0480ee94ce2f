"""Process owners' pages through the test client: admins only, and saving from the modeler or the
decision-table editor deploys a new version or, when the engine refuses, stores nothing and says why."""
from __future__ import annotations

import io
from typing import Any

import pytest

from api.web.vendor import NODE_MODULES
from engine.config import ROOT
from tests.api.conftest import World, deploy_files
from tests.api.web.conftest import Browser, start_two_lane

PROCESSES = ROOT / "processes"
TWO_LANE_XML = (PROCESSES / "two_lane_review.bpmn").read_bytes()
DMN = (PROCESSES / "national_models.dmn").read_bytes()
USES_TABLE = ROOT / "tests" / "fixtures" / "modeling" / "uses_national_model.bpmn"


def _versions(world: World, key: str) -> list[int]:
    items = world.admin.get(f"/api/process-definitions?key={key}").get_json()["items"]
    return [item["version"] for item in items]


def _post_xml(browser: Browser, url: str, xml: bytes, *, accept: str = "application/json") -> Any:
    """What the modeler's JavaScript sends: the XML as the body, the CSRF token as a header."""
    return browser.client.post(url, data=xml, content_type="application/xml",
                               headers={"Accept": accept, "X-CSRFToken": browser.token or ""})


def _upload(browser: Browser, url: str, xml: bytes, name: str = "diagram.bpmn") -> Any:
    """What the no-JavaScript form sends: a multipart upload with the CSRF field."""
    return browser.client.post(url, data={"csrf_token": browser.token, "file": (io.BytesIO(xml), name)},
                               content_type="multipart/form-data", headers={"Accept": "text/html"})


@pytest.fixture
def deployed(world: World) -> World:
    start_two_lane(world)
    response = deploy_files(world.admin, [USES_TABLE, PROCESSES / "national_models.dmn"])
    assert response.status_code in (200, 201), response.get_json()
    return world


OWNER_PAGES = [
    "/definitions",
    "/definitions/two_lane_review",
    "/definitions/two_lane_review/versions/1",
    "/definitions/two_lane_review/modeler",
    "/decision-tables/national_models.dmn",
    "/decision-tables/national_models.dmn/content",
]


def test_owner_pages_are_for_administrators_only(deployed: World, pages: dict[str, Browser]) -> None:
    for url in OWNER_PAGES:
        assert pages["admin"].get(url).status_code == 200, url
        for who in ("sender", "outsider"):
            response = pages[who].get(url)
            assert response.status_code == 403, (who, url)
            assert "two_lane_review" not in response.get_data(as_text=True) or url.endswith("review")
    sender = pages["sender"]
    sender.get("/tasks")
    assert _post_xml(sender, "/definitions/two_lane_review/modeler", TWO_LANE_XML).status_code == 403
    assert _post_xml(sender, "/decision-tables/national_models.dmn", DMN).status_code == 403
    assert _versions(deployed, "two_lane_review") == [1]
    assert _versions(deployed, "uses_national_model") == [1]
    assert "Process definitions" not in sender.get("/tasks").get_data(as_text=True)


def test_definitions_list_versions_and_instances_per_version(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    html = admin.get("/definitions").get_data(as_text=True)
    assert "Two-lane review" in html
    assert "national_models.dmn" in html
    assert "used by uses_national_model" in html
    detail = admin.get("/definitions/two_lane_review").get_data(as_text=True)
    assert 'data-version="1"' in detail
    assert "Sending organisation" in detail
    version = admin.get("/definitions/two_lane_review/versions/1")
    text = version.get_data(as_text=True)
    assert "mobility-42" in text
    assert 'data-xml-url="/processes/two_lane_review/versions/1/diagram.bpmn"' in text
    assert "'unsafe-inline'" in version.headers["Content-Security-Policy"]  # bpmn-js writes style attributes
    assert admin.get("/definitions/two_lane_review/versions/9").status_code == 404
    assert admin.get("/definitions/nope").status_code == 404
    xml = admin.get("/processes/two_lane_review/versions/1/diagram.bpmn")
    assert xml.status_code == 200
    assert xml.mimetype == "application/xml"
    assert xml.data == TWO_LANE_XML


def test_modeler_saves_a_new_version_from_the_xml_it_posts(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    page = admin.get("/definitions/two_lane_review/modeler").get_data(as_text=True)
    assert 'data-save-url="/definitions/two_lane_review/modeler"' in page
    assert "two_lane_propose.json" in page
    edited = TWO_LANE_XML.replace(b'name="Review placement"', b'name="Check the placement"')
    response = _post_xml(admin, "/definitions/two_lane_review/modeler", edited)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["versions"] == [{"key": "two_lane_review", "version": 2, "created": True,
                                 "url": "/definitions/two_lane_review/versions/2"}]
    detail = deployed.admin.get("/api/process-definitions/two_lane_review").get_json()
    assert [t["name"] for t in detail["user_tasks"]] == ["Propose placement", "Check the placement"]
    assert sorted(detail["files"]) == ["two_lane_propose.json", "two_lane_review.bpmn", "two_lane_review.json"]
    again = _post_xml(admin, "/definitions/two_lane_review/modeler", edited)
    assert again.status_code == 200
    assert not again.get_json()["versions"][0]["created"]
    assert _versions(deployed, "two_lane_review") == [1, 2]


def test_modeler_refusal_names_the_element_and_stores_nothing(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    admin.get("/definitions/two_lane_review/modeler")
    # A schema slip alone deploys with a warning (spiff-arena's models have them); in a file
    # SpiffWorkflow cannot build either, the schema's errors are the answer.
    broken = TWO_LANE_XML.replace(b'<bpmn:userTask id="review" name="Review placement">',
                                  b'<bpmn:userTask id="review" name="Review placement" bogus="1">'
                                  ).replace(b'targetRef="EndEvent_accepted"', b'targetRef="missing"')
    response = _post_xml(admin, "/definitions/two_lane_review/modeler", broken)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert any(e["file"] == "two_lane_review.bpmn" and "bogus" in e["message"] for e in errors), errors
    assert _versions(deployed, "two_lane_review") == [1]

    # Without JavaScript: the uploaded file is refused with the errors listed on the page.
    page = _upload(admin, "/definitions/two_lane_review/modeler", b"<bpmn:definitions><broken")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="server-errors"' in html
    assert "two_lane_review.bpmn" in html
    assert _versions(deployed, "two_lane_review") == [1]

    gateway_without_target = TWO_LANE_XML.replace(b'targetRef="EndEvent_accepted"', b'targetRef="missing"')
    refused = _post_xml(admin, "/definitions/two_lane_review/modeler", gateway_without_target)
    assert refused.status_code == 422
    assert any(e["element_id"] for e in refused.get_json()["errors"])
    assert _post_xml(admin, "/definitions/two_lane_review/modeler", b"  ").status_code == 422
    assert _versions(deployed, "two_lane_review") == [1]


def test_saving_without_the_csrf_token_is_refused(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    response = admin.client.post("/definitions/two_lane_review/modeler", data=TWO_LANE_XML.replace(b"Review", b"X"),
                                 content_type="application/xml", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert _versions(deployed, "two_lane_review") == [1]


def test_upload_form_deploys_and_redirects(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    admin.get("/definitions/two_lane_review/modeler")
    response = _upload(admin, "/definitions/two_lane_review/modeler", TWO_LANE_XML.replace(b"Propose placement",
                                                                                          b"Propose a placement"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/definitions/two_lane_review")
    assert "Deployed: two_lane_review version 2." in admin.get("/definitions/two_lane_review").get_data(as_text=True)


def test_decision_table_saves_with_the_processes_that_use_it(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    page = admin.get("/decision-tables/national_models.dmn").get_data(as_text=True)
    assert "Look up a national model" in page
    assert 'data-save-url="/decision-tables/national_models.dmn"' in page
    assert admin.get("/decision-tables/national_models.dmn/content").data == DMN
    assert admin.get("/decision-tables/other.dmn").status_code == 404

    edited = DMN.replace(b"</definitions>", b"<!-- reviewed by the process owner --></definitions>")
    response = _post_xml(admin, "/decision-tables/national_models.dmn", edited)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert [(v["key"], v["version"]) for v in response.get_json()["versions"]] == [("uses_national_model", 2)]
    assert admin.get("/decision-tables/national_models.dmn/content").data == edited


def test_decision_table_with_an_unusable_answer_is_refused(deployed: World, pages: dict[str, Browser]) -> None:
    admin = pages["admin"]
    admin.get("/decision-tables/national_models.dmn")
    assert b'<text>"implicit"</text>' in DMN
    typo = DMN.replace(b'<text>"implicit"</text>', b'<text>"implict"</text>', 1)
    response = _post_xml(admin, "/decision-tables/national_models.dmn", typo)
    assert response.status_code == 422
    messages = [e["message"] for e in response.get_json()["errors"]]
    assert any("implict" in m for m in messages), messages
    not_xml = _post_xml(admin, "/decision-tables/national_models.dmn", b"<definitions")
    assert not_xml.status_code == 422
    assert not_xml.get_json()["errors"][0]["file"] == "national_models.dmn"
    assert _versions(deployed, "uses_national_model") == [1]
    assert admin.get("/decision-tables/national_models.dmn/content").data == DMN


def test_vendor_files_come_only_from_the_allow_list(app: Any) -> None:
    assert (NODE_MODULES / "bpmn-js" / "dist").is_dir(), "front-end libraries missing: run `make setup` (npm ci)"
    client = app.test_client()
    script = client.get("/vendor/bpmn-js/bpmn-modeler.production.min.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert b"bpmn-js" in script.data[:200]
    font = client.get("/vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2")
    assert font.status_code == 200
    assert font.mimetype == "font/woff2"
    assert client.get("/vendor/chart.js/chart.umd.min.js").status_code == 200
    assert client.get("/vendor/dmn-js/assets/dmn-js-decision-table.css").mimetype == "text/css"
    for url in ("/vendor/bpmn-js/package.json", "/vendor/bpmn-js/../package.json", "/vendor/left-pad/index.js",
                "/vendor/chart.js/chart.js", "/vendor/bpmn-js/%2e%2e/%2e%2e/package-lock.json"):
        assert client.get(url).status_code == 404, url


@pytest.mark.usefixtures("deployed")
def test_the_definition_page_lists_its_deploy_warnings(pages: dict[str, Browser]) -> None:
    stray = TWO_LANE_XML.replace(b'name="Review placement"', b'name="Review it"')
    lanes_removed = stray.replace(b"<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", b"")
    assert lanes_removed != stray, "the fixture's lane lists the review task"
    response = _upload(pages["admin"], "/definitions/two_lane_review/modeler", lanes_removed)
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)
    page = pages["admin"].get("/definitions/two_lane_review").get_data(as_text=True)
    assert "Deploy warnings of the latest version" in page
    assert "goes to the person who started the instance" in page


def test_a_table_saved_lists_each_deployed_process_once(world: World, pages: dict[str, Browser]) -> None:
    """partnership.bpmn holds two processes that both carry the table: its bundle is deployed for each,
    and the answer still names each process once, with the version that saving created."""
    response = deploy_files(world.admin, [PROCESSES / "partnership.bpmn", PROCESSES / "national_models.dmn"])
    assert response.status_code in (200, 201), response.get_json()
    admin = pages["admin"]
    admin.get("/decision-tables/national_models.dmn")
    changed = DMN.replace(b'label="Recognition by"', b'label="Recognition by (who)"')
    saved = _post_xml(admin, "/decision-tables/national_models.dmn", changed)
    assert saved.status_code == 201, saved.get_json()
    listed = [(v["key"], v["version"], v["created"]) for v in saved.get_json()["versions"]]
    assert sorted(listed) == [("mou_approval_round", 2, True), ("partnership", 2, True)]


def test_the_editors_get_their_words_in_the_readers_language_and_the_bundles_form_files(
    deployed: World, pages: dict[str, Browser]
) -> None:
    """The editors' JavaScript shows only what the page gives it: status words from the catalogue in the
    reader's language (data-texts, data-labels) and the version's form files for the form file picker."""
    german = {"Accept-Language": "de"}
    admin = pages["admin"]
    modeler = admin.get("/definitions/two_lane_review/modeler", headers=german).get_data(as_text=True)
    assert 'data-form-files="[&#34;two_lane_propose.json&#34;, &#34;two_lane_review.json&#34;]"' in modeler
    assert "Neuen Listeneintrag anlegen" in modeler  # the panel library's words (modeler.lib.*)
    assert "Element {id} im Diagramm zeigen" in modeler  # deploy.js's words
    table = admin.get("/decision-tables/national_models.dmn", headers=german).get_data(as_text=True)
    assert "Die bereitgestellte Tabelle wird geladen" in table  # (its ellipsis is escaped in the JSON)
    assert "Die Tabelle kann hier nicht bearbeitet werden: {reason}" in table
    assert "quiet-inferno" not in table
