"""The role map page (api/web/role_map_pages.py): every party of the partnership reads the map and confirms
it for its organisation, from the inbox or the MoU's document page; nobody else sees it."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.partnership.models import RoleMapConfirmation
from engine.db import Database
from engine.models import AuditEvent
from tests.api.web.conftest import browser_for
from tests.support.ecvet_factories import Party, make_party
from tests.support.engine import actor_for
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.partnership_driver import start


def member(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def confirmations(db: Database) -> list[tuple[int, str, str | None, int | None]]:
    with db.transaction(write=False) as s:
        return [(c.organisation_id, c.jurisdiction, c.beyond, c.signer_user_id)
                for c in s.scalars(select(RoleMapConfirmation).order_by(RoleMapConfirmation.id))]


def test_each_party_confirms_the_role_map_on_its_page(app: Flask, db: Database) -> None:
    p = start(db, actor_for(db, make_user(db, is_admin=True).id), "DE", "NL", ci_home_for="DE")
    p.build()  # the sending school maps the roles
    pid = p.partnership().id
    host = browser_for(app, member(p.host))
    inbox = host.get("/tasks").get_data(as_text=True)
    assert "Role maps to confirm" in inbox
    assert f'href="/partnerships/{pid}/role-map#confirm"' in inbox
    assert f"Role map to confirm: partnership {pid}, for Hosting company" in inbox

    page = host.get(f"/partnerships/{pid}/role-map")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"Role map of partnership {pid}" in html
    assert "MoU approval" in html  # a function named in the reader's words
    assert "Host country (NL)" in html
    assert "Sending school" in html
    assert "Confirm for Hosting company" in html
    assert "Nobody has confirmed this role map yet" in html

    outsider = browser_for(app, member(make_party(db, "DE", "Outsider")))
    assert outsider.get(f"/partnerships/{pid}/role-map").status_code == 404
    assert "Role maps to confirm" not in outsider.get("/tasks").get_data(as_text=True)
    role_map_id = html.split('name="role_map_id" value="')[1].split('"')[0]
    refused = outsider.post(f"/partnerships/{pid}/role-map", {"role_map_id": role_map_id, "jurisdiction": "All"})
    assert refused.status_code == 404
    missing = host.post(f"/partnerships/{pid}/role-map", {"role_map_id": role_map_id, "jurisdiction": " "})
    assert missing.status_code == 302
    assert "The confirmation is not complete" in host.get(missing.headers["Location"]).get_data(as_text=True)
    assert confirmations(db) == [], "nothing recorded by a refused form"

    done = host.post(f"/partnerships/{pid}/role-map", {
        "role_map_id": role_map_id, "organisation_id": str(p.host.org_id),
        "jurisdiction": "Assessment in our kitchen", "beyond": "Recognition at home", "position": "Chef"})
    assert done.status_code == 302
    after = host.get(done.headers["Location"]).get_data(as_text=True)
    assert "confirmation of the role map is recorded" in after
    assert "Assessment in our kitchen" in after
    assert "Recognition at home" in after
    assert "Confirm for Hosting company" not in after, "confirmed once"
    assert confirmations(db) == [(p.host.org_id, "Assessment in our kitchen", "Recognition at home",
                                  p.host.user_id)]
    with db.transaction(write=False) as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "role_map.confirmed")) == 1
    assert "Role maps to confirm" not in host.get("/tasks").get_data(as_text=True)
    # The competent institution at home still has it to confirm.
    chamber = browser_for(app, member(p.ci_home))
    assert f"/partnerships/{pid}/role-map#confirm" in chamber.get("/tasks").get_data(as_text=True)


def test_the_mou_document_leads_to_the_role_map(app: Flask, db: Database) -> None:
    p = start(db, actor_for(db, make_user(db, is_admin=True).id), "NL", "BE")
    p.build()
    p.draft_and_submit()
    mou_id, pid = p.partnership().mou_id, p.partnership().id
    host = browser_for(app, member(p.host))
    assert f'href="/mous/{mou_id}/role-map"' in host.get(f"/documents/mou/{mou_id}").get_data(as_text=True)
    moved = host.get(f"/mous/{mou_id}/role-map")
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith(f"/partnerships/{pid}/role-map")
    outsider = browser_for(app, member(make_party(db, "NL", "Outsider")))
    assert outsider.get(f"/mous/{mou_id}/role-map").status_code == 404
