"""The learner's achievements page (api/web/achievement_pages.py): units, points, implications, documents and
credentials; "My achievements" in the navigation of a learner only; nobody else's learner is shown."""
from __future__ import annotations

from datetime import date

from flask import Flask

from ecvet.europass import service as europass
from ecvet.mobility.models import Learner, Mobility
from engine.clock import FrozenClock
from engine.db import Database
from tests.api.web.conftest import browser_for
from tests.support import mobility_driver
from tests.support.ecvet_factories import Party, make_learner_mobility
from tests.support.ecvet_worlds import CZECH_SCHOOL, DANISH_HOTEL, LIFECYCLE_LEARNER, make_lifecycle_world
from tests.support.factories import PASSWORD, Person, make_user

T0 = mobility_driver.T0
NAV_ENTRY = '<a href="/achievements"'


def member(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def test_the_learner_finds_her_achievements_in_the_navigation(app: Flask, db: Database,
                                                              frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    learner = browser_for(app, Person(life.learner.user_id, life.learner.email, PASSWORD))
    assert NAV_ENTRY in learner.get("/tasks").get_data(as_text=True)
    response = learner.get("/achievements")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Achievements of {LIFECYCLE_LEARNER}" in html
    assert 'aria-current="page">My achievements' in html
    assert "U1" in html
    assert "U2" in html
    assert CZECH_SCHOOL in html
    assert DANISH_HOTEL in html
    assert "Exempted from a learning activity" in html
    assert "exempted_activity" not in html
    assert f'href="/documents/transcript/{life.transcript_id}"' in html
    assert f'href="/documents/recognition-record/{life.recognition_id}"' in html
    assert f'href="/documents/certificate/{learner_id}"' in html
    assert f'href="/documents/certificate/{learner_id}.pdf"' in html
    assert f'href="/learners/{learner_id}/credentials.json"' in html
    same = learner.get(f"/learners/{learner_id}/achievements")
    assert same.status_code == 200
    assert f"Achievements of {LIFECYCLE_LEARNER}" in same.get_data(as_text=True)


def test_parties_see_the_page_without_the_entry_and_outsiders_see_nothing(app: Flask, db: Database,
                                                                         frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    school = browser_for(app, member(life.sending))
    assert NAV_ENTRY not in school.get("/tasks").get_data(as_text=True)
    html = school.get(f"/learners/{learner_id}/achievements").get_data(as_text=True)
    assert f"Achievements of {LIFECYCLE_LEARNER}" in html
    assert "U1" in html
    assert "No achievements here." in school.get("/achievements").get_data(as_text=True)
    outsider = browser_for(app, member(life.outsider))
    response = outsider.get(f"/learners/{learner_id}/achievements")
    assert response.status_code == 404
    assert LIFECYCLE_LEARNER not in response.get_data(as_text=True)
    assert browser_for(app).get("/achievements").status_code == 302  # to the sign-in page


def test_a_guardian_of_two_learners_chooses_one(app: Flask, db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    with db.transaction(write=False) as s:
        mobility = s.get_one(Mobility, life.mobility_id)
        mou_id, learner_id = mobility.mou_id, mobility.learner_id
    brother = make_learner_mobility(db, sending=life.sending, hosting=life.hosting, mou_id=mou_id,
                                    learner_name="Petr Šťastný")
    guardian = make_user(db, name="Eva Šťastná")
    with db.transaction() as s:
        for row in (s.get_one(Learner, learner_id), s.get_one(Learner, brother.learner_id)):
            row.guardian_user_id = guardian.id
            row.date_of_birth = date(2010, 6, 1)  # minors: a guardian acts for a minor only (issue 16)
    page = browser_for(app, guardian)
    html = page.get("/achievements").get_data(as_text=True)
    assert NAV_ENTRY in html
    assert "Whose achievements?" in html
    assert f'href="/learners/{learner_id}/achievements"' in html
    assert f'href="/learners/{brother.learner_id}/achievements"' in html
    mine = page.get(f"/learners/{learner_id}/achievements").get_data(as_text=True)
    assert 'aria-current="page">My achievements' in mine
    assert "U1" in mine
    assert "No units recognised yet." in page.get(f"/learners/{brother.learner_id}/achievements").get_data(as_text=True)


def test_the_europass_mobility_shows_to_the_learner_once_both_signed_off(app: Flask, db: Database,
                                                                          frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction() as s:
        row = europass.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id)
        europass_id, digest = row.id, row.content_hash
    learner = browser_for(app, Person(life.learner.user_id, life.learner.email, PASSWORD))
    link = f"/documents/europass-mobility/{europass_id}"
    assert link not in learner.get("/achievements").get_data(as_text=True)
    for party, actor in (("hosting", life.hosting.actor), ("sending", life.sending.actor)):
        with db.transaction() as s:
            europass.sign(s, actor=actor, europass_id=europass_id, party=party, content_hash=digest)
    html = learner.get("/achievements").get_data(as_text=True)
    assert link in html
    assert "Europass Mobility" in html
    printed = learner.get(f"/documents/europass-mobility/{europass_id}.pdf")
    assert (printed.status_code, printed.mimetype) == (200, "application/pdf")


# --- Issue 16: the learner downloads their data and sees who looked at it --------------------------------


def test_the_learner_sees_who_looked_and_downloads_her_data(app: Flask, db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    learner = browser_for(app, Person(life.learner.user_id, life.learner.email, PASSWORD))
    quiet = learner.get("/achievements").get_data(as_text=True)
    assert "Who looked at my data" in quiet
    assert "Nobody else has looked at your data yet." in quiet  # her own reads are not listed
    host = browser_for(app, member(life.hosting))
    assert host.get(f"/documents/transcript/{life.transcript_id}").status_code == 200
    html = learner.get("/achievements").get_data(as_text=True)
    assert "Nobody else has looked at your data yet." not in html
    assert "Søren Ørsted" in html
    assert DANISH_HOTEL in html
    assert f'data-label="What">Learner&#39;s Personal Transcript {life.transcript_id}</td>' in html
    assert f'href="/learners/{learner_id}/my-data.json">Download my data (JSON)' in html
    assert f'href="/learners/{learner_id}/my-data.pdf">Download my data (PDF)' in html
    german = learner.get("/achievements", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Wer meine Daten angesehen hat" in german
    as_json = learner.get(f"/learners/{learner_id}/my-data.json")
    assert as_json.status_code == 200
    assert as_json.get_json()["tables"]["learners"]["rows"][0]["name"] == LIFECYCLE_LEARNER
    as_pdf = learner.get(f"/learners/{learner_id}/my-data.pdf")
    assert as_pdf.status_code == 200
    assert as_pdf.data.startswith(b"%PDF")
    assert learner.get(f"/learners/{learner_id}/my-data.xml").status_code == 404


def test_others_see_no_reads_and_may_not_download_a_learners_data(app: Flask, db: Database,
                                                                  frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    host = browser_for(app, member(life.hosting))
    html = host.get(f"/learners/{learner_id}/achievements").get_data(as_text=True)
    assert f"Achievements of {LIFECYCLE_LEARNER}" in html
    assert "Who looked at my data" not in html
    assert "my-data.json" not in html
    assert host.get(f"/learners/{learner_id}/my-data.json").status_code == 404
    other = make_user(db)
    assert browser_for(app, other).get(f"/learners/{learner_id}/my-data.pdf").status_code == 404
    sender = browser_for(app, member(life.sending))
    assert sender.get(f"/learners/{learner_id}/my-data.json").status_code == 200
