"""The Europass Mobility's sign-off reaches people (ecvet/europass/sign_off.py): issuing it e-mails every
member of the host and of the sending organisation, and each organisation's members see it waiting in
their inbox until their organisation has signed it off; nobody else sees it."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ecvet.europass import service, sign_off
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent, OutboxMessage
from tests.support.ecvet_worlds import LIFECYCLE_LEARNER, make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def test_issuing_mails_both_organisations_and_their_inboxes_list_it_until_signed(
        db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "recognised")
    with db.transaction() as s:
        row = service.issue(s, actor=life.sending.actor, mobility_id=life.mobility_id, objective="Cold kitchen")
        europass_id, digest = row.id, row.content_hash
    with db.transaction(write=False) as s:
        mails = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == sign_off.MAIL_KIND)))
        requested = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "europass_mobility.sign_off_requested")).one()
        hosting = sign_off.waiting_for(s, actor=life.hosting.actor)
        sending = sign_off.waiting_for(s, actor=life.sending.actor)
        outsider = sign_off.waiting_for(s, actor=life.outsider.actor)
    recipients = {m.to_email for m in mails}
    assert {life.hosting.email, life.sending.email} <= recipients
    assert life.outsider.email not in recipients
    assert len(recipients) == len(mails)  # one message per person
    mail = next(m for m in mails if m.to_email == life.hosting.email)
    assert mail.subject.startswith("[ECVET] Europass Mobility to sign off: EM-")
    assert LIFECYCLE_LEARNER in mail.subject
    assert digest in mail.body
    assert f"/mobilities/{life.mobility_id}/europass-mobility" in mail.body
    assert sorted(requested.detail["to"]) == sorted(recipients)
    assert [(w["europass_id"], w["party"], w["learner"]) for w in hosting] == [
        (europass_id, "hosting", LIFECYCLE_LEARNER)]
    assert [(w["europass_id"], w["party"]) for w in sending] == [(europass_id, "sending")]
    assert outsider == []

    with db.transaction() as s:
        service.sign(s, actor=life.hosting.actor, europass_id=europass_id, party="hosting", content_hash=digest)
    with db.transaction(write=False) as s:
        assert sign_off.waiting_for(s, actor=life.hosting.actor) == []  # signed: gone from the host's inbox
        assert [w["party"] for w in sign_off.waiting_for(s, actor=life.sending.actor)] == ["sending"]
    with db.transaction() as s:
        service.sign(s, actor=life.sending.actor, europass_id=europass_id, party="sending", content_hash=digest)
    with db.transaction(write=False) as s:
        assert sign_off.waiting_for(s, actor=life.sending.actor) == []
