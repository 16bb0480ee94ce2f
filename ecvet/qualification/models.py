"""Qualifications of national VET systems, their units and learning outcomes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecvet.constraints import one_of
from engine.models import Base, utcnow

#: The levels of the European Qualifications Framework.
EQF_LOWEST, EQF_HIGHEST = 1, 8


class OutcomeKind:
    KNOWLEDGE = "knowledge"
    SKILLS = "skills"
    COMPETENCE = "competence"
    ALL = (KNOWLEDGE, SKILLS, COMPETENCE)

#: An ESCO skill or competence concept URI (https://esco.ec.europa.eu): what a learning outcome refers to.
ESCO_SKILL_PATTERN = r"^http://data\.europa\.eu/esco/skill/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

#: A learning outcome as MoUs and Learning Agreements write it (JSON Schema): plain text, or text with
#: its kind (knowledge, skills, competence) as the qualification lists it.
LEARNING_OUTCOME_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 10_000},
        {"type": "object", "required": ["text"], "additionalProperties": False,
         "properties": {"kind": {"enum": list(OutcomeKind.ALL)},
                        "text": {"type": "string", "minLength": 1, "maxLength": 10_000},
                        "esco_skill": {"type": "string", "pattern": ESCO_SKILL_PATTERN}}},
    ],
}

class Qualification(Base):
    """A qualification of a national system, as a MoU or Learning Agreement refers to it."""

    __tablename__ = "qualifications"
    __table_args__ = (
        CheckConstraint("eqf_level BETWEEN 1 AND 8", name="ck_qualifications_eqf_level"),
        CheckConstraint("ecvet_points IS NULL OR ecvet_points >= 0", name="ck_qualifications_points"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    eqf_level: Mapped[int] = mapped_column(Integer)
    nqf_level: Mapped[str | None] = mapped_column(String(20))
    ecvet_points: Mapped[int | None] = mapped_column(Integer)
    awarding_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list[Unit]] = relationship(
        back_populates="qualification", lazy="selectin", order_by="Unit.code", cascade="all, delete-orphan"
    )

class Unit(Base):
    """A unit of learning outcomes: the part of a qualification that can be assessed and validated."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("qualification_id", "code"),
        CheckConstraint("eqf_level IS NULL OR eqf_level BETWEEN 1 AND 8", name="ck_units_eqf_level"),
        CheckConstraint("ecvet_points IS NULL OR ecvet_points >= 0", name="ck_units_points"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    qualification_id: Mapped[int] = mapped_column(ForeignKey("qualifications.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    ecvet_points: Mapped[int | None] = mapped_column(Integer)
    eqf_level: Mapped[int | None] = mapped_column(Integer)

    qualification: Mapped[Qualification] = relationship(back_populates="units")
    outcomes: Mapped[list[LearningOutcome]] = relationship(
        back_populates="unit", lazy="selectin", order_by="LearningOutcome.id", cascade="all, delete-orphan"
    )

class LearningOutcome(Base):
    """What a learner knows, understands and can do: knowledge, skills or competence."""

    __tablename__ = "learning_outcomes"
    __table_args__ = (CheckConstraint(one_of("kind", OutcomeKind.ALL), name="ck_learning_outcomes_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    esco_skill: Mapped[str | None] = mapped_column(String(200))  # an ESCO skill URI, where known (1705)

    unit: Mapped[Unit] = relationship(back_populates="outcomes")


class QualificationAward(Base):
    """A whole qualification awarded to a learner once every one of its units is recognised (credit
    awards), by the recognising institution, signed by the member who decided it."""

    __tablename__ = "qualification_awards"
    __table_args__ = (UniqueConstraint("learner_id", "qualification_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    qualification_id: Mapped[int] = mapped_column(ForeignKey("qualifications.id"))
    qualification_title: Mapped[str] = mapped_column(String(300))
    eqf_level: Mapped[int | None] = mapped_column(Integer)
    nqf_level: Mapped[str | None] = mapped_column(String(20))
    ecvet_points: Mapped[float] = mapped_column(Float)
    credit_award_ids: Mapped[list[Any]]  # the unit credits it rests on
    mobility_ids: Mapped[list[Any]]
    comment: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    signer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
