"""Later hosting periods on "Nominate a learner" (api/web/start_pages.py): period 2 (and 3) typed in, period 1
derived (the mobility's host, from the first day to the day before period 2, the units no later period
takes), validated by the nomination service; refusals next to their fields with nothing kept."""
from __future__ import annotations

import copy
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import ecvet.wiring
from ecvet.mobility.models import Mobility
from ecvet.partnership import approvals, mou
from engine import clock, deployments
from engine.config import ROOT
from engine.db import Database
from engine.models import ProcessInstance
from tests.api.web.conftest import Browser, browser_for
from tests.support.ecvet_factories import MOBILITY_UNITS, SIGNER, Party, make_party, mou_content
from tests.support.factories import PASSWORD, Person, make_user

FILES = ("mobility.bpmn", "national_models.dmn")


def field_block(html: str, field_id: str) -> str:
    start = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, start)
    end = html.find('<div class="field', start + 10)
    return unescape(html[start:end if end > 0 else None])


class Setting:
    """An NL school with a MoU in force with two BE hosts, another school, and a learner account."""

    def __init__(self, app: Flask, db: Database) -> None:
        ecvet.wiring.load()
        with db.transaction() as s:
            files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
            deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
        self.app, self.db = app, db
        self.nl, self.be = make_party(db, "NL", "Horeca College"), make_party(db, "BE", "Brasserie Bruxelles")
        self.second = make_party(db, "BE", "Restaurant Brugge")
        self.outsider = make_party(db, "NL", "Another school")
        content = mou_content(self.nl, self.be, countries=("NL", "BE"), qualifications=[{
            "title": "Cook", "country": "NL", "eqf_level": 4, "nqf_level": "4", "ecvet_points": 180,
            "units": copy.deepcopy(MOBILITY_UNITS)}])
        extra = copy.deepcopy(content["signing_organisations"][1])
        extra.update(organisation_id=self.second.org_id, name="Restaurant Brugge")
        content["signing_organisations"].append(extra)
        with db.transaction() as s:
            memorandum = mou.create_draft(s, actor=self.nl.actor, sending_organisation_id=self.nl.org_id,
                                          content=content)
            approvals.submit(s, actor=self.nl.actor, mou_id=memorandum.id)
            digest = mou.current_version(memorandum).content_hash
            for party in (self.nl, self.be, self.second):
                approvals.approve(s, actor=party.actor, mou_id=memorandum.id, content_hash=digest, signer=SIGNER,
                                  organisation_id=party.org_id)
            self.mou_id = memorandum.id
        make_user(db, email="noah.jansen@learner.example")

    def browser(self, party: Party) -> Browser:
        return browser_for(self.app, Person(party.user_id, party.email, PASSWORD))


@pytest.fixture
def setting(app: Flask, db: Database) -> Setting:
    return Setting(app, db)


def nomination(setting: Setting, **overrides: Any) -> list[tuple[str, Any]]:
    """The form as the browser posts it: a field per ticked unit."""
    start = clock.now().date() + timedelta(days=40)
    values: dict[str, Any] = {
        "mou_id": setting.mou_id, "hosting_organisation_id": setting.be.org_id, "qualification_title": "Cook",
        "start_date": start.isoformat(), "end_date": (start + timedelta(days=34)).isoformat(),
        "learner.name": "Noah Jansen", "learner.date_of_birth": "2004-05-06",
        "learner.email": "noah.jansen@learner.example",
        "periods.1.hosting_organisation_id": setting.second.org_id,
        "periods.1.start_date": (start + timedelta(days=20)).isoformat(),
        "periods.1.end_date": (start + timedelta(days=34)).isoformat(), "periods.1.units": ["U2"]}
    values.update(overrides)
    return [(key, item) for key, value in values.items() for item in (value if isinstance(value, list) else [value])]


def count(db: Database, model: type) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_the_page_offers_later_periods_and_a_second_host_takes_its_units(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    html = page.get(f"/start/mobility?mou_id={setting.mou_id}").get_data(as_text=True)
    assert 'id="f-periods-1-hosting_organisation_id"' in html
    assert 'id="f-periods-2-start_date"' in html
    assert 'name="periods.1.units" value="U3"' in html

    response = page.post("/start/mobility", nomination(setting))
    assert response.status_code == 302, response.get_data(as_text=True)
    start = clock.now().date() + timedelta(days=40)
    with setting.db.transaction(write=False) as s:
        mobility = s.scalars(select(Mobility)).one()
        periods = [(p.position, p.hosting_organisation_id, p.start_date, p.end_date, sorted(p.unit_codes))
                   for p in mobility.periods]
    assert periods == [
        (1, setting.be.org_id, start, start + timedelta(days=19), ["U1", "U3"]),
        (2, setting.second.org_id, start + timedelta(days=20), start + timedelta(days=34), ["U2"])]


def test_without_later_periods_one_host_has_the_whole_mobility(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    response = page.post("/start/mobility", nomination(setting, **{
        "periods.1.hosting_organisation_id": "", "periods.1.start_date": "", "periods.1.end_date": "",
        "periods.1.units": []}))
    assert response.status_code == 302, response.get_data(as_text=True)
    with setting.db.transaction(write=False) as s:
        assert s.scalars(select(Mobility)).one().periods == []


def test_refused_periods_are_shown_next_to_their_fields_and_nothing_is_kept(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    response = page.post("/start/mobility", nomination(setting, **{"periods.1.units": ["U9"]}))
    assert response.status_code == 422
    assert "Units of the MoU's qualification" in field_block(response.get_data(as_text=True), "f-periods-1-units")

    response = page.post("/start/mobility", nomination(setting, **{"periods.1.hosting_organisation_id": ""}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "A hosting partner that signed the MoU" in field_block(html, "f-periods-1-hosting_organisation_id")

    start = clock.now().date() + timedelta(days=40)
    response = page.post("/start/mobility", nomination(setting, **{
        "periods.1.end_date": (start + timedelta(days=30)).isoformat()}))
    assert response.status_code == 422
    assert "from the mobility's first day to its last" in unescape(response.get_data(as_text=True))

    response = page.post("/start/mobility", nomination(setting, **{
        "periods.1.hosting_organisation_id": "", "periods.1.start_date": "", "periods.1.end_date": "",
        "periods.1.units": [], "periods.2.hosting_organisation_id": setting.second.org_id}))
    assert response.status_code == 422
    assert "Fill in period 2 before period 3" in field_block(response.get_data(as_text=True),
                                                              "f-periods-1-hosting_organisation_id")
    assert count(setting.db, Mobility) == 0
    assert count(setting.db, ProcessInstance) == 0


def test_an_outsider_cannot_nominate_with_periods_under_another_schools_mou(setting: Setting) -> None:
    outsider = setting.browser(setting.outsider)
    assert outsider.post("/start/mobility", nomination(setting)).status_code == 404
    assert count(setting.db, Mobility) == 0
