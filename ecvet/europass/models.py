"""Tables of the Europass Mobility: the issued text (one per mobility, never rewritten) and the two
organisations' signatures, each bound to the text's hash. Both append-only (migration 1706)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecvet.constraints import one_of
from engine.models import Base, utcnow


class EuropassParty:
    """Who signs a Europass Mobility off: the host (where the learning took place) and the sending organisation."""

    HOSTING = "hosting"
    SENDING = "sending"
    ALL = (HOSTING, SENDING)


class EuropassMobility(Base):
    """The Europass Mobility of one completed (recognised) mobility: its content as the template's fields
    and that content's SHA-256, which each signature quotes."""

    __tablename__ = "europass_mobilities"
    __table_args__ = (UniqueConstraint("mobility_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    hosting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EuropassSignature(Base):
    """One organisation's sign-off of a Europass Mobility, by a signed-in member (ecvet/signing.py)."""

    __tablename__ = "europass_signatures"
    __table_args__ = (
        UniqueConstraint("europass_id", "party"),
        CheckConstraint(one_of("party", EuropassParty.ALL), name="ck_europass_signatures_party"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    europass_id: Mapped[int] = mapped_column(ForeignKey("europass_mobilities.id"), index=True)
    party: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
