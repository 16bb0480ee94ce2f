"""/mobilities/<id>/europass-mobility: the school issues it, host and school sign it off from the page."""
from __future__ import annotations

from flask import Flask

from engine.clock import FrozenClock
from engine.db import Database
from tests.api.web.conftest import browser_for
from tests.support import mobility_driver
from tests.support.ecvet_factories import Party
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER, make_lifecycle_world
from tests.support.factories import PASSWORD, Person

T0 = mobility_driver.T0


def member(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def test_issue_and_sign_off_from_the_page(app: Flask, db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    url = f"/mobilities/{life.mobility_id}/europass-mobility"
    school, hotel = browser_for(app, member(life.sending)), browser_for(app, member(life.hosting))
    assert "No Europass Mobility yet." in hotel.get(url).get_data(as_text=True)  # only the school issues
    page = school.get(url).get_data(as_text=True)
    assert 'name="skills.language"' in page
    issued = school.post(url, {"objective": "Cold kitchen abroad", "skills.language": "Danish A2"})
    assert issued.status_code == 302, issued.get_data(as_text=True)
    page = hotel.get(url).get_data(as_text=True)
    assert LIFECYCLE_LEARNER in page
    assert "Sign off for the host organisation" in page
    assert "Sign off for the sending organisation" not in page
    digest = page.split('name="content_hash" value="')[1].split('"')[0]
    stale = hotel.post(f"{url}/signatures", {"party": "hosting", "content_hash": "0" * 64})
    assert stale.status_code == 409
    assert hotel.post(f"{url}/signatures", {"party": "hosting", "content_hash": digest,
                                            "place": "Aarhus"}).status_code == 302
    assert school.post(f"{url}/signatures", {"party": "sending", "content_hash": digest}).status_code == 302
    page = school.get(url).get_data(as_text=True)
    assert "Sign off for" not in page
    assert "Aarhus" in page
    outsider = browser_for(app, member(life.outsider))
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"objective": "x"}).status_code == 404


def test_the_sign_off_waits_in_the_inbox_and_the_document_shows_each_signature_whole(
        app: Flask, db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    url = f"/mobilities/{life.mobility_id}/europass-mobility"
    school, hotel = browser_for(app, member(life.sending)), browser_for(app, member(life.hosting))
    outsider = browser_for(app, member(life.outsider))
    assert "Europass Mobility to sign off" not in hotel.get("/tasks").get_data(as_text=True)
    assert school.post(url, {"objective": "Cold kitchen abroad"}).status_code == 302
    inbox = hotel.get("/tasks").get_data(as_text=True)
    assert "Europass Mobility to sign off" in inbox
    assert f'href="{url}"' in inbox
    assert LIFECYCLE_LEARNER in inbox
    assert "Europass Mobility to sign off" not in outsider.get("/tasks").get_data(as_text=True)
    digest = hotel.get(url).get_data(as_text=True).split('name="content_hash" value="')[1].split('"')[0]
    assert hotel.post(f"{url}/signatures", {"party": "hosting", "content_hash": digest,
                                            "place": "Aarhus"}).status_code == 302
    assert "Europass Mobility to sign off" not in hotel.get("/tasks").get_data(as_text=True)
    assert "Europass Mobility to sign off" in school.get("/tasks").get_data(as_text=True)  # not signed yet

    page = hotel.get(url).get_data(as_text=True)
    signatures = page.split('class="signature-list"')[1]
    assert f'<span class="token hash-full">{digest}</span>' in signatures  # the whole SHA-256, never cut
    assert "Place and date" in signatures
    assert "Aarhus, " in signatures
    assert "Valid for this version" in signatures
    assert '<span class="badge badge-ok">Yes</span>' in signatures
    assert f'<span class="token">{life.hosting.email}</span>' in signatures
