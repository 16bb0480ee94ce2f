"""Tables of retention: an organisation's own retention periods and the ledger of purged evidence.

``evidence_purges`` is append-only (migration 1805) and is what lets an evidence row go: the DELETE
triggers of the evidence tables let a DELETE through only when the row is in this ledger, so a row
leaves with its hash recorded and a signed copy of it still verifies.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, utcnow


class RetentionPolicy(Base):
    """An organisation's period for one record kind, replacing the national default (months)."""

    __tablename__ = "retention_policies"
    __table_args__ = (UniqueConstraint("organisation_id", "record_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    record_kind: Mapped[str] = mapped_column(String(40))
    keep_months: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidencePurge(Base):
    """One evidence row deleted under the retention policy: which, its hash, when it was signed.

    No learner id (minimisation): the ledger proves that a text existed and was signed, to whoever holds
    a copy; it need not say of whom, and it outlives the learner's profile."""

    __tablename__ = "evidence_purges"
    __table_args__ = (Index("ix_evidence_purges_row", "table_name", "row_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(Integer)
    record_kind: Mapped[str] = mapped_column(String(40))
    # The row's own hash (content_hash of signed texts and signatures), else the SHA-256 of its canonical JSON.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    signed_at: Mapped[datetime | None]
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_run: Mapped[str] = mapped_column(String(36))
