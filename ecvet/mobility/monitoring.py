"""Mobilities for the monitor dashboard: how many learners are where, and how far their mobility got.

One GROUP BY over ``mobilities`` joined to the hosting organisation (the destination country), scoped
by the same rule as a Learning Agreement (``ecvet.mobility.learning_agreement``): admins see every mobility;
others see those of their sending or hosting organisation, those of which they are the learner or
guardian, and, for a competent institution approving Learning Agreements, those sent from its country.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ecvet.mobility import guardians
from ecvet.mobility.models import Learner, Mobility, MobilityStatus
from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from engine.models import Organisation
from engine.parties import Actor


@dataclass(frozen=True)
class MobilityCount:
    country: str  # ISO 3166-1 alpha-2 of the hosting organisation (the destination)
    status: str
    count: int


def _visible(stmt: Select[str, str, int], actor: Actor, sending: type[Organisation]
             ) -> Select[str, str, int]:
    if actor.is_admin:
        return stmt
    orgs = sorted(actor.organisation_ids) or [-1]
    competent = exists().where(
        OrganisationCompetence.organisation_id.in_(orgs),
        OrganisationCompetence.function == CompetenceFunction.LA_APPROVAL,
        OrganisationCompetence.country == sending.country,
    )
    personal = exists().where(
        Learner.id == Mobility.learner_id,
        guardians.acts_for(actor.user_id),
    )
    return stmt.where(or_(
        Mobility.sending_organisation_id.in_(orgs),
        Mobility.hosting_organisation_id.in_(orgs),
        personal,
        competent,
    ))


def mobilities_by_country(session: Session, *, actor: Actor) -> list[MobilityCount]:
    """Mobilities per destination country and status, ordered by country then lifecycle order."""
    hosting = aliased(Organisation)
    sending = aliased(Organisation)
    stmt = (
        select(hosting.country, Mobility.status, func.count(Mobility.id))
        .join(hosting, hosting.id == Mobility.hosting_organisation_id)
        .join(sending, sending.id == Mobility.sending_organisation_id)
        .group_by(hosting.country, Mobility.status)
    )
    rows = session.execute(_visible(stmt, actor, sending))
    order = {status: i for i, status in enumerate(MobilityStatus.ALL)}
    return sorted(
        (MobilityCount(country, status, count) for country, status, count in rows),
        key=lambda r: (r.country, order.get(r.status, len(order)), r.status),
    )
