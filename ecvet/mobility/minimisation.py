"""What each reader sees of a learner's record: only the personal fields their part needs (issue 16).

The rule per mobility is :func:`ecvet.mobility.service.personal_fields`; a learner with several mobilities
shows a field to a reader whose part in any of them needs it. Documents follow their templates instead:
the date of birth is on the Learning Agreement only (``ecvet/documents``).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility import service, views
from ecvet.mobility.models import Mobility
from engine.parties import Actor


def learner_record(session: Session, *, actor: Actor, learner_id: int) -> views.LearnerView:
    """The learner's record for a party of one of their mobilities (404 for anyone else), minimised."""
    row = service.get_learner(session, actor=actor, learner_id=learner_id)
    mobilities = session.scalars(select(Mobility).where(
        Mobility.id.in_(service.visible_mobility_ids(session, actor, learner_id))).order_by(Mobility.id))
    needs = [service.personal_fields(actor, m) for m in mobilities]
    return views.learner(row, birth=actor.is_admin or any(n["birth"] for n in needs),
                         guardian=actor.is_admin or any(n["guardian"] for n in needs))
