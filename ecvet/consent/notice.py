"""The privacy notice: its sections, its version (derived from the English text, so editing the notice
makes a new version) and who acknowledged which version.

The words live in the page catalogue (keys ``privacy.notice.*``, English source and five translations),
which the API layer hands in: the domain does not read the pages' files. A learner, or the parent or
guardian of a minor, is shown the notice at the first sign-in to the pages and again whenever its
version changes, until they acknowledge it (:func:`pending`); the acknowledgement is a row and an audit
event. The notice informs; it is not consent: the data are processed for the sending organisation's
public task and the Learning Agreement, so the API does not refuse a learner who has not acknowledged it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Annotated, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.consent.models import PrivacyAcknowledgement
from ecvet.mobility import service as mobilities
from engine import audit
from engine.errors import Conflict, Invalid
from engine.models import utcnow
from engine.parties import LANGUAGES, Actor

#: The notice's sections in reading order; each has ``privacy.notice.<section>.heading`` and ``.text``.
SECTIONS = ("controller", "data", "purposes", "recipients", "retention", "rights", "complaint", "minors")
TITLE, INTRO = "privacy.notice.title", "privacy.notice.intro"
#: When the current text was published: change it with the text (the version changes by itself).
PUBLISHED = date(2026, 12, 7)


def keys() -> tuple[str, ...]:
    """Every catalogue key of the notice, in reading order."""
    return (TITLE, INTRO, *(f"privacy.notice.{s}.{part}" for s in SECTIONS for part in ("heading", "text")))


def version_of(english: Mapping[str, str]) -> str:
    """The version of the notice: SHA-256 of its English texts in order (a KeyError if one is missing)."""
    digest = hashlib.sha256()
    for key in keys():
        digest.update(f"{key}\x1f{english[key]}\x1e".encode())
    return digest.hexdigest()


class NoticeSection(TypedDict):
    key: Annotated[str, "the section: controller, data, purposes, recipients, retention, rights, complaint, minors"]
    heading: str
    text: str


class NoticeView(TypedDict):
    """The privacy notice in one language."""

    version: Annotated[str, "SHA-256 of the English text: a new text is a new version"]
    published: date
    language: Annotated[str, "the language of the texts (English where a translation is missing)"]
    title: str
    intro: str
    sections: list[NoticeSection]


def view(english: Mapping[str, str], texts: Mapping[str, str], language: str) -> NoticeView:
    """The notice for a reader: its version (from ``english``) and its words (``texts``, one language)."""
    return {"version": version_of(english), "published": PUBLISHED, "language": language,
            "title": texts[TITLE], "intro": texts[INTRO],
            "sections": [{"key": s, "heading": texts[f"privacy.notice.{s}.heading"],
                          "text": texts[f"privacy.notice.{s}.text"]} for s in SECTIONS]}


def concerned(session: Session, actor: Actor) -> bool:
    """The notice is for learners and the parents or guardians of minors who have a mobility."""
    return bool(mobilities.learner_ids_of(session, actor))


def acknowledgement(session: Session, *, user_id: int, version: str) -> PrivacyAcknowledgement | None:
    return session.scalar(select(PrivacyAcknowledgement).where(PrivacyAcknowledgement.user_id == user_id,
                                                               PrivacyAcknowledgement.notice_version == version))


def pending(session: Session, *, actor: Actor, version: str) -> bool:
    """The caller must read the notice first: they are a learner (or a minor's guardian) and have not
    acknowledged this version."""
    return concerned(session, actor) and acknowledgement(session, user_id=actor.user_id, version=version) is None


def acknowledge(session: Session, *, actor: Actor, version: str, current: str,
                language: str) -> PrivacyAcknowledgement:
    """Record that the caller read version ``version`` (which must be the ``current`` one: 409 for an older
    text) in ``language``; acknowledging twice keeps the first row. Audited."""
    if language not in LANGUAGES:
        raise Invalid("Unknown language", errors={"language": [f"One of {', '.join(LANGUAGES)}"]})
    if version != current:
        raise Conflict("This is not the current privacy notice: read the current one and acknowledge that")
    existing = acknowledgement(session, user_id=actor.user_id, version=version)
    if existing is not None:
        return existing
    row = PrivacyAcknowledgement(user_id=actor.user_id, notice_version=version, language=language,
                                 acknowledged_at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="privacy_notice.acknowledged", notice_version=version,
                 language=language, acknowledgement_id=row.id)
    return row


def acknowledgements_of(session: Session, *, actor: Actor) -> list[PrivacyAcknowledgement]:
    """The caller's own acknowledgements, oldest first."""
    return list(session.scalars(select(PrivacyAcknowledgement).where(PrivacyAcknowledgement.user_id == actor.user_id)
                                .order_by(PrivacyAcknowledgement.id)))
