"""Nominating a group in the browser (api/web/group_start_pages.py) without a browser: the form under the
MoU in force, rows added and removed without starting anything, known and new learners nominated in one
go, refusals next to their fields with nothing kept, and another organisation's MoU refused."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import ecvet.wiring
from ecvet.mobility.models import Mobility, MobilityGroup
from engine import clock, deployments
from engine.config import ROOT
from engine.db import Database
from engine.models import AuditEvent, ProcessInstance
from tests.api.web.conftest import Browser, browser_for
from tests.support.ecvet_factories import Party, active_mou, make_party
from tests.support.factories import PASSWORD, Person, make_user

FILES = ("mobility.bpmn", "national_models.dmn")


def field_block(html: str, field_id: str) -> str:
    """The markup of one field, from its wrapper to the next one."""
    start = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, start)
    end = html.find('<div class="field', start + 10)
    return html[start:end if end > 0 else None]


def count(db: Database, model: type) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


class Setting:
    """An NL school with a MoU in force with a BE company, another school, and two learner accounts."""

    def __init__(self, app: Flask, db: Database) -> None:
        ecvet.wiring.load()
        with db.transaction() as s:
            files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
            deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
        self.app, self.db = app, db
        self.nl, self.be = make_party(db, "NL", "Horeca College"), make_party(db, "BE", "Brasserie Bruxelles")
        self.mou_id = active_mou(db, self.nl, self.be, countries=("NL", "BE"))
        self.outsider = make_party(db, "NL", "Another school")
        make_user(db, email="noah.jansen@learner.example")
        make_user(db, email="emma.visser@learner.example")

    def browser(self, party: Party) -> Browser:
        return browser_for(self.app, Person(party.user_id, party.email, PASSWORD))


@pytest.fixture
def setting(app: Flask, db: Database) -> Setting:
    return Setting(app, db)


def group(setting: Setting, **overrides: Any) -> dict[str, Any]:
    start = clock.now().date() + timedelta(days=40)
    values = {"mou_id": setting.mou_id, "name": "Class 3B 2027", "programme": "Kitchen practice in Brussels",
              "hosting_organisation_id": setting.be.org_id, "qualification_title": "Cook",
              "start_date": start.isoformat(), "end_date": (start + timedelta(days=34)).isoformat(),
              "person_rows": 1, "learner_rows": 1, "accompanying_persons.0.name": "Anna de Boer",
              "accompanying_persons.0.role": "teacher", "accompanying_persons.0.organisation": "Horeca College",
              "learners.0.name": "Emma Visser", "learners.0.date_of_birth": "2004-02-03",
              "learners.0.email": "emma.visser@learner.example", "action": "nominate"}
    values.update(overrides)
    return values


def test_the_start_page_links_to_the_group_page_which_shows_the_mous_terms(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    assert 'href="/start/mobility-group"' in page.get("/start").get_data(as_text=True)
    html = page.get("/start/mobility-group").get_data(as_text=True)
    assert "choose-mou" not in html, "one MoU in force: no first step"
    assert f'<input type="hidden" name="mou_id" value="{setting.mou_id}">' in html
    assert f'<option value="{setting.be.org_id}" selected>' in field_block(html, "f-hosting_organisation_id")
    assert 'id="f-accompanying_persons-0-name"' in html
    assert 'id="f-learners-0-email"' in html


def test_rows_are_added_and_removed_without_starting_anything(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    response = page.post("/start/mobility-group", group(setting, action="add_learner"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="f-learners-1-name"' in html
    assert 'value="Emma Visser"' in field_block(html, "f-learners-0-name"), "what was typed stays"
    response = page.post("/start/mobility-group", group(setting, action="remove_person:0"))
    html = response.get_data(as_text=True)
    assert 'id="f-accompanying_persons-0-name"' not in html
    assert '<input type="hidden" name="person_rows" value="0">' in html
    response = page.post("/start/mobility-group", group(
        setting, action="remove_learner:0", learner_rows=2, **{"learners.1.name": "Noah Jansen"}))
    html = response.get_data(as_text=True)
    assert 'value="Noah Jansen"' in field_block(html, "f-learners-0-name"), "the rows after move up"
    assert 'id="f-learners-1-name"' not in html
    assert count(setting.db, MobilityGroup) == 0


def test_a_group_of_known_and_new_learners_is_nominated_in_one_go(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    first = page.post("/start/mobility-group", group(setting, **{
        "name": "Earlier group", "learners.0.name": "Noah Jansen", "learners.0.email": "noah.jansen@learner.example"}))
    assert first.status_code == 302, first.get_data(as_text=True)
    with setting.db.transaction(write=False) as s:
        noah = s.scalars(select(Mobility)).one().learner_id
    html = page.get("/start/mobility-group").get_data(as_text=True)
    assert f'name="learner_ids" value="{noah}"' in html, "a learner nominated before may be picked"

    response = page.post("/start/mobility-group", {**group(setting, learner_ids=str(noah))})
    assert response.status_code == 302, response.get_data(as_text=True)
    with setting.db.transaction(write=False) as s:
        made = s.scalars(select(MobilityGroup).where(MobilityGroup.name == "Class 3B 2027")).one()
        members = s.scalars(select(Mobility).where(Mobility.group_id == made.id).order_by(Mobility.id)).all()
        assert sorted(m.learner.name for m in members) == ["Emma Visser", "Noah Jansen"]
        assert all(m.process_instance_id for m in members)
        assert made.accompanying_persons == [{"name": "Anna de Boer", "role": "teacher",
                                              "organisation": "Horeca College"}]
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "learner.listed"))
    assert response.headers["Location"] == f"/mobility-groups/{made.id}"
    assert "2 mobilities have started" in page.get(response.headers["Location"]).get_data(as_text=True)


def test_a_refused_group_shows_each_error_next_to_its_field_and_keeps_nothing(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    response = page.post("/start/mobility-group", group(setting, programme="", **{
        "accompanying_persons.0.role": ""}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Required" in field_block(html, "f-programme")

    response = page.post("/start/mobility-group", group(setting, **{
        "accompanying_persons.0.role": "", "learners.0.email": "nobody@learner.example"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Required" in field_block(html, "f-accompanying_persons-0-role")

    response = page.post("/start/mobility-group", group(setting, **{"learners.0.email": "nobody@learner.example"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "No account for nobody@learner.example" in field_block(html, "f-learners-0-email")
    assert 'href="#f-learners-0-email"' in html, "the summary links to the field"

    response = page.post("/start/mobility-group", group(setting, **{"learners.0.name": "", "learners.0.email": "",
                                                                   "learners.0.date_of_birth": ""}))
    assert response.status_code == 422
    assert "Between 1 and 40 learners" in response.get_data(as_text=True)
    assert count(setting.db, MobilityGroup) == 0
    assert count(setting.db, Mobility) == 0
    assert count(setting.db, ProcessInstance) == 0


def test_only_the_sending_organisation_nominates_a_group_under_its_mou(setting: Setting) -> None:
    outsider = setting.browser(setting.outsider)
    assert "No MoU in force to nominate under." in outsider.get("/start/mobility-group").get_data(as_text=True)
    assert outsider.get(f"/start/mobility-group?mou_id={setting.mou_id}").status_code == 404
    assert outsider.post("/start/mobility-group", group(setting)).status_code == 404
    host = setting.browser(setting.be)
    assert host.get(f"/start/mobility-group?mou_id={setting.mou_id}").status_code == 403
    assert host.post("/start/mobility-group", group(setting)).status_code == 403
    assert count(setting.db, MobilityGroup) == 0
    assert count(setting.db, Mobility) == 0
