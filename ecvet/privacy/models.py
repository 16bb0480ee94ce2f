"""Tables of data protection: erasure requests and their answers, and the marker that lets an erasure
change rows the database otherwise keeps append-only."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecvet.constraints import one_of
from engine.models import Base, utcnow


class ErasureStatus:
    RECEIVED = "received"
    CARRIED_OUT = "carried_out"
    REFUSED = "refused"
    ALL = (RECEIVED, CARRIED_OUT, REFUSED)


class ErasureRequest(Base):
    """A learner's request to erase their personal data (GDPR Art. 17), made by the learner, their
    guardian while a minor, or recorded by the sending organisation on their behalf; carried out or
    refused by a coordinator of the sending organisation. ``kept`` and ``erased`` are the answer:
    ``[{"what": table, "count": n, "reason": catalogue key, "until": ISO date}]`` and
    ``[{"what": table, "count": n}]``; the texts come from catalogues in ``language``, so the request
    itself holds no name or address."""

    __tablename__ = "erasure_requests"
    __table_args__ = (CheckConstraint(one_of("status", ErasureStatus.ALL), name="ck_erasure_requests_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=ErasureStatus.RECEIVED)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(String(64))  # a catalogue key
    refusal_note: Mapped[str | None] = mapped_column(Text)  # the coordinator's words, when refused by hand
    kept: Mapped[list[Any]] = mapped_column(default=list)
    erased: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")


class AppendOnlyUnlock(Base):
    """While a row exists here (inside the erasing transaction only: inserted, then deleted before the
    commit), the append-only triggers of the tables about learners let UPDATE and DELETE through
    (migration 1802). The audit trail's triggers never look at it."""

    __tablename__ = "append_only_unlocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
