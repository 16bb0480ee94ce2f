"""api/web/task_work_pages.py without a browser: claim, unclaim, assign and comment forms come back to the
task page with a sentence; refusals are sentences too, never a traceback; CSRF and visibility hold."""
from __future__ import annotations

from flask import Flask

from tests.api.conftest import World
from tests.api.web.conftest import Browser, browser_for, ready_task, start_two_lane
from tests.support.factories import make_user


def flashes(browser: Browser, url: str) -> str:
    return browser.get(url).get_data(as_text=True)


def test_claim_assign_comment_and_refusals_from_the_task_page(app: Flask, world: World,
                                                              pages: dict[str, Browser]) -> None:
    task = ready_task(world.sender, start_two_lane(world))
    page = f"/tasks/{task['id']}"
    colleague_person = make_user(world.db, organisation_ids=[world.sending_org], name="Ines Colleague")
    colleague = browser_for(app, colleague_person)
    sender = pages["sender"]

    claimed = sender.post(f"{page}/claim")
    assert claimed.status_code == 302
    assert claimed.headers["Location"].endswith(f"{page}#task-work")
    html = flashes(sender, page)
    assert "You work on this task now" in html
    assert "You have claimed it" in html

    taken = colleague.post(f"{page}/claim")
    assert taken.status_code == 302
    assert "works on this task; they can unclaim it" in flashes(colleague, page)
    assert 'id="claimed-by-colleague"' in colleague.get(page).get_data(as_text=True)

    refused = sender.post(f"{page}/assign", {"user_id": str(world.host.person.id)})
    assert refused.status_code == 302
    assert "Choose a colleague of the organisation" in flashes(sender, page)
    for bad in ("", "abc", "0", "99999999999"):
        sender.post(f"{page}/assign", {"user_id": bad})
        assert "Choose a colleague first." in flashes(sender, page)
    sender.post(f"{page}/assign", {"user_id": str(colleague_person.id)})
    assert "Ines Colleague works on this task now." in flashes(sender, page)

    assert colleague.post(f"{page}/comments", {"body": ""}).status_code == 302
    assert "Write a comment first" in flashes(colleague, page)
    colleague.post(f"{page}/comments", {"body": "<b>Friday</b> works for me."})
    html = flashes(colleague, page)
    assert "&lt;b&gt;Friday&lt;/b&gt; works for me." in html  # escaped, as typed

    assert colleague.post(f"{page}/unclaim").status_code == 302
    assert "back with your whole organisation" in flashes(colleague, page)


def test_other_parties_get_404_and_a_post_without_csrf_is_refused(world: World, pages: dict[str, Browser]) -> None:
    task = ready_task(world.sender, start_two_lane(world))
    page = f"/tasks/{task['id']}"
    for action in ("claim", "unclaim", "assign", "comments"):
        assert pages["host"].post(f"{page}/{action}", {"user_id": "1", "body": "hi"}).status_code == 404
    assert pages["sender"].post(f"{page}/claim", csrf=False).status_code == 400
