"""The partnership review (issue 13 item 8): every mobility's evaluations and action plans under one MoU,
summarised for the MoU's partners only; the conclusions start a MoU revision the Partnership process
runs, with the conclusions as the changes asked for."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

import ecvet.partnership.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
import ecvet.review.workflow  # noqa: F401  (registers the actions and connectors, as the app and worker do)
from ecvet.documents import pdf
from ecvet.documents import service as documents
from ecvet.partnership.models import MouStatus
from ecvet.review import partnership as partnership_review
from ecvet.review import visibility
from ecvet.review.models import EvaluationVisibility, PartnershipReview
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.parties import Actor
from tests.support.ecvet_factories import make_party
from tests.support.engine import actor_for
from tests.support.factories import make_user
from tests.support.partnership_driver import PartnershipRun, start
from tests.support.review_driver import action_items, evaluation, start_review

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(db: Database) -> Actor:
    return actor_for(db, make_user(db, is_admin=True).id)


def in_force(db: Database, admin: Actor) -> PartnershipRun:
    """A NL–BE partnership (no competent institution asked) whose MoU is in force."""
    p = start(db, admin, "NL", "BE")
    p.build()
    p.draft_and_submit()
    p.approve_all("hosting")
    assert p.mou()[0] == MouStatus.ACTIVE
    return p


def two_reviewed_mobilities(db: Database, p: PartnershipRun) -> None:
    first = start_review(db, p)
    first.complete("learner", "evaluate_learner", evaluation(unit_remarks=[{"unit": "U1", "remark": "Too short"}]))
    first.complete("hosting", "evaluate_hosting", evaluation("partly", "no"))
    first.complete("sending", "evaluate_sending", evaluation("partly", "yes", changes_proposed="Eight weeks"))
    first.complete("sending", "plan_actions", {"summary": "U1 needs more time.", "items": action_items(),
                                               "revise_mou": False})
    second = start_review(db, p)
    second.complete("learner", "evaluate_learner", evaluation())
    second.complete("hosting", "evaluate_hosting", evaluation("no", "partly"))


def test_the_partners_read_every_mobilitys_review_in_one_summary(db: Database, admin: Actor,
                                                                 frozen: FrozenClock) -> None:
    p = in_force(db, admin)
    two_reviewed_mobilities(db, p)
    mou_id = p.partnership().mou_id
    assert mou_id is not None
    with db.transaction(write=False) as s:
        seen = partnership_review.summary(s, actor=p.host.actor, mou_id=mou_id)
    assert (seen["mobilities"], seen["reviews"], seen["evaluations"]) == (2, 2, 5)
    # The answers are counted from the sheets the reader reads: by default the host its own two only (with
    # one review a count per party would be that party's sheet).
    outcomes, evidence = seen["questions"]
    assert outcomes["overall"] == {"yes": 0, "partly": 1, "no": 1}
    assert outcomes["by_party"] == {"hosting": {"yes": 0, "partly": 1, "no": 1}}
    assert evidence["overall"] == {"yes": 0, "partly": 1, "no": 1}
    # The proposals are quoted from the sheets the reader reads (issue 16): the host its own by default,
    # the school's too once the partners share their sheets, the learner's never; admins all.
    quoted = {(x["party"], x["kind"], x["unit"], x["text"]) for x in seen["proposals"]}
    assert {party for party, *_ in quoted} == {"hosting"}
    with db.transaction() as s:
        visibility.set_policy(s, actor=p.sender.actor, mou_id=mou_id, visibility=EvaluationVisibility.PARTNERS)
    with db.transaction(write=False) as s:
        shared = partnership_review.summary(s, actor=p.host.actor, mou_id=mou_id)
        everything = partnership_review.summary(s, actor=admin, mou_id=mou_id)
    quoted = {(x["party"], x["kind"], x["unit"], x["text"]) for x in shared["proposals"]}
    assert ("sending", "changes_proposed", None, "Eight weeks") in quoted
    assert {party for party, *_ in quoted} == {"sending", "hosting"}
    assert ("learner", "unit_remark", "U1", "Too short") in {
        (x["party"], x["kind"], x["unit"], x["text"]) for x in everything["proposals"]}
    assert set(shared["questions"][0]["by_party"]) == {"sending", "hosting"}
    outcomes, evidence = everything["questions"]
    assert outcomes["overall"] == {"yes": 2, "partly": 2, "no": 1}
    assert set(outcomes["by_party"]) == {"sending", "hosting", "learner"}
    assert evidence["overall"] == {"yes": 3, "partly": 1, "no": 1}
    (plan,) = seen["action_plans"]
    assert (plan["status"], plan["actions_done"], plan["actions_total"]) == ("open", 0, 3)
    assert (seen["actions_done"], seen["actions_total"], len(seen["open_actions"])) == (0, 3, 3)
    for outsider in (p.ci_home.actor, make_party(db, "NL", "Another school").actor):
        with pytest.raises(NotFound), db.transaction(write=False) as s:
            partnership_review.summary(s, actor=outsider, mou_id=mou_id)


def test_the_conclusions_start_the_mou_revision_with_the_summary(db: Database, admin: Actor,
                                                                 frozen: FrozenClock) -> None:
    p = in_force(db, admin)
    two_reviewed_mobilities(db, p)
    mou_id = p.partnership().mou_id
    assert mou_id is not None
    version = p.mou()[1]
    for actor, conclusions, error in ((p.ci_home.actor, "x", NotFound), (admin, "x", Forbidden),
                                      (p.host.actor, "  ", Invalid)):
        with pytest.raises(error), db.transaction() as s:
            partnership_review.conclude(s, actor=actor, mou_id=mou_id, conclusions=conclusions, request_revision=True)
    conclusions = "Eight weeks for U1 in every mobility; assessment criteria in the transcript template."
    with db.transaction() as s:
        row = partnership_review.conclude(s, actor=p.host.actor, mou_id=mou_id, conclusions=conclusions,
                                          request_revision=True)
        row_id = row.id
        assert (row.summary["evaluations"], row.mou_version_reviewed) == (5, version)
    # The Partnership process revises: the sending school drafts, reading the conclusions.
    assert p.open_steps() == {"draft_mou"}
    request = p.form_values("sending", "draft_mou")["revision_request"]
    assert (request["source"], request["changes"], request["partnership_review_id"]) == (
        "partnership_review", conclusions, row_id)
    with pytest.raises(Conflict), db.transaction() as s:  # a revision is under way: no second request
        partnership_review.conclude(s, actor=p.sender.actor, mou_id=mou_id, conclusions="Again", request_revision=True)
    with db.transaction() as s:  # conclusions without a revision are kept all the same
        partnership_review.conclude(s, actor=p.sender.actor, mou_id=mou_id, conclusions="Noted")
        seen = partnership_review.summary(s, actor=p.sender.actor, mou_id=mou_id)
        assert [(c["conclusions"], c["revision_requested"]) for c in seen["conclusions"]] == [
            (conclusions, True), ("Noted", False)]
        assert s.scalar(select(func.count(PartnershipReview.id))) == 2
    with db.transaction(write=False) as s:  # the conclusions as a document, with the summary as read then
        document = documents.build(s, actor=p.host.actor, kind="partnership-review", record_id=row_id)
        with pytest.raises(NotFound):
            documents.build(s, actor=p.ci_home.actor, kind="partnership-review", record_id=row_id)
    assert (document.title, document.status) == ("Review of the partnership", "revision started")
    answers = next(x for x in document.sections if x.heading == "What the evaluation sheets say").table
    assert answers is not None
    # kept for every partner to read: by default no partner reads another's sheet, so no answer is counted
    assert answers.rows == []
    assert next(x for x in document.sections if x.heading == "Conclusions").text == conclusions
    assert pdf.render(document).startswith(b"%PDF-")
    # once the partners share their sheets, a conclusion keeps their answers, never the learners'
    with db.transaction() as s:
        visibility.set_policy(s, actor=p.sender.actor, mou_id=mou_id, visibility=EvaluationVisibility.PARTNERS)
        shared_id = partnership_review.conclude(s, actor=p.sender.actor, mou_id=mou_id, conclusions="Shared").id
    with db.transaction(write=False) as s:
        shared = documents.build(s, actor=p.host.actor, kind="partnership-review", record_id=shared_id)
    rows = next(x for x in shared.sections if x.heading == "What the evaluation sheets say").table
    assert rows is not None
    assert {row[1] for row in rows.rows} == {"Everyone", "Sending organisation", "Hosting organisation"}
    p.draft_and_submit(mobility_duration_weeks={"min": 4, "max": 8})
    p.approve_all("hosting")
    assert p.mou()[:2] == (MouStatus.ACTIVE, version + 1)
