"""Documents in a real browser: a coordinator finds the Learning Agreement of a mobility, reads it and
downloads it as PDF; a person of another organisation finds nothing."""
from __future__ import annotations

from typing import Any

from tests.support.engine import actor_for
from tests.support.task_pages import deploy, make_learning_agreement, start
from tests.web.conftest import Demo, LiveServer


def test_coordinator_reads_and_downloads_the_learning_agreement(page: Any, live_server: LiveServer, demo: Demo,
                                                                sign_in_as: Any, screenshot: Any) -> None:
    la_id, la_hash = make_learning_agreement(live_server, demo)
    deploy(live_server, "la_signing.bpmn", "web_la_sign_learner.json")
    start(live_server, actor_for(live_server.db, demo.coordinator.id), "web_la_signing",
          {"learner": {"user_id": demo.learner.id}, "sending": demo.sending_org}, "mobility-lena",
          variables={"la_id": la_id, "la_hash": la_hash})

    sign_in_as(page, demo.coordinator)
    page.get_by_role("link", name="Documents").click()
    group = page.locator("section.doc-group")
    assert "Learning Agreement signing · mobility-lena" in group.locator("h2").inner_text()
    screenshot(page, "documents")
    group.get_by_role("link", name="Learning Agreement: Lena Vos").first.click()
    page.wait_for_url(f"**/documents/learning-agreement/{la_id}")
    assert la_hash in page.locator(".hash").inner_text()
    assert "Preparing cold dishes" in page.locator("article.document").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="PDF", exact=True).click()
    download = info.value
    assert download.suggested_filename == f"learning-agreement-{la_id}-v1.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_another_organisation_sees_no_documents_and_gets_404_by_url(page: Any, live_server: LiveServer,
                                                                   demo: Demo, sign_in_as: Any) -> None:
    la_id, _ = make_learning_agreement(live_server, demo)
    sign_in_as(page, demo.outsider)
    page.goto("/documents")
    assert page.get_by_text("No documents for you yet.").is_visible()
    response = page.goto(f"/documents/learning-agreement/{la_id}")
    assert response is not None
    assert response.status == 404
    assert "Lena Vos" not in page.content()
