"""The partnership review page (api/web/review_pages.py): every mobility's evaluations and action plans
under a MoU for its partners only; its form records the conclusions and starts the MoU revision."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
import ecvet.review.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.partnership.models import MouStatus
from engine.clock import FrozenClock
from engine.db import Database
from tests.api.web.conftest import browser_for
from tests.support.ecvet_factories import Party
from tests.support.engine import actor_for
from tests.support.factories import PASSWORD, Person, make_user
from tests.support.partnership_driver import start
from tests.support.review_driver import action_items, evaluation, start_review

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def member(party: Party) -> Person:
    return Person(party.user_id, party.email, PASSWORD)


def test_the_partners_review_the_mou_and_start_its_revision_from_the_page(app: Flask, db: Database,
                                                                         frozen: FrozenClock) -> None:
    p = start(db, actor_for(db, make_user(db, is_admin=True).id), "NL", "BE")
    p.build()
    p.draft_and_submit()
    p.approve_all("hosting")
    assert p.mou()[0] == MouStatus.ACTIVE
    r = start_review(db, p)
    r.complete("learner", "evaluate_learner", evaluation(unit_remarks=[{"unit": "U1", "remark": "Too short"}]))
    r.complete("hosting", "evaluate_hosting", evaluation("partly", "no"))
    r.complete("sending", "evaluate_sending", evaluation())
    r.complete("sending", "plan_actions", {"summary": "U1 needs more time.", "items": action_items(),
                                           "revise_mou": False})
    mou_id = p.partnership().mou_id
    host = browser_for(app, member(p.host))
    assert f'href="/mous/{mou_id}/review"' in host.get(f"/documents/mou/{mou_id}").get_data(as_text=True)
    page = host.get(f"/mous/{mou_id}/review")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"Review of the partnership under MoU {mou_id}" in html
    assert "Too short" not in html  # the learner's sheet is the learner's alone (issue 16)
    assert "Add assessment criteria to the transcript template" in html  # an open action
    assert "0 of 3 done" in html
    outsider = browser_for(app, member(p.ci_home))  # a competent institution is no partner of the MoU
    assert outsider.get(f"/mous/{mou_id}/review").status_code == 404

    refused = host.post(f"/mous/{mou_id}/review", {"conclusions": " ", "request_revision": "yes"})
    assert refused.status_code == 302
    assert p.open_steps() == set(), "nothing started by a refused form"
    done = host.post(f"/mous/{mou_id}/review", {"conclusions": "Eight weeks for U1.", "request_revision": "yes"})
    assert done.status_code == 302
    assert "the MoU revision has started" in host.get(done.headers["Location"]).get_data(as_text=True)
    assert p.open_steps() == {"draft_mou"}
    assert p.form_values("sending", "draft_mou")["revision_request"]["changes"] == "Eight weeks for U1."
    record = re.search(r'href="(/documents/partnership-review/\d+)"', host.get(f"/mous/{mou_id}/review").get_data(
        as_text=True))
    assert record is not None
    assert "Eight weeks for U1." in host.get(record.group(1)).get_data(as_text=True)


def test_a_partner_chooses_on_the_page_who_reads_the_evaluation_sheets(app: Flask, db: Database,
                                                                      frozen: FrozenClock) -> None:
    p = start(db, actor_for(db, make_user(db, is_admin=True).id), "NL", "BE")
    p.build()
    p.draft_and_submit()
    p.approve_all("hosting")
    r = start_review(db, p)
    r.complete("learner", "evaluate_learner", evaluation())
    r.complete("hosting", "evaluate_hosting", evaluation("partly", "no", changes_proposed="Longer stays please"))
    r.complete("sending", "evaluate_sending", evaluation())
    mou_id = p.partnership().mou_id
    sender = browser_for(app, member(p.sender))
    html = sender.get(f"/mous/{mou_id}/review").get_data(as_text=True)
    assert 'name="visibility" value="own" checked' in html
    assert "Longer stays please" not in html  # the host's sheet, by default the host's only
    done = sender.post(f"/mous/{mou_id}/review/evaluation-visibility", {"visibility": "partners"})
    assert done.status_code == 302
    html = sender.get(done.headers["Location"]).get_data(as_text=True)
    assert "Saved: who reads the evaluation sheets." in html
    assert 'name="visibility" value="partners" checked' in html
    assert "Longer stays please" in html
    bad = sender.post(f"/mous/{mou_id}/review/evaluation-visibility", {"visibility": "everyone"})
    assert bad.status_code == 302
    assert 'name="visibility" value="partners" checked' in sender.get(f"/mous/{mou_id}/review").get_data(as_text=True)
