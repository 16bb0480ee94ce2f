"""Tables of partnerships: MoUs with their versions and approvals, partner profiles, attachments, role maps.

Evidence is kept, never rewritten: a MoU changes by getting a new :class:`MouVersion` (content plus
its SHA-256), and every approval or rejection is a :class:`MouApproval` row quoting the hash it was
given for. The migrations add triggers that refuse UPDATE and DELETE on the evidence tables.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecvet.constraints import one_of
from ecvet.national_models.models import CompetenceFunction
from engine.models import Base, utcnow


class MouStatus:
    DRAFT = "draft"
    IN_APPROVAL = "in_approval"
    ACTIVE = "active"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    ALL = (DRAFT, IN_APPROVAL, ACTIVE, EXPIRED, SUPERSEDED)
    CLOSED = (EXPIRED, SUPERSEDED)

class ApprovalRole:
    PARTNER = "partner"
    COMPETENT_INSTITUTION = "competent_institution"
    ALL = (PARTNER, COMPETENT_INSTITUTION)

class Decision:
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = (APPROVED, REJECTED)

class ApprovalMode:
    EXPLICIT = "explicit"
    IMPLICIT = "implicit"
    ALL = (EXPLICIT, IMPLICIT)

class PartnershipSide:
    """Which partner a profile describes; which country a role-map entry is about."""

    SENDING = "sending"
    HOSTING = "hosting"
    ALL = (SENDING, HOSTING)
    HOME = "home"
    HOST = "host"
    COUNTRIES = (HOME, HOST)

class RoleMapFunction:
    """What a role map says who holds: the ECVET functions of the registry (every one required), and the
    design functions the partners may add (who defines the learning outcomes, who designs the units)."""

    LEARNING_OUTCOMES = "learning_outcomes"
    UNIT_DESIGN = "unit_design"
    OPTIONAL = (LEARNING_OUTCOMES, UNIT_DESIGN)
    ALL = (*CompetenceFunction.ALL, *OPTIONAL)

class Mou(Base):
    """A Memorandum of Understanding: identity and status; its text lives in versions."""

    __tablename__ = "mous"
    __table_args__ = (CheckConstraint(one_of("status", MouStatus.ALL), name="ck_mous_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MouStatus.DRAFT)
    # use_alter: mous and mou_versions point at each other; the constraint is added after both exist.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("mou_versions.id", use_alter=True, name="fk_mous_current_version_id")
    )
    # The version last approved by everyone: it stays in force while an amendment is in approval.
    active_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("mou_versions.id", use_alter=True, name="fk_mous_active_version_id")
    )
    # When the current version was put up for approval: implicit-approval periods count from here.
    submitted_at: Mapped[datetime | None]
    # SHA-256 of the national models table (DMN) that decides who approves this MoU: the one deployed
    # with the process version that submitted it, so a table redeployed later changes the gates of new
    # partnerships only. None: the newest deployed table decides (added by migration 0007).
    national_models_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

class MouVersion(Base):
    """One immutable text of a MoU; approvals bind to its `content_hash`."""

    __tablename__ = "mou_versions"
    __table_args__ = (
        UniqueConstraint("mou_id", "number"),
        CheckConstraint("number >= 1", name="ck_mou_versions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class MouApproval(Base):
    """A signature (or refusal) of one organisation in one role, for the exact text it quotes.

    Append-only: the migration adds triggers refusing UPDATE and DELETE. A revision does not touch
    earlier approvals; they stop counting because they quote another version and hash.
    """

    __tablename__ = "mou_approvals"
    __table_args__ = (
        Index("ix_mou_approvals_version", "mou_version_id", "organisation_id", "role"),
        CheckConstraint(one_of("role", ApprovalRole.ALL), name="ck_mou_approvals_role"),
        CheckConstraint(one_of("decision", Decision.ALL), name="ck_mou_approvals_decision"),
        CheckConstraint(one_of("mode", ApprovalMode.ALL), name="ck_mou_approvals_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id"), index=True)
    mou_version_id: Mapped[int] = mapped_column(ForeignKey("mou_versions.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str | None] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    # The account that signed (migration 0008); NULL for an approval by silence, a parent's signature
    # on paper recorded by the school, and signatures recorded before accounts signed.
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    mode: Mapped[str] = mapped_column(String(16), default=ApprovalMode.EXPLICIT)
    content_hash: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

class Partnership(Base):
    """One ECVET partnership between a sending and a hosting organisation, run by one Partnership
    process instance: the partner profiles, the role map and the MoU belong to it. Its parties (who may
    read them) are the two partners and every organisation bound to a role of its process instance."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    hosting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mou_id: Mapped[int | None] = mapped_column(ForeignKey("mous.id"), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class AttachmentBlob(Base):
    """Uploaded bytes, stored once per distinct content (several attachments may share one blob)."""

    __tablename__ = "attachment_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes]
    size: Mapped[int] = mapped_column(Integer)

class Attachment(Base):
    """An uploaded file (a Europass Certificate Supplement, a VET system description...): metadata only;
    the media type is what the platform recognised in the content, never what the client said."""

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size >= 0", name="ck_attachments_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("attachment_blobs.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class AttachmentReference(Base):
    """A record of a partnership refers to an attachment: the partnership's parties may then read it."""

    __tablename__ = "attachment_references"
    __table_args__ = (UniqueConstraint("attachment_id", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class PartnerProfile(Base):
    """What one partner tells the others about itself: organisation data, qualifications offered,
    its VET system and Europass Certificate Supplements (attachments). A save is a new row (append-only
    at database level); the newest row of an organisation in a partnership is its current profile."""

    __tablename__ = "partner_profiles"
    __table_args__ = (
        Index("ix_partner_profiles_partnership_org", "partnership_id", "organisation_id", "id"),
        CheckConstraint(one_of("side", PartnershipSide.ALL), name="ck_partner_profiles_side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    side: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class RoleMap(Base):
    """Who holds which ECVET function in each country, as the partners of one partnership mapped it.

    It stays with the partnership and never writes :class:`OrganisationCompetence` (the platform's
    registry of competent institutions, kept by administrators, which routes approvals): entries say
    whether the organisation they name is registered for that function and country. A new mapping is
    a new row; the newest is current."""

    __tablename__ = "role_maps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[RoleMapEntry]] = relationship(
        lazy="selectin", order_by="RoleMapEntry.id", cascade="all, delete-orphan"
    )

class RoleMapConfirmation(Base):
    """One party of a partnership (a partner or a competent institution) confirms the role map: the part
    of it within its jurisdiction (``jurisdiction``, in its words) and what lies beyond it (``beyond``),
    signed by a member. It binds to one role map: a new mapping needs new confirmations. Append-only
    (migration 1703)."""

    __tablename__ = "role_map_confirmations"
    __table_args__ = (UniqueConstraint("role_map_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_map_id: Mapped[int] = mapped_column(ForeignKey("role_maps.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    jurisdiction: Mapped[str] = mapped_column(Text)
    beyond: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str | None] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleMapEntry(Base):
    """One function in one country: the organisation holding it (registered, or named in words)."""

    __tablename__ = "role_map_entries"
    __table_args__ = (
        UniqueConstraint("role_map_id", "function", "side"),
        CheckConstraint(one_of("function", RoleMapFunction.ALL), name="ck_role_map_entries_function"),
        CheckConstraint(one_of("side", PartnershipSide.COUNTRIES), name="ck_role_map_entries_side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_map_id: Mapped[int] = mapped_column(ForeignKey("role_maps.id", ondelete="CASCADE"), index=True)
    function: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)


class Letterhead(Base):
    """An organisation's letterhead on the documents it issues: its address and logo (a PNG the platform
    re-encoded from the upload, so nothing active survives). A new row per save; the newest is current."""

    __tablename__ = "letterheads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
