"""The award of a whole qualification, once every one of its units is recognised for the learner.

Units come home one mobility at a time (:class:`~ecvet.mobility.models.CreditAward`); when the credits
of a learner cover every unit of a registered qualification (:mod:`ecvet.qualification`), the
recognising institution may award the qualification itself: the awarding organisation the registry
names for it, or else an organisation that recognised its units. The award is signed by the member who
decides it (:mod:`ecvet.signing`), printed on the recognition record of each mobility it rests on, and
exported beside the unit credentials as a European Learning Model credential
(:func:`ecvet.mobility.credentials.build_qualification`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.mobility import service
from ecvet.mobility.models import CreditAward
from ecvet.qualification.models import Qualification, QualificationAward
from engine import audit
from engine.errors import Conflict, Forbidden, Invalid
from engine.parties import Actor

_COMMENT_MAX = 4_000


class QualificationAwardView(TypedDict):
    id: int
    learner_id: int
    qualification_id: int
    qualification_title: str
    eqf_level: int | None
    nqf_level: str | None
    ecvet_points: Annotated[float, "the qualification's points (else the sum of its units' credits)"]
    credit_award_ids: Annotated[list[int], "the unit credits the award rests on"]
    mobility_ids: list[int]
    comment: str | None
    organisation_id: Annotated[int, "the awarding institution"]
    signer: signing.SignerView
    awarded_at: datetime


def view(row: QualificationAward) -> QualificationAwardView:
    return {"id": row.id, "learner_id": row.learner_id, "qualification_id": row.qualification_id,
            "qualification_title": row.qualification_title, "eqf_level": row.eqf_level, "nqf_level": row.nqf_level,
            "ecvet_points": row.ecvet_points, "credit_award_ids": list(row.credit_award_ids),
            "mobility_ids": list(row.mobility_ids), "comment": row.comment, "organisation_id": row.organisation_id,
            "signer": signing.view(row), "awarded_at": row.awarded_at}


def unit_credits(session: Session, learner_id: int, qualification: Qualification) -> dict[str, CreditAward]:
    """The learner's credits for units of the qualification (same title), the first per unit code."""
    codes = {u.code for u in qualification.units}
    rows = session.scalars(select(CreditAward).where(CreditAward.learner_id == learner_id).order_by(CreditAward.id))
    found: dict[str, CreditAward] = {}
    for credit in rows:
        if credit.unit_code in codes and service.same_title(credit.qualification_title, qualification.title):
            found.setdefault(credit.unit_code, credit)
    return found


def _awarding_organisation(actor: Actor, qualification: Qualification, credits: list[CreditAward]) -> int:
    """The organisation the actor awards for: the registry's awarding body, else one that recognised units."""
    if qualification.awarding_organisation_id is not None:
        allowed = [qualification.awarding_organisation_id]
    else:
        allowed = list(dict.fromkeys(c.awarded_by_organisation_id for c in credits))
    mine = [o for o in allowed if o in actor.organisation_ids]
    if not mine:
        raise Forbidden("Only the institution that recognised the units (or the qualification's awarding body) "
                        "awards the qualification")
    return mine[0]


def award(
    session: Session, *, actor: Actor, learner_id: int, qualification_id: Any, signer: Any = None,
    comment: Any = None,
) -> QualificationAward:
    """Award the qualification to the learner once every one of its units is recognised. 404 for a
    learner the caller does not see, 422 for an unknown qualification or a bad comment, 409 while a unit
    is not recognised or when already awarded, 403 for anyone but the recognising institution's members."""
    learner = service.get_learner(session, actor=actor, learner_id=learner_id)
    qualification = session.get(Qualification, qualification_id) if isinstance(qualification_id, int) else None
    if qualification is None:
        raise Invalid("Unknown qualification", errors={"qualification_id": [f"No qualification {qualification_id}"]})
    if comment is not None and (not isinstance(comment, str) or len(comment) > _COMMENT_MAX):
        raise Invalid("The comment is not valid", errors={"comment": [f"A text of at most {_COMMENT_MAX} characters"]})
    credits = unit_credits(session, learner.id, qualification)
    missing = sorted({u.code for u in qualification.units} - set(credits))
    if missing:
        raise Conflict(f"Not every unit of {qualification.title} is recognised yet: {', '.join(missing)}")
    ordered = [credits[u.code] for u in qualification.units]
    organisation_id = _awarding_organisation(actor, qualification, ordered)
    signed = signing.for_organisation(session, actor=actor, organisation_id=organisation_id, submitted=signer)
    if session.scalar(select(QualificationAward.id).where(QualificationAward.learner_id == learner.id,
                                                          QualificationAward.qualification_id == qualification.id)):
        raise Conflict(f"{qualification.title} is awarded to this learner already")
    assert signed.user_id is not None
    points = (float(qualification.ecvet_points) if qualification.ecvet_points is not None
              else sum(c.ecvet_points for c in ordered))
    row = QualificationAward(
        learner_id=learner.id, qualification_id=qualification.id, qualification_title=qualification.title,
        eqf_level=qualification.eqf_level, nqf_level=qualification.nqf_level, ecvet_points=points,
        credit_award_ids=[c.id for c in ordered], mobility_ids=sorted({c.mobility_id for c in ordered}),
        comment=(comment or "").strip() or None, organisation_id=organisation_id, signer_user_id=signed.user_id,
        signer_name=signed.name, signer_email=signed.email, signer_position=signed.position,
        signer_place=signed.place, awarded_at=signed.signed_at)
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="qualification.awarded", learner_id=learner.id,
                 qualification_id=qualification.id, qualification_award_id=row.id, organisation_id=organisation_id,
                 credit_award_ids=row.credit_award_ids)
    return row


def visible(session: Session, actor: Actor, learner_id: int) -> list[QualificationAward]:
    """The learner's awards resting on a mobility the caller takes part in (no check of the learner)."""
    seen = set(service.visible_mobility_ids(session, actor, learner_id))
    rows = session.scalars(select(QualificationAward).where(QualificationAward.learner_id == learner_id)
                           .order_by(QualificationAward.id))
    return [r for r in rows if seen & set(r.mobility_ids)]


def for_learner(session: Session, *, actor: Actor, learner_id: int) -> list[QualificationAwardView]:
    """The qualifications awarded to the learner, for the parties of the mobilities they rest on (404 for
    a learner the caller does not see)."""
    learner = service.get_learner(session, actor=actor, learner_id=learner_id)
    return [view(r) for r in visible(session, actor, learner.id)]


def of_mobility(session: Session, mobility_id: int, learner_id: int) -> list[QualificationAward]:
    """The awards that rest on this mobility's credits (no check: the caller sees the mobility)."""
    rows = session.scalars(select(QualificationAward).where(QualificationAward.learner_id == learner_id)
                           .order_by(QualificationAward.id))
    return [r for r in rows if mobility_id in r.mobility_ids]

