"""ecvet.review.visibility (applied by ecvet.review.service and the review documents): whose evaluation
sheets each party reads under the MoU's policy; the learner only ever their own."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

import ecvet.partnership.workflow  # noqa: F401  (registers the actions, as the app and worker do)
import ecvet.review.workflow  # noqa: F401
from ecvet.documents import service as documents
from ecvet.review import service, visibility
from ecvet.review.models import EvaluationVisibility
from engine.db import Database
from engine.errors import Forbidden, NotFound
from engine.parties import Actor
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import start
from tests.support.review_driver import ReviewRun, action_items, evaluation, start_review

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def r(db: Database) -> ReviewRun:
    p = start(db, actor_for(db, make_user(db, is_admin=True).id), "NL", "BE")
    p.build()
    p.draft_and_submit()
    p.approve_all("hosting")
    r = start_review(db, p)
    r.evaluate_all(hosting=evaluation("partly", "yes"))
    r.complete("sending", "plan_actions", {"summary": "Longer stays", "items": action_items(), "revise_mou": False})
    return r


def parties_read(r: ReviewRun, actor: Actor) -> list[str]:
    with r.db.transaction(write=False) as s:
        return [e.party for e in service.visible_evaluations(s, actor, r.review())]


def documents_read(r: ReviewRun, actor: Actor) -> set[str]:
    """The parties whose evaluation sheet the reader opens as a document."""
    opened = set()
    with r.db.transaction(write=False) as s:
        for sheet in service.evaluations_of(s, r.review()):
            try:
                documents.build(s, actor=actor, kind="evaluation", record_id=sheet.id)
            except NotFound:
                continue
            opened.add(sheet.party)
    return opened


def test_by_default_each_party_reads_its_own_sheet(r: ReviewRun) -> None:
    expected = {"sending": ["sending"], "hosting": ["hosting"], "learner": ["learner"]}
    for party, actor in r.actors().items():  # the competent institutions are no parties of the review
        assert parties_read(r, actor) == expected.get(party, [])
        assert documents_read(r, actor) == set(expected.get(party, []))


def test_partners_read_each_others_sheets_when_a_signing_partner_says_so(r: ReviewRun) -> None:
    mou_id = r.review().mou_id
    assert mou_id is not None
    with pytest.raises(NotFound), r.db.transaction() as s:
        visibility.set_policy(s, actor=r.learner, mou_id=mou_id, visibility=EvaluationVisibility.PARTNERS)
    with r.db.transaction() as s:
        visibility.set_policy(s, actor=r.sender.actor, mou_id=mou_id, visibility=EvaluationVisibility.PARTNERS)
    actors = r.actors()
    assert parties_read(r, actors["sending"]) == ["sending", "hosting"]
    assert parties_read(r, actors["hosting"]) == ["sending", "hosting"]
    assert parties_read(r, actors["learner"]) == ["learner"]
    assert documents_read(r, actors["hosting"]) == {"sending", "hosting"}


def test_an_administrator_reads_every_sheet_but_does_not_set_the_policy(db: Database, r: ReviewRun) -> None:
    admin = actor_for(db, make_user(db, is_admin=True).id)
    assert parties_read(r, admin) == ["sending", "hosting", "learner"]
    mou_id = r.review().mou_id
    assert mou_id is not None
    with pytest.raises(Forbidden), db.transaction() as s:
        visibility.set_policy(s, actor=admin, mou_id=mou_id, visibility=EvaluationVisibility.PARTNERS)
