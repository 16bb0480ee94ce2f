"""Tables of partnership records, on the engine's metadata so one Alembic history covers everything.

Evidence is kept, never rewritten: a MoU changes by getting a new :class:`MouVersion` (content plus
its SHA-256), and every approval or rejection is a :class:`MouApproval` row quoting the hash it was
given for. The migration adds triggers that refuse UPDATE and DELETE on both tables.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.models import Base, utcnow


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CompetenceFunction:
    """What a competent institution is competent for (a role under national rules, not a type of body)."""

    ASSESSMENT = "assessment"
    VALIDATION = "validation"
    RECOGNITION = "recognition"
    AWARD_OF_CREDIT = "award_of_credit"
    MOU_APPROVAL = "mou_approval"
    LA_APPROVAL = "la_approval"
    ALL = (ASSESSMENT, VALIDATION, RECOGNITION, AWARD_OF_CREDIT, MOU_APPROVAL, LA_APPROVAL)


class OutcomeKind:
    KNOWLEDGE = "knowledge"
    SKILLS = "skills"
    COMPETENCE = "competence"
    ALL = (KNOWLEDGE, SKILLS, COMPETENCE)


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


class OrganisationCompetence(Base):
    """Organisation X is the competent institution for `function` in `country` (e.g. a chamber in DE)."""

    __tablename__ = "organisation_competences"
    __table_args__ = (
        UniqueConstraint("organisation_id", "country", "function"),
        CheckConstraint(_one_of("function", CompetenceFunction.ALL), name="ck_organisation_competences_function"),
        Index("ix_competences_country_function", "country", "function"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))
    function: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    __table_args__ = (CheckConstraint(_one_of("kind", OutcomeKind.ALL), name="ck_learning_outcomes_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)

    unit: Mapped[Unit] = relationship(back_populates="outcomes")


class Mou(Base):
    """A Memorandum of Understanding: identity and status; its text lives in versions."""

    __tablename__ = "mous"
    __table_args__ = (CheckConstraint(_one_of("status", MouStatus.ALL), name="ck_mous_status"),)

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
        CheckConstraint(_one_of("role", ApprovalRole.ALL), name="ck_mou_approvals_role"),
        CheckConstraint(_one_of("decision", Decision.ALL), name="ck_mou_approvals_decision"),
        CheckConstraint(_one_of("mode", ApprovalMode.ALL), name="ck_mou_approvals_mode"),
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
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    mode: Mapped[str] = mapped_column(String(16), default=ApprovalMode.EXPLICIT)
    content_hash: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --------------------------------------------------------------------------------------------------
# Learners, mobilities and Learning Agreements
# --------------------------------------------------------------------------------------------------


class MobilityStatus:
    NOMINATION = "nomination"
    LIVE = "live"
    RECOGNIZED = "recognized"
    CANCELLED = "cancelled"
    ALL = (NOMINATION, LIVE, RECOGNIZED, CANCELLED)


class LaStatus:
    """Derived from the signatures that count for the current version (see records.learning_agreement).

    ``signed``: every party (learner, guardian of a minor, sending, hosting) signed the current text;
    ``approved``: in addition the competent institution the national model requires approved it.
    ``deleted`` is a soft delete: versions and signatures are evidence and are never removed.
    """

    DRAFT = "draft"
    SIGNING = "signing"
    SIGNED = "signed"
    APPROVED = "approved"
    DELETED = "deleted"
    ALL = (DRAFT, SIGNING, SIGNED, APPROVED, DELETED)


class LaParty:
    """Who signs a Learning Agreement, in the order they sign (EWP: learner, sending, receiving)."""

    LEARNER = "learner"
    GUARDIAN = "guardian"
    SENDING = "sending"
    HOSTING = "hosting"
    COMPETENT_INSTITUTION = "competent_institution"
    ALL = (LEARNER, GUARDIAN, SENDING, HOSTING, COMPETENT_INSTITUTION)


class LaChange:
    ADDED = "added"
    REMOVED = "removed"
    ALL = (ADDED, REMOVED)


class Learner(Base):
    """A learner going abroad. ``user_id`` links the account the learner signs with, personally."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    email: Mapped[str] = mapped_column(String(254))
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_email: Mapped[str | None] = mapped_column(String(254))
    european_student_identifier: Mapped[str | None] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # When set, the guardian signs personally; otherwise the sending organisation records the
    # guardian's (paper) signature.
    guardian_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def age_on(self, on_date: date) -> int:
        born = self.date_of_birth
        return on_date.year - born.year - ((on_date.month, on_date.day) < (born.month, born.day))

    def is_minor(self, on_date: date) -> bool:
        """Under 18 on that date: the Learning Agreement then needs a parent's or guardian's signature."""
        return self.age_on(on_date) < 18


class Mobility(Base):
    """One learner's stay abroad under a MoU: nomination, then live, then recognized (or cancelled)."""

    __tablename__ = "mobilities"
    __table_args__ = (
        CheckConstraint(_one_of("status", MobilityStatus.ALL), name="ck_mobilities_status"),
        CheckConstraint("end_date >= start_date", name="ck_mobilities_dates"),
        CheckConstraint("qualification_eqf_level IS NULL OR qualification_eqf_level BETWEEN 1 AND 8",
                        name="ck_mobilities_eqf_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id"), index=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    hosting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    qualification_title: Mapped[str] = mapped_column(String(300))
    qualification_eqf_level: Mapped[int | None] = mapped_column(Integer)
    sector: Mapped[str | None] = mapped_column(String(100))  # selects sector rows of the national model
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=MobilityStatus.NOMINATION)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[Learner] = relationship(lazy="joined")


class LearningAgreement(Base):
    """A learner's Learning Agreement for one mobility: identity and status; its text lives in versions."""

    __tablename__ = "learning_agreements"
    __table_args__ = (CheckConstraint(_one_of("status", LaStatus.ALL), name="ck_learning_agreements_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    # use_alter: learning_agreements and la_versions point at each other.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("la_versions.id", use_alter=True, name="fk_learning_agreements_current_version_id")
    )
    status: Mapped[str] = mapped_column(String(16), default=LaStatus.DRAFT)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class LaVersion(Base):
    """One immutable text of a Learning Agreement; signatures bind to its ``content_hash``.

    ``changes`` lists what this version changed against the previous one, each with its reason:
    ``[{"unit": code, "change": "added"|"removed", "reason": text}]`` (empty for version 1).
    """

    __tablename__ = "la_versions"
    __table_args__ = (
        UniqueConstraint("la_id", "number"),
        CheckConstraint("number >= 1", name="ck_la_versions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("learning_agreements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    changes: Mapped[list[Any]]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LaSignature(Base):
    """A signature of one party for the exact text it quotes. Append-only (triggers in migration 0004);
    a change does not touch it: it stops counting because it quotes another version and hash."""

    __tablename__ = "la_signatures"
    __table_args__ = (
        Index("ix_la_signatures_version_party", "la_version_id", "party"),
        CheckConstraint(_one_of("party", LaParty.ALL), name="ck_la_signatures_party"),
        CheckConstraint(_one_of("mode", ApprovalMode.ALL), name="ck_la_signatures_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("learning_agreements.id"), index=True)
    la_version_id: Mapped[int] = mapped_column(ForeignKey("la_versions.id"))
    party: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str | None] = mapped_column(String(254))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16), default=ApprovalMode.EXPLICIT)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
