"""Tables of consent and information: who acknowledged which privacy notice, and whose guardian's access
ended at the 18th birthday (migration 1804)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, utcnow


class PrivacyAcknowledgement(Base):
    """A person read one version of the privacy notice (in one language) and said so."""

    __tablename__ = "privacy_acknowledgements"
    __table_args__ = (UniqueConstraint("user_id", "notice_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    notice_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuardianHandOver(Base):
    """The learner came of age: their guardian's access ended (once per learner), the guardian's open
    work went back to the sending organisation and both were told."""

    __tablename__ = "guardian_hand_overs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), unique=True)
    guardian_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    came_of_age_on: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow)
