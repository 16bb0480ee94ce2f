"""The reads log: one row per reading of a learner's personal data, so "who looked at my data" is one indexed
query (the audit trail holds the same reads, but keyed by instance, not by learner)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, utcnow


class PersonalDataRead(Base):
    """Who (``actor_user_id``, for ``organisation_id`` or personally when None) read what (``what``: a document
    kind or ``learner``, ``achievements``, ``export``..., and ``record_id``) about a learner, when."""

    __tablename__ = "personal_data_reads"
    __table_args__ = (Index("ix_personal_data_reads_learner", "learner_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    what: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
