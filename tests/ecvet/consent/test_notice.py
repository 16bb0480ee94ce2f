"""ecvet.consent.notice: the notice's version follows its English text; learners and a minor's guardian
must acknowledge the current version, staff need not; acknowledging is recorded once and audited."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from api.web import messages
from ecvet.consent import notice
from ecvet.consent.models import PrivacyAcknowledgement
from engine.clock import FrozenClock
from engine.db import Database
from engine.errors import Conflict, Invalid
from engine.models import AuditEvent
from tests.support import mobility_driver

T0 = mobility_driver.T0


def test_the_version_is_a_hash_of_the_english_text_so_an_edit_is_a_new_version() -> None:
    english = messages.english()
    version = notice.version_of(english)
    assert len(version) == 64
    assert notice.version_of(dict(english)) == version
    edited = {**english, "privacy.notice.retention.text": english["privacy.notice.retention.text"] + " Edited."}
    assert notice.version_of(edited) != version
    translated = {**english, "privacy.notice.title": "Datenschutzhinweis"}
    view = notice.view(english, translated, "de")
    assert (view["version"], view["title"]) == (version, "Datenschutzhinweis")
    assert [s["key"] for s in view["sections"]] == list(notice.SECTIONS)


def test_every_section_says_something_in_every_language() -> None:
    for language in messages.TRANSLATED:
        texts = messages.translations(language)
        missing = [k for k in notice.keys() if not texts.get(k)]
        assert missing == [], language


def test_learner_and_guardian_of_a_minor_must_acknowledge_staff_not(db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Keller", date(2009, 3, 15), guardian_account=True)
    assert run.guardian is not None
    current = notice.version_of(messages.english())
    with db.transaction(write=False) as s:
        assert notice.pending(s, actor=run.learner, version=current)
        assert notice.pending(s, actor=run.guardian, version=current)
        assert not notice.pending(s, actor=sc.sending.actor, version=current)
    with db.transaction() as s:
        first = notice.acknowledge(s, actor=run.learner, version=current, current=current, language="de")
    with db.transaction() as s:
        again = notice.acknowledge(s, actor=run.learner, version=current, current=current, language="de")
        assert again.id == first.id
        assert not notice.pending(s, actor=run.learner, version=current)
        assert notice.pending(s, actor=run.learner, version="0" * 64)  # a new text asks again
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy_notice.acknowledged")).all()
        assert [(e.actor_id, e.detail["notice_version"], e.detail["language"]) for e in events] == \
            [(run.learner.user_id, current, "de")]


def test_an_older_version_or_an_unknown_language_is_refused(db: Database, frozen: FrozenClock) -> None:
    sc = mobility_driver.start(db, frozen, "NL", "BE")
    run = sc.nominate("Mia Keller", date(2009, 3, 15))
    current = notice.version_of(messages.english())
    with pytest.raises(Conflict), db.transaction() as s:
        notice.acknowledge(s, actor=run.learner, version="0" * 64, current=current, language="en")
    with pytest.raises(Invalid), db.transaction() as s:
        notice.acknowledge(s, actor=run.learner, version=current, current=current, language="xx")
    with db.transaction(write=False) as s:
        assert s.scalars(select(PrivacyAcknowledgement)).all() == []
