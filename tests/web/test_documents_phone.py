"""A signed document on a 375 px phone: nothing is wider than the screen (a wide table scrolls in its own
box), each signature shows the whole SHA-256 it was given for, with place and date, and whether it is valid
for this version in words (issue 12)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from demo import seed
from ecvet.mobility.models import LearningAgreement, Mobility
from ecvet.mobility.vocabulary import LaStatus
from tests.support.factories import Person
from tests.web.conftest import TIMEOUT_MS, LiveServer, do_sign_in

PHONE = {"width": 375, "height": 800}
WIDTH = "() => document.documentElement.scrollWidth"
#: Whether any element of the signatures is wider than its own box (a hash cut off or running out).
CLIPPED = """() => [...document.querySelectorAll('.signature-list .hash-full')]
                   .some(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > innerWidth)"""


def test_a_signed_learning_agreement_fits_a_phone_with_every_hash_whole(browser: Any, live_server: LiveServer,
                                                                         screenshot: Any) -> None:
    seed.seed(live_server.db)
    with live_server.db.transaction(write=False) as s:
        done = LearningAgreement.status.in_((LaStatus.SIGNED, LaStatus.APPROVED))
        la = s.scalars(select(LearningAgreement).join(Mobility, Mobility.id == LearningAgreement.mobility_id)
                       .where(done).order_by(LearningAgreement.id)).first()
        assert la is not None, "the demo has a signed Learning Agreement (Lea's)"
        la_id = la.id
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        do_sign_in(page, Person(0, "coordinator@berufskolleg.example", seed.DEMO_PASSWORD))
        response = page.goto(f"/documents/learning-agreement/{la_id}")
        assert response is not None
        assert response.status == 200
        assert page.evaluate(WIDTH) <= PHONE["width"]
        hashes = page.locator(".signature-list .hash-full")
        assert hashes.count() >= 4  # learner, guardian, school and hotel
        for i in range(hashes.count()):
            assert len(hashes.nth(i).inner_text().strip()) == 64  # the whole SHA-256, wrapped, never cut
        assert not page.evaluate(CLIPPED)
        signatures = page.locator(".signature-list").inner_text()
        assert "Place and date" in signatures
        assert "Valid for this version" in signatures
        screenshot(page, "phone-document-signatures")
    finally:
        context.close()
