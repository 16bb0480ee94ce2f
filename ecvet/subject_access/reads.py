"""Reads of a learner's personal data: each one in the audit trail and in the reads log, and the learner's list
of who read what (GDPR art. 15(1)(c): the recipients to whom the data have been disclosed).

:func:`record_read` is the one way a read is written down; :func:`record_document_read` finds the learner a
document is about (the documents service calls it for every document it builds for a reader). A document
about no learner (a MoU, a partnership review) is audited but has no learner to list it for.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ecvet.europass.models import EuropassMobility
from ecvet.mobility.models import (
    AssessmentRecord,
    Learner,
    LearningAgreement,
    Mobility,
    MobilityPeriod,
    PersonalTranscript,
    RecognitionDecision,
)
from ecvet.review.models import ActionPlan, Evaluation, Review
from engine import audit, clock
from engine.errors import NotFound
from engine.models import Organisation, User
from engine.pagination import Page, paginate
from engine.parties import Actor

from .models import PersonalDataRead

#: What a read can be of, besides a document kind (ecvet.documents.model.KINDS).
LEARNER_RECORDS = ("learner", "achievements", "credentials", "qualification-awards", "mobility", "export",
                   "evidence-file", "beneficiary-report")


# --------------------------------------------------------------------------------------------------
# Writing reads down
# --------------------------------------------------------------------------------------------------


def reader_organisation_id(session: Session, actor: Actor, learner_id: int) -> int | None:
    """The organisation the reader reads for: theirs that takes part in one of the learner's mobilities (the
    lowest id when several do); None when they read personally (the learner, the guardian, an admin)."""
    if not actor.organisation_ids:
        return None
    mobilities = select(Mobility.id).where(Mobility.learner_id == learner_id)
    ids: set[int] = set()
    for row in session.execute(select(
            Mobility.sending_organisation_id, Mobility.hosting_organisation_id, Mobility.competent_institution_home_id,
            Mobility.competent_institution_host_id, Mobility.intermediary_organisation_id)
            .where(Mobility.learner_id == learner_id)):
        ids.update(i for i in row if i is not None)
    ids.update(session.scalars(select(MobilityPeriod.hosting_organisation_id)
                               .where(MobilityPeriod.mobility_id.in_(mobilities))))
    mine = ids & actor.organisation_ids
    return min(mine) if mine else None


def record_read(session: Session, *, actor: Actor, learner_id: int, what: str, record_id: int | None) -> None:
    """Write down that `actor` read `what` (a document kind or one of :data:`LEARNER_RECORDS`) number
    `record_id` about the learner: an audit event (``document.read`` for a document, ``learner.read``
    otherwise) and a row of the reads log, in the reader's unit of work."""
    organisation_id = log_read(session, actor=actor, learner_id=learner_id, what=what, record_id=record_id)
    action = "learner.read" if what in LEARNER_RECORDS else "document.read"
    audit.record(session, actor_id=actor.user_id, action=action, kind=what, record_id=record_id,
                 learner_id=learner_id, organisation_id=organisation_id)


def log_read(session: Session, *, actor: Actor, learner_id: int, what: str, record_id: int | None) -> int | None:
    """Only the reads-log row of a read, for a read that writes its own audit event (an evidence file's
    download, the beneficiary report); returns the organisation the reader read for."""
    organisation_id = reader_organisation_id(session, actor, learner_id)
    session.add(PersonalDataRead(learner_id=learner_id, actor_user_id=actor.user_id, organisation_id=organisation_id,
                                 what=what, record_id=record_id))
    return organisation_id


def log_reads(session: Session, *, actor: Actor, what: str, read: list[tuple[int, int, int | None]]) -> None:
    """Reads-log rows of a list that shows many learners at once (the beneficiary report), which writes its
    own audit event: one ``(learner id, record id, organisation id)`` per learner shown."""
    session.add_all(PersonalDataRead(learner_id=learner_id, actor_user_id=actor.user_id, organisation_id=org_id,
                                     what=what, record_id=record_id) for learner_id, record_id, org_id in read)


#: Document kinds by how their record leads to the learner: its own column, its mobility, its review's mobility.
_OWN_LEARNER: dict[str, Any] = {"transcript": PersonalTranscript, "europass-mobility": EuropassMobility}
_BY_MOBILITY: dict[str, Any] = {"learning-agreement": LearningAgreement, "assessment-sheet": AssessmentRecord,
                                "recognition-record": RecognitionDecision}
_BY_REVIEW: dict[str, Any] = {"evaluation": Evaluation, "action-plan": ActionPlan}


def document_learner(session: Session, kind: str, record_id: int) -> int | None:
    """The learner a document of `kind` built from record `record_id` is about; None for a document about no
    learner (MoU, partnership review)."""
    if kind == "certificate":  # the certificate of a learner's achievements: its record is the learner
        return record_id
    stmt: Select[Any] | None = None
    if kind in _OWN_LEARNER:
        model = _OWN_LEARNER[kind]
        stmt = select(model.learner_id).where(model.id == record_id)
    elif kind in _BY_MOBILITY:
        model = _BY_MOBILITY[kind]
        stmt = select(Mobility.learner_id).join(model, model.mobility_id == Mobility.id).where(model.id == record_id)
    elif kind in _BY_REVIEW:
        model = _BY_REVIEW[kind]
        stmt = (select(Mobility.learner_id).join(Review, Review.mobility_id == Mobility.id)
                .join(model, model.review_id == Review.id).where(model.id == record_id))
    found = None if stmt is None else session.scalar(stmt)
    return found if isinstance(found, int) else None


def record_document_read(session: Session, *, actor: Actor, kind: str, record_id: int) -> None:
    """Write down a reading of a document (already built for `actor`, so visible to them)."""
    learner_id = document_learner(session, kind, record_id)
    if learner_id is None:
        audit.record(session, actor_id=actor.user_id, action="document.read", kind=kind, record_id=record_id,
                     learner_id=None)
        return
    record_read(session, actor=actor, learner_id=learner_id, what=kind, record_id=record_id)


# --------------------------------------------------------------------------------------------------
# Who looked at my data
# --------------------------------------------------------------------------------------------------


def acts_for(actor: Actor, learner: Learner) -> bool:
    """The learner themself, or their parent or guardian while the learner is a minor."""
    if learner.user_id is not None and actor.user_id == learner.user_id:
        return True
    return (learner.guardian_user_id is not None and actor.user_id == learner.guardian_user_id
            and learner.is_minor(clock.now().date()))


def own_learner(session: Session, *, actor: Actor, learner_id: int) -> Learner:
    """The learner, for themself, their guardian while a minor, and admins; 404 for anyone else."""
    learner = session.get(Learner, learner_id)
    if learner is None or not (actor.is_admin or acts_for(actor, learner)):
        raise NotFound(f"No learner {learner_id}")
    return learner


@dataclass(frozen=True)
class ReadView:
    """One read: who (person, and the organisation they read for, if any), what, when."""

    id: int
    at: datetime
    what: str
    record_id: int | None
    reader_name: str | None
    reader_email: str | None
    organisation_id: int | None
    organisation_name: str | None
    by_learner: bool


def reads_for(session: Session, *, actor: Actor, learner_id: int, others_only: bool = False,
              cursor: str | None = None, limit: int = 50) -> Page[ReadView]:
    """Who read the learner's data, newest first, for the learner, their guardian while a minor, and admins
    (404 for anyone else). ``others_only`` leaves out the learner's and guardian's own reads."""
    learner = own_learner(session, actor=actor, learner_id=learner_id)
    stmt = select(PersonalDataRead).where(PersonalDataRead.learner_id == learner.id)
    own = [u for u in (learner.user_id, learner.guardian_user_id) if u is not None]
    if others_only and own:
        stmt = stmt.where(or_(PersonalDataRead.actor_user_id.is_(None), PersonalDataRead.actor_user_id.not_in(own)))
    page = paginate(session, stmt, [PersonalDataRead.id], cursor=cursor, limit=limit, descending=True)
    return Page(describe(session, learner, page.items), page.next_cursor)


def all_reads(session: Session, learner: Learner) -> list[ReadView]:
    """Every read of the learner's data, oldest first (for the export: no access check here)."""
    rows = list(session.scalars(select(PersonalDataRead).where(PersonalDataRead.learner_id == learner.id)
                                .order_by(PersonalDataRead.id)))
    return describe(session, learner, rows)


def describe(session: Session, learner: Learner, rows: list[PersonalDataRead]) -> list[ReadView]:
    """The reads with their readers' and organisations' names (two queries, whatever the number of rows)."""
    user_ids = {r.actor_user_id for r in rows if r.actor_user_id is not None}
    org_ids = {r.organisation_id for r in rows if r.organisation_id is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))} \
        if org_ids else {}
    own = {u for u in (learner.user_id, learner.guardian_user_id) if u is not None}
    out = []
    for r in rows:
        user = users.get(r.actor_user_id) if r.actor_user_id is not None else None
        org = orgs.get(r.organisation_id) if r.organisation_id is not None else None
        out.append(ReadView(r.id, r.at, r.what, r.record_id, user.name if user else None,
                            user.email if user else None, r.organisation_id, org.name if org else None,
                            r.actor_user_id in own))
    return out
