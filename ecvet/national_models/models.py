"""The registry of competent institutions: which organisation holds which ECVET function in which country."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ecvet.constraints import one_of
from engine.models import Base, utcnow


class CompetenceFunction:
    """What a competent institution is competent for (a role under national rules, not a type of body)."""

    ASSESSMENT = "assessment"
    VALIDATION = "validation"
    RECOGNITION = "recognition"
    AWARD_OF_CREDIT = "award_of_credit"
    MOU_APPROVAL = "mou_approval"
    LA_APPROVAL = "la_approval"
    # Supporting actors (information, guidance, funding): recorded, never asked to approve.
    NATIONAL_AGENCY = "national_agency"
    NATIONAL_EUROPASS_CENTRE = "national_europass_centre"
    ALL = (ASSESSMENT, VALIDATION, RECOGNITION, AWARD_OF_CREDIT, MOU_APPROVAL, LA_APPROVAL)  # the ECVET functions
    SUPPORTING = (NATIONAL_AGENCY, NATIONAL_EUROPASS_CENTRE)
    REGISTERED = ALL + SUPPORTING  # what the registry records


class OrganisationCompetence(Base):
    """Organisation X holds `function` in `country`, in one `region` (ISO 3166-2 or NUTS; None: the whole
    country) and for one `sector` (a code of :mod:`ecvet.national_models.codes`; None: every sector),
    e.g. a chamber in DE-NW for crafts. Several organisations may hold one function in one place."""

    __tablename__ = "organisation_competences"
    __table_args__ = (
        UniqueConstraint("organisation_id", "country", "function", "region", "sector",
                         name="uq_organisation_competences_scope"),
        CheckConstraint(one_of("function", CompetenceFunction.REGISTERED),
                        name="ck_organisation_competences_function"),
        Index("ix_competences_country_function", "country", "function"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))
    function: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(8))
    sector: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
