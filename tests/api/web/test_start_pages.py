"""The start pages (api/web/start_pages.py) without a browser: who sees them, the two-step forms with
their defaults, refusals shown next to the fields with nothing started, and what a start leaves."""
from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import ecvet.wiring
from ecvet.mobility.models import Mobility
from ecvet.national_models.models import CompetenceFunction
from engine import clock, deployments
from engine.config import ROOT
from engine.db import Database
from engine.models import HumanTask, InstanceParty, ProcessInstance
from tests.api.web.conftest import Browser, browser_for
from tests.support.ecvet_factories import Party, active_mou, make_party, register
from tests.support.factories import PASSWORD, Person, make_user

FILES = ("partnership.bpmn", "mobility.bpmn", "national_models.dmn", "two_lane_review.bpmn")


def field_block(html: str, field_id: str) -> str:
    """The markup of one field, from its wrapper to the next one."""
    start = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, start)
    end = html.find('<div class="field', start + 10)
    return html[start:end if end > 0 else None]


def person(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def count(db: Database, model: type) -> int:
    with db.transaction(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


class Setting:
    """DE school and ES hotel with their competent institutions registered (partnerships); an NL school
    with a MoU in force with a BE company (nominations); an outsider, an admin and learner accounts."""

    def __init__(self, app: Flask, db: Database) -> None:
        ecvet.wiring.load()
        with db.transaction() as s:
            files = {name: (ROOT / "processes" / name).read_bytes() for name in FILES}
            deployments.deploy(s, actor=None, files=files, forms_dir=ROOT / "forms")
        self.db = db
        self.school, self.hotel = make_party(db, "DE", "Berufskolleg Rhein"), make_party(db, "ES", "Hotel Sol")
        self.chamber, self.region = make_party(db, "DE", "IHK Köln"), make_party(db, "ES", "Conselleria")
        register(db, self.chamber.org_id, "DE", CompetenceFunction.MOU_APPROVAL)
        register(db, self.chamber.org_id, "DE", CompetenceFunction.RECOGNITION)
        register(db, self.region.org_id, "ES", CompetenceFunction.MOU_APPROVAL)
        self.nl, self.be = make_party(db, "NL", "Horeca College"), make_party(db, "BE", "Brasserie Bruxelles")
        self.mou_id = active_mou(db, self.nl, self.be, countries=("NL", "BE"))
        self.outsider = make_party(db, "NL", "Another school")
        self.admin = make_user(db, is_admin=True)
        self.learner = make_user(db, email="noah.jansen@learner.example")
        self.app = app

    def browser(self, who: Person | Party) -> Browser:
        return browser_for(self.app, who if isinstance(who, Person) else person(who))


@pytest.fixture
def setting(app: Flask, db: Database) -> Setting:
    return Setting(app, db)


def nav_links(html: str) -> list[str]:
    nav = html[html.index('<nav class="main-nav"'):html.index("</nav>", html.index('<nav class="main-nav"'))]
    return [part.split("</a>")[0].split(">")[-1] for part in nav.split("<a ")[1:]]


# --------------------------------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------------------------------


def test_start_is_in_the_navigation_of_members_and_admins_and_shows_what_each_may_start(setting: Setting) -> None:
    learner = setting.browser(setting.learner)
    assert "Start" not in nav_links(learner.get("/tasks").get_data(as_text=True))
    for url in ("/start", "/start/partnership", "/start/mobility", "/start/instance"):
        assert learner.get(url).status_code == 403, url
    assert learner.post("/start/partnership", {"sending_organisation_id": setting.school.org_id,
                                               "hosting_organisation_id": setting.hotel.org_id}).status_code == 403

    html = setting.browser(setting.nl).get("/start").get_data(as_text=True)
    assert "Start" in nav_links(html)
    assert 'href="/start/partnership"' in html
    assert 'href="/start/mobility"' in html
    assert 'href="/start/instance"' not in html

    host = setting.browser(setting.be).get("/start").get_data(as_text=True)  # signed the MoU, does not send
    assert 'href="/start/partnership"' in host
    assert 'href="/start/mobility"' not in host
    assert "Possible once your organisation sends learners under a MoU in force" in host

    admin = setting.browser(setting.admin).get("/start").get_data(as_text=True)
    assert 'href="/start/instance"' in admin
    assert 'href="/start/mobility"' in admin

    anonymous = setting.app.test_client().get("/start/partnership", headers={"Accept": "text/html"})
    assert anonymous.status_code == 302
    assert "/sign-in" in anonymous.headers["Location"]


# --------------------------------------------------------------------------------------------------
# Start a partnership
# --------------------------------------------------------------------------------------------------


def test_a_partnership_starts_with_the_institutions_the_national_models_and_registry_name(setting: Setting) -> None:
    page = setting.browser(setting.school)
    first = page.get("/start/partnership").get_data(as_text=True)
    assert f'<option value="{setting.school.org_id}" selected>' in first, "the one own organisation, chosen"
    assert "<optgroup label=\"ES\">" in first, "the partner from the directory"
    assert "Hotel Sol" in first, "the partner from the directory"
    assert "start-partnership-form" not in first

    second = page.get(f"/start/partnership?sending_organisation_id={setting.school.org_id}"
                      f"&hosting_organisation_id={setting.hotel.org_id}")
    html = second.get_data(as_text=True)
    assert second.status_code == 200
    home = html[html.index('id="gate-home"'):html.index('id="gate-host"')]
    assert "chamber approval" in home
    assert "approves the MoU explicitly (28 days)" in home
    assert f'<option value="{setting.chamber.org_id}" selected>' in home
    assert f'value="{setting.school.org_id}"' not in home, "an approval is required: the school cannot stand in"
    host = html[html.index('id="gate-host"'):]
    assert "may object within 20 days" in host
    assert f'<option value="{setting.region.org_id}" selected>' in host

    response = page.post("/start/partnership", {
        "sending_organisation_id": setting.school.org_id, "hosting_organisation_id": setting.hotel.org_id,
        "competent_institution_home_id": setting.chamber.org_id,
        "competent_institution_host_id": setting.region.org_id, "business_key": "Köln – València"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with setting.db.transaction(write=False) as s:
        instance = s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "partnership")).one()
        bound = {p.role: p.organisation_id for p in s.scalars(
            select(InstanceParty).where(InstanceParty.instance_id == instance.id))}
        (task,) = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert instance.business_key == "Köln – València"
    assert instance.started_by == setting.school.user_id
    assert bound == {"sending": setting.school.org_id, "hosting": setting.hotel.org_id,
                     "competent-institution-home": setting.chamber.org_id,
                     "competent-institution-host": setting.region.org_id}
    assert response.headers["Location"] == f"/tasks/{task.id}", "straight to the school's first task"
    shown = page.get(response.headers["Location"]).get_data(as_text=True)
    assert "Describe your organisation and VET system" in shown
    assert "The partnership has started" in shown
    # The partner finds the started partnership only once its own task comes; the outsider never does.
    assert page.get(f"/instances/{instance.id}").status_code == 200
    assert setting.browser(setting.outsider).get(f"/instances/{instance.id}").status_code == 404


def test_a_refused_partnership_shows_why_next_to_the_fields_and_starts_nothing(setting: Setting) -> None:
    page = setting.browser(setting.school)
    response = page.post("/start/partnership", {
        "sending_organisation_id": setting.school.org_id, "hosting_organisation_id": setting.hotel.org_id,
        "competent_institution_home_id": setting.school.org_id,
        "competent_institution_host_id": setting.region.org_id})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    home = field_block(html, "f-competent_institution_home_id")
    assert "has-error" in home
    assert "IHK Köln" in home
    assert 'aria-invalid="true"' in home
    assert 'href="#f-competent_institution_home_id"' in html  # the summary links to the field

    response = page.post("/start/partnership", {"sending_organisation_id": setting.hotel.org_id,
                                                "hosting_organisation_id": setting.hotel.org_id})
    assert response.status_code == 422
    assert "Not one of your organisations" in field_block(response.get_data(as_text=True),
                                                          "f-sending_organisation_id")
    response = page.get(f"/start/partnership?sending_organisation_id={setting.school.org_id}"
                        "&hosting_organisation_id=")
    assert response.status_code == 422
    assert "Choose the partner organisation" in response.get_data(as_text=True)
    response = page.post("/start/partnership", {"sending_organisation_id": setting.school.org_id,
                                                "hosting_organisation_id": setting.hotel.org_id}, csrf=False)
    assert response.status_code == 400
    assert count(setting.db, ProcessInstance) == 0


# --------------------------------------------------------------------------------------------------
# Nominate a learner
# --------------------------------------------------------------------------------------------------


def nomination(**overrides: Any) -> dict[str, Any]:
    start = clock.now().date() + timedelta(days=40)
    values = {"qualification_title": "Cook", "start_date": start.isoformat(),
              "end_date": (start + timedelta(days=34)).isoformat(), "learner.name": "Noah Jansen",
              "learner.date_of_birth": "2004-05-06", "learner.email": "noah.jansen@learner.example"}
    values.update(overrides)
    return values


def test_nominating_shows_the_mous_terms_and_starts_the_mobility(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    html = page.get("/start/mobility").get_data(as_text=True)
    assert "choose-mou" not in html, "one MoU in force: no first step"
    assert f'<input type="hidden" name="mou_id" value="{setting.mou_id}">' in html
    assert f'<option value="{setting.be.org_id}" selected>' in field_block(html, "f-hosting_organisation_id")
    assert "units U1, U2, U3" in field_block(html, "f-qualification_title")
    assert "at least 3 and at most 12 weeks" in html

    response = page.post("/start/mobility", {"mou_id": setting.mou_id,
                                             **nomination(hosting_organisation_id=setting.be.org_id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with setting.db.transaction(write=False) as s:
        (mobility,) = s.scalars(select(Mobility)).all()
        (task,) = s.scalars(select(HumanTask).where(HumanTask.instance_id == mobility.process_instance_id)).all()
    assert (mobility.mou_id, mobility.hosting_organisation_id, mobility.learner.name) == (
        setting.mou_id, setting.be.org_id, "Noah Jansen")
    assert (task.bpmn_id, response.headers["Location"]) == ("prepare_la", f"/tasks/{task.id}")
    shown = page.get(response.headers["Location"]).get_data(as_text=True)
    assert "Noah Jansen is nominated" in shown
    assert "Prepare the Learning Agreement" in shown


def test_a_refused_nomination_shows_each_error_next_to_its_field_and_keeps_nothing(setting: Setting) -> None:
    page = setting.browser(setting.nl)
    base = {"mou_id": setting.mou_id, "hosting_organisation_id": setting.be.org_id}
    response = page.post("/start/mobility", {**base, **nomination(**{"learner.name": "", "start_date": ""})})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Required" in field_block(html, "f-learner-name")
    assert "Required" in field_block(html, "f-start_date")
    assert 'value="noah.jansen@learner.example"' in field_block(html, "f-learner-email"), "what was typed stays"

    today = clock.now().date()
    response = page.post("/start/mobility", {**base, **nomination(
        start_date=today.isoformat(), end_date=(today - timedelta(days=3)).isoformat())})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "must start after today" in field_block(html, "f-start_date")
    assert "Before the start date" in field_block(html, "f-end_date")

    response = page.post("/start/mobility", {**base, **nomination(**{"learner.email": "nobody@learner.example"})})
    assert response.status_code == 422
    assert "No account for nobody@learner.example" in field_block(response.get_data(as_text=True), "f-learner-email")

    minor_birthday = (today - timedelta(days=16 * 365)).isoformat()
    response = page.post("/start/mobility", {**base, **nomination(**{"learner.date_of_birth": minor_birthday})})
    assert response.status_code == 422
    assert "parent or guardian" in field_block(response.get_data(as_text=True), "f-learner-guardian_name")
    assert count(setting.db, Mobility) == 0
    assert count(setting.db, ProcessInstance) == 0


def test_only_the_sending_organisation_nominates_under_its_mou(setting: Setting) -> None:
    host = setting.browser(setting.be)  # signed the MoU: sees it, but does not send under it
    html = host.get("/start/mobility").get_data(as_text=True)
    assert "No MoU in force to nominate under." in html
    assert host.get(f"/start/mobility?mou_id={setting.mou_id}").status_code == 403
    response = host.post("/start/mobility", {"mou_id": setting.mou_id,
                                             **nomination(hosting_organisation_id=setting.be.org_id)})
    assert response.status_code == 403
    outsider = setting.browser(setting.outsider)
    assert outsider.get(f"/start/mobility?mou_id={setting.mou_id}").status_code == 404
    response = outsider.post("/start/mobility", {"mou_id": setting.mou_id,
                                                 **nomination(hosting_organisation_id=setting.be.org_id)})
    assert response.status_code == 404
    assert count(setting.db, Mobility) == 0


# --------------------------------------------------------------------------------------------------
# Start an instance (administrators)
# --------------------------------------------------------------------------------------------------


def test_an_administrator_starts_any_process_binding_each_role(setting: Setting) -> None:
    member = setting.browser(setting.nl)
    assert member.get("/start/instance").status_code == 403
    assert member.post("/start/instance", {"process_key": "two_lane_review"}).status_code == 403

    admin = setting.browser(setting.admin)
    html = admin.get("/start/instance").get_data(as_text=True)
    assert "two_lane_review, version 1" in html
    assert "start-instance-form" not in html
    html = admin.get("/start/instance?process_key=mobility").get_data(as_text=True)
    assert 'id="own-page-note"' in html
    assert 'href="/start/mobility"' in html
    html = admin.get("/start/instance?process_key=two_lane_review").get_data(as_text=True)
    assert 'name="parties.sending"' in html
    assert 'name="parties.hosting"' in html
    assert f'<option value="user:{setting.learner.id}">' in html
    assert f'<option value="org:{setting.nl.org_id}">' in html

    response = admin.post("/start/instance", {"process_key": "two_lane_review", "version": "1",
                                              "parties.sending": f"org:{setting.nl.org_id}", "parties.hosting": "",
                                              "variables": "[1, 2]"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose an organisation or a person" in field_block(html, "f-parties-hosting")
    assert "A JSON object" in field_block(html, "f-variables")
    response = admin.post("/start/instance", {"process_key": "two_lane_review", "version": "1",
                                              "parties.sending": f"org:{setting.nl.org_id}",
                                              "parties.hosting": "org:999999"})
    assert response.status_code == 422
    assert "No organisation 999999" in field_block(
        response.get_data(as_text=True), "f-parties-hosting")
    response = admin.post("/start/instance", {"process_key": "no_such_process", "parties.x": "org:1"})
    assert response.status_code == 422
    assert count(setting.db, ProcessInstance) == 0

    response = admin.post("/start/instance", {
        "process_key": "two_lane_review", "version": "1", "business_key": "mobility-7",
        "parties.sending": f"org:{setting.nl.org_id}", "parties.hosting": f"user:{setting.learner.id}",
        "variables": '{"note": "started from the page"}'})
    assert response.status_code == 302
    with setting.db.transaction(write=False) as s:
        instance = s.scalars(select(ProcessInstance)).one()
        bound = {p.role: (p.organisation_id, p.user_id) for p in s.scalars(
            select(InstanceParty).where(InstanceParty.instance_id == instance.id))}
    assert response.headers["Location"] == f"/instances/{instance.id}"
    assert instance.business_key == "mobility-7"
    assert bound == {"sending": (setting.nl.org_id, None), "hosting": (None, setting.learner.id)}
    assert "mobility-7" in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_the_instance_page_says_who_may_start_the_chosen_process(setting: Setting) -> None:
    """The start rule each process declares in its BPMN (startableBy, startCheck) is what the engine
    enforces on every path; the administrators' page shows it before anything is started."""
    admin = setting.browser(setting.admin)

    def rule(process_key: str) -> str:
        page = admin.get(f"/start/instance?process_key={process_key}").get_data(as_text=True)
        start = page.index('id="start-rule"')
        return unescape(page[start:page.index("</p>", start)])

    assert "members of the organisation bound to 'sending'" in rule("mobility")
    assert "<code>mobility.nominated</code>" in rule("mobility")
    assert "the platform only" in rule("mou_approval_round")


def test_a_partnership_page_cannot_draw_in_an_institution_the_start_check_refuses(setting: Setting) -> None:
    """The page's service and the engine's start check (partnership.partners) agree: the DE chamber is
    the one MoU approver registered, so another DE organisation in its lane is refused, nothing started."""
    page = setting.browser(setting.school)
    response = page.post("/start/partnership", {
        "sending_organisation_id": setting.school.org_id, "hosting_organisation_id": setting.hotel.org_id,
        "competent_institution_home_id": setting.outsider.org_id,
        "competent_institution_host_id": setting.region.org_id})
    assert response.status_code == 422
    assert "Not an organisation that may stand for" in response.get_data(as_text=True)
    assert count(setting.db, ProcessInstance) == 0


def test_pages_need_a_deployed_process(app: Flask, db: Database) -> None:
    school, hotel = make_party(db, "DE", "School"), make_party(db, "ES", "Hotel")
    page = browser_for(app, person(school))
    response = page.get(f"/start/partnership?sending_organisation_id={school.org_id}"
                        f"&hosting_organisation_id={hotel.org_id}")
    assert response.status_code == 409
    assert "not deployed" in response.get_data(as_text=True)


def test_a_nomination_may_name_an_intermediary(setting: Setting) -> None:
    """The intermediary is chosen from the directory (not the MoU's partners); it becomes a party."""
    page = setting.browser(setting.nl)
    html = page.get("/start/mobility").get_data(as_text=True)
    choices = field_block(html, "f-intermediary_organisation_id")
    assert f'<option value="{setting.outsider.org_id}">' in choices
    assert f'<option value="{setting.be.org_id}"' not in choices
    response = page.post("/start/mobility", {"mou_id": setting.mou_id, **nomination(
        hosting_organisation_id=setting.be.org_id, intermediary_organisation_id=setting.outsider.org_id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with setting.db.transaction(write=False) as s:
        (mobility,) = s.scalars(select(Mobility)).all()
    assert mobility.intermediary_organisation_id == setting.outsider.org_id
