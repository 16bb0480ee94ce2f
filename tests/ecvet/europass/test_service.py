"""The Europass Mobility (ecvet/europass/service.py): issued for a recognised mobility by the sending
organisation, signed off by the host and the sending organisation (their signed-in members, quoting the
hash), readable by the learner only once both signed; its fields come from the records."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ecvet.documents import service as documents
from ecvet.europass import service, views
from ecvet.mobility.models import Mobility
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER, LifecycleWorld, make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
SKILLS = {"language": "Kitchen Danish (A2)", "job_related": "Cold buffet for 80 guests"}


def issued(db: Database, life: LifecycleWorld, **extra: Any) -> tuple[int, str]:
    with db.transaction() as s:
        row = service.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id,
                            objective="Garde-manger practice abroad", skills=SKILLS, **extra)
        return row.id, row.content_hash


def test_fields_of_the_template_come_from_the_records(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    europass_id, digest = issued(db, life)
    with db.transaction(write=False) as s:
        content = views.europass(s, service.get(s, actor=life.sending.actor, europass_id=europass_id))["content"]
    assert content["holder"]["name"] == LIFECYCLE_LEARNER
    assert content["europass_mobility_number"] == f"EM-{life.mobility_id:06d}"
    assert content["issuing_organisation"] == content["sending_organisation"]["name"]
    assert content["host_organisation"]["mentor"]["name"] == "Søren Ørsted"  # the host's member who issued
    abroad = content["learning_abroad"]
    assert (abroad["start"], abroad["end"]) == ("2027-03-01", "2027-04-08")  # the actual last day, a day early
    assert abroad["qualification"]["title"]
    assert abroad["objective"] == "Garde-manger practice abroad"
    assert abroad["transcript"]["hash"]
    units = {u["code"]: u for u in content["units"]}
    assert set(units) == {"U1", "U2"}
    assert units["U1"]["learning_outcomes"] == ["Prepares cold starters to recipe"]
    assert units["U1"]["hours"] == 120
    assert units["U1"]["assessment"]["method"] == "practical_task"
    assert units["U1"]["assessment"]["assessor"]["name"] == "Søren Ørsted"
    assert (units["U2"]["recognised"], units["U2"]["ecvet_points_recognised"]) == (True, 2)
    assert content["ecvet_points_recognised"] == 14
    assert content["skills"] == SKILLS
    assert len(digest) == 64


def test_host_and_sending_sign_off_and_then_the_learner_reads_it(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    europass_id, digest = issued(db, life)
    with db.transaction(write=False) as s, pytest.raises(NotFound):
        service.get(s, actor=life.learner, europass_id=europass_id)  # not before both signed off
    with db.transaction() as s:
        service.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash=digest,
                     signer={"place": "Aarhus"})
    with db.transaction(write=False) as s:
        assert views.europass(s, service.get(s, actor=life.hosting.actor, europass_id=europass_id))["status"] \
            == "signing"
        assert service.of_learner(s, actor=life.learner, learner_id=s.get_one(Mobility, life.mobility_id)
                                  .learner_id) == []
    with db.transaction() as s:
        service.sign(s, actor=life.sending.actor, europass_id=europass_id, party="sending", content_hash=digest)
    with db.transaction(write=False) as s:
        shown = views.europass(s, service.get(s, actor=life.learner, europass_id=europass_id))
        document = documents.build(s, actor=life.learner, kind="europass-mobility", record_id=europass_id)
        actions = [e.action for e in s.query(AuditEvent).order_by(AuditEvent.id)]
    assert shown["status"] == "signed"
    assert [(x["party"], x["signer"]["name"], x["signer"]["place"]) for x in shown["signatures"]] == [
        ("hosting", "Søren Ørsted", "Aarhus"), ("sending", "Anna Schmidt", None)]
    assert document.status == "signed"
    assert all(sig.counts for sig in document.signatures)
    assert document.data["holder"]["name"] == LIFECYCLE_LEARNER
    headings = [section.heading for section in document.sections]
    assert headings[:6] == ["Holder", "Europass Mobility", "Sending organisation", "Host organisation",
                            "The learning abroad", "Units and learning outcomes acquired"]
    assert actions.count("europass_mobility.signed") == 2
    assert "europass_mobility.issued" in actions


def test_only_the_right_people_sign_and_only_the_text_read(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    europass_id, digest = issued(db, life)
    with db.transaction() as s, pytest.raises(Forbidden):  # the school cannot sign for the host
        service.sign(s, actor=life.sending.actor, europass_id=europass_id, party="hosting", content_hash=digest)
    with db.transaction() as s, pytest.raises(NotFound):  # an outsider does not even see it
        service.sign(s, actor=life.outsider.actor, europass_id=europass_id, party="sending", content_hash=digest)
    with db.transaction() as s, pytest.raises(Conflict):
        service.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash="0" * 64)
    with db.transaction() as s, pytest.raises(Invalid):  # a signature in another person's name
        service.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash=digest,
                     signer={"name": "Somebody Else"})
    with db.transaction() as s:
        service.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash=digest)
    with db.transaction() as s, pytest.raises(Conflict):
        service.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash=digest)


def test_issued_once_by_the_school_for_a_recognised_mobility(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "validated")
    with db.transaction() as s, pytest.raises(Conflict, match="recognised"):
        service.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id)
    life = make_lifecycle_world(db, frozen, "recognised")
    with db.transaction() as s, pytest.raises(Forbidden):
        service.issue(s, actor=life.hosting.actor, mobility_id=life.mobility_id)
    with db.transaction() as s, pytest.raises(Invalid) as refused:
        service.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id, skills={"cooking": "x" * 3000})
    assert "skills.cooking" in (refused.value.errors or {})
    issued(db, life)
    with db.transaction() as s, pytest.raises(Conflict, match="already"):
        service.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id)


def test_the_document_side_by_side_in_the_partners_languages(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    europass_id, _ = issued(db, life)
    with db.transaction(write=False) as s:
        document = documents.build(s, actor=life.sending.actor, kind="europass-mobility", record_id=europass_id,
                                   languages=("de", "en"))
    assert document.title == "Europass Mobilität / Europass Mobility"
    assert [section.heading for section in document.sections][:2] == ["Inhaber/in / Holder",
                                                                     "Europass Mobilität / Europass Mobility"]
    labels = [label for section in document.sections for label, _ in section.fields]
    assert "Mentor/in / Mentor" in labels
    assert "Garde-manger practice abroad" in [value for section in document.sections for _, value in section.fields]
