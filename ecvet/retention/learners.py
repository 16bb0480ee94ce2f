"""Learners whose evidence has all gone: everything else about them is erased or pseudonymised through
the erasure helper's :func:`ecvet.privacy.erasure.erase_learner` with nothing to keep (profile, accounts,
process data, mails, tokens...), so the rows that remain speak of no one identifiable."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.mobility.models import Learner, Mobility
from ecvet.privacy import erasure
from ecvet.qualification.models import QualificationAward
from ecvet.retention import evidence

#: The evidence kinds whose rows keep a learner identifiable.
EVIDENCE_KINDS = evidence.EVIDENCE_KINDS
def is_pseudonymised(learner: Learner) -> bool:
    return learner.name == erasure.pseudonym(learner.id)


def _evidence_left(session: Session, mobility_ids: list[int], learner_id: int, going: dict[str, set[Any]]) -> bool:
    for kind in EVIDENCE_KINDS:
        for table_name, where in evidence.MOBILITY_TABLES[kind]:
            ids = {r["id"] for r in evidence.rows(session, table_name, where, mobility_ids)}
            if ids - going.get(table_name, set()):
                return True
    awards = set(session.scalars(select(QualificationAward.id).where(QualificationAward.learner_id == learner_id)))
    return bool(awards - going.get("qualification_awards", set()))


def without_evidence(session: Session, *, today: date, going: dict[str, set[Any]]) -> list[int]:
    """Learners not yet pseudonymised, all of whose mobilities are finished and ended, with no evidence
    left once the rows in ``going`` are gone."""
    active = select(Mobility.learner_id).where(Mobility.status.not_in(evidence.FINISHED) | (Mobility.end_date >= today))
    ids = session.scalars(select(Mobility.learner_id).where(Mobility.learner_id.not_in(active))
                          .group_by(Mobility.learner_id).order_by(Mobility.learner_id))
    result = []
    for learner_id in list(ids):
        learner = session.get(Learner, learner_id)
        if learner is None or is_pseudonymised(learner):
            continue
        mobility_ids = list(session.scalars(select(Mobility.id).where(Mobility.learner_id == learner_id)))
        if not _evidence_left(session, mobility_ids, learner_id, going):
            result.append(learner_id)
    return result


def pseudonymise(session: Session, learner_id: int) -> None:
    """Erase the learner with nothing kept: the evidence is gone already (audited ``learner.erased``)."""
    erasure.erase_learner(session, learner_id=learner_id, actor_id=None, keep={})
