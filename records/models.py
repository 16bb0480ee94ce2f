"""Tables of partnership records, on the engine's metadata so one Alembic history covers everything.

Evidence is kept, never rewritten: a MoU changes by getting a new :class:`MouVersion` (content plus
its SHA-256), and every approval or rejection is a :class:`MouApproval` row quoting the hash it was
given for. The migration adds triggers that refuse UPDATE and DELETE on both tables.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    signer_place: Mapped[str | None] = mapped_column(String(200))
    # The account that signed (migration 0008); NULL for an approval by silence, a parent's signature
    # on paper recorded by the school, and signatures recorded before accounts signed.
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
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
    REPLACED = "replaced"  # a part of the text other than units (e.g. the assessment arrangements)
    ALL = (ADDED, REMOVED, REPLACED)


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
    # Added by migration 0006 (the Mobility process): who takes part besides sending and hosting, the
    # process instance that runs the mobility, and the national model its gates were decided with.
    process_instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    competent_institution_home_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    competent_institution_host_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    intermediary_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Snapshot of records.national_models.NationalModel.as_dict() taken from the table deployed with
    # the process version the mobility runs on, so records and process gates always agree.
    national_model: Mapped[dict[str, Any] | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None]

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
    signer_place: Mapped[str | None] = mapped_column(String(200))
    # The account that signed (migration 0008); NULL for an approval by silence, a parent's signature
    # on paper recorded by the school, and signatures recorded before accounts signed.
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16), default=ApprovalMode.EXPLICIT)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --------------------------------------------------------------------------------------------------
# Partnerships: partner profiles, attachments and role maps; Reviews: evaluations and action plans
# (migration 0007)
# --------------------------------------------------------------------------------------------------


class PartnershipSide:
    """Which partner a profile describes; which country a role-map entry is about."""

    SENDING = "sending"
    HOSTING = "hosting"
    ALL = (SENDING, HOSTING)
    HOME = "home"
    HOST = "host"
    COUNTRIES = (HOME, HOST)


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
        CheckConstraint(_one_of("side", PartnershipSide.ALL), name="ck_partner_profiles_side"),
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


class RoleMapEntry(Base):
    """One function in one country: the organisation holding it (registered, or named in words)."""

    __tablename__ = "role_map_entries"
    __table_args__ = (
        UniqueConstraint("role_map_id", "function", "side"),
        CheckConstraint(_one_of("function", CompetenceFunction.ALL), name="ck_role_map_entries_function"),
        CheckConstraint(_one_of("side", PartnershipSide.COUNTRIES), name="ck_role_map_entries_side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_map_id: Mapped[int] = mapped_column(ForeignKey("role_maps.id", ondelete="CASCADE"), index=True)
    function: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)


class ReviewStatus:
    EVALUATING = "evaluating"
    PLANNED = "planned"
    REVISION_REQUESTED = "revision_requested"
    COMPLETED = "completed"
    ALL = (EVALUATING, PLANNED, REVISION_REQUESTED, COMPLETED)


class ReviewParty:
    SENDING = "sending"
    HOSTING = "hosting"
    LEARNER = "learner"
    ALL = (SENDING, HOSTING, LEARNER)


class Answer:
    """How far a statement of the evaluation sheet holds."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    ALL = (YES, PARTLY, NO)


class ActionItemStatus:
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"
    ALL = (OPEN, IN_PROGRESS, DONE, DROPPED)


class Review(Base):
    """The review of one learner's mobility (checklist: "reviewing the process and results of
    individual mobility"): evaluation sheets by sending, hosting and learner, then an action plan, and
    optionally a revision of the MoU. Its parties are copied from the mobility when it is opened."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint(_one_of("status", ReviewStatus.ALL), name="ck_reviews_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    mou_id: Mapped[int | None] = mapped_column(ForeignKey("mous.id"), index=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    hosting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    learner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=ReviewStatus.EVALUATING)
    # The MoU version in force when the review asked for a revision, and the version that came of it.
    mou_version_reviewed: Mapped[int | None] = mapped_column(Integer)
    mou_version_revised: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class Evaluation(Base):
    """One party's evaluation sheet: were the agreed learning outcomes appropriate, was the assessment
    evidence sufficient for recognition, what should change. Append-only evidence (triggers in 0007)."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("review_id", "party"),
        CheckConstraint(_one_of("party", ReviewParty.ALL), name="ck_evaluations_party"),
        CheckConstraint(_one_of("outcomes_appropriate", Answer.ALL), name="ck_evaluations_outcomes"),
        CheckConstraint(_one_of("evidence_sufficient", Answer.ALL), name="ck_evaluations_evidence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    party: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcomes_appropriate: Mapped[str] = mapped_column(String(8))
    outcomes_comment: Mapped[str | None] = mapped_column(Text)
    evidence_sufficient: Mapped[str] = mapped_column(String(8))
    evidence_comment: Mapped[str | None] = mapped_column(Text)
    strengths: Mapped[str | None] = mapped_column(Text)
    changes_proposed: Mapped[str | None] = mapped_column(Text)
    unit_remarks: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionPlan(Base):
    """What the partners will change after a review, item by item, and whether the MoU is revised."""

    __tablename__ = "action_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), unique=True)
    summary: Mapped[str | None] = mapped_column(Text)
    revise_mou: Mapped[bool] = mapped_column(default=False)
    mou_changes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[ActionPlanItem]] = relationship(
        lazy="selectin", order_by="ActionPlanItem.position", cascade="all, delete-orphan"
    )


class ActionPlanItem(Base):
    """One action with its owner (an organisation of the review, optionally a named person in it, or
    the learner) and due date; its status is the only thing that changes later (audited)."""

    __tablename__ = "action_plan_items"
    __table_args__ = (
        UniqueConstraint("action_plan_id", "position"),
        CheckConstraint(_one_of("status", ActionItemStatus.ALL), name="ck_action_plan_items_status"),
        CheckConstraint("(owner_organisation_id IS NULL) <> (owner_user_id IS NULL)",
                        name="ck_action_plan_items_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(Text)
    owner_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner_name: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ActionItemStatus.OPEN)
    status_note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------------------------
# Mobility records: status history, assessment sheets, Learner's Personal Transcripts, validation and
# recognition decisions, credit awards (the learner's achievements) and practical implications.
# All are evidence: migration 0006 makes every table here append-only (UPDATE and DELETE refused),
# except that a transcript may be marked ready for recognition once.
# --------------------------------------------------------------------------------------------------


class AssessmentMethod:
    """How a unit was assessed (the assessment sheet's methods)."""

    OBSERVATION = "observation"
    PRACTICAL_TASK = "practical_task"
    PORTFOLIO = "portfolio"
    INTERVIEW = "interview"
    TEST = "test"
    ALL = (OBSERVATION, PRACTICAL_TASK, PORTFOLIO, INTERVIEW, TEST)


class AssessmentResult:
    """Achieved or not; a grade, where the host's system gives one, is kept next to it."""

    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"
    ALL = (ACHIEVED, NOT_ACHIEVED)


class ValidationOutcome:
    """The sending organisation's decision per unit after comparing the transcript with the LA."""

    VALIDATED = "validated"
    PARTLY = "partly_validated"
    NOT_VALIDATED = "not_validated"
    ALL = (VALIDATED, PARTLY, NOT_VALIDATED)


class Recogniser:
    """Who recognises, as the national model says (``recognition_by``)."""

    SENDING = "sending"
    COMPETENT_INSTITUTION = "competent_institution"
    ALL = (SENDING, COMPETENT_INSTITUTION)


class ImplicationKind:
    """Practical implications agreed beforehand and applied after recognition (the seeds' checklist)."""

    EXEMPTED_ACTIVITY = "exempted_activity"
    NO_RETAKE = "no_retake"
    EXTRA_CREDITS = "extra_credits"
    OTHER = "other"
    ALL = (EXEMPTED_ACTIVITY, NO_RETAKE, EXTRA_CREDITS, OTHER)


class MobilityStatusChange(Base):
    """One step of a mobility's life (nomination → live → recognized, or cancelled), with its reason."""

    __tablename__ = "mobility_status_changes"
    __table_args__ = (
        CheckConstraint(_one_of("new_status", MobilityStatus.ALL), name="ck_mobility_status_changes_new"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AssessmentRecord(Base):
    """The assessment sheet of one unit (or one learning outcome of it), filled in by the host.

    It refers to the Learning Agreement version in force when the learner was assessed. A correction
    is a new row that names the one it replaces (``supersedes_id``); the replaced row stays."""

    __tablename__ = "assessment_records"
    __table_args__ = (
        Index("ix_assessment_records_mobility_unit", "mobility_id", "unit_code"),
        CheckConstraint(_one_of("method", AssessmentMethod.ALL), name="ck_assessment_records_method"),
        CheckConstraint(_one_of("result", AssessmentResult.ALL), name="ck_assessment_records_result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    la_id: Mapped[int] = mapped_column(ForeignKey("learning_agreements.id"))
    la_version_id: Mapped[int] = mapped_column(ForeignKey("la_versions.id"))
    unit_code: Mapped[str] = mapped_column(String(50))
    unit_title: Mapped[str | None] = mapped_column(String(300))
    learning_outcome: Mapped[str | None] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(20))
    context: Mapped[str | None] = mapped_column(Text)
    assessor_name: Mapped[str] = mapped_column(String(200))
    assessor_organisation: Mapped[str] = mapped_column(String(300))
    assessor_role: Mapped[str | None] = mapped_column(String(200))
    assessed_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(50))
    comments: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # Who signed the sheet for the host (migration 0008): the account that recorded it. The assessor
    # above is what the sheet states; it may be a colleague. NULL on sheets recorded before.
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str | None] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_records.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssessmentAcknowledgement(Base):
    """The learner's acknowledgement of one assessment record (and whether they agree with it)."""

    __tablename__ = "assessment_acknowledgements"
    __table_args__ = (UniqueConstraint("assessment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment_records.id"))
    agrees: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PersonalTranscript(Base):
    """The Learner's Personal Transcript, issued by the host: per unit method, date, assessor, result,
    ECVET points and evidence, for the Learning Agreement version (and hash) it refers to.

    Immutable once issued (triggers); the single change allowed is marking it ready for recognition,
    once, which is also when the home side may first read it (EWP practice)."""

    __tablename__ = "personal_transcripts"
    __table_args__ = (UniqueConstraint("mobility_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    hosting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    la_id: Mapped[int] = mapped_column(ForeignKey("learning_agreements.id"))
    la_version_id: Mapped[int] = mapped_column(ForeignKey("la_versions.id"))
    la_version_number: Mapped[int] = mapped_column(Integer)
    la_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # NULL before migration 0008
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_for_recognition_at: Mapped[datetime | None]
    ready_marked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ValidationDecision(Base):
    """Validation of one unit by the sending organisation: the assessed learning outcomes correspond
    to the unit (validated), partly, or not. Given once per unit, for the transcript hash it quotes."""

    __tablename__ = "validation_decisions"
    __table_args__ = (
        UniqueConstraint("mobility_id", "unit_code"),
        CheckConstraint(_one_of("outcome", ValidationOutcome.ALL), name="ck_validation_decisions_outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    transcript_id: Mapped[int] = mapped_column(ForeignKey("personal_transcripts.id"))
    transcript_hash: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    merged_with_recognition: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # NULL before migration 0008
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RecognitionDecision(Base):
    """The recognition act: by the sending organisation or the competent institution the national
    model names, merged with validation or not; per unit recognised or not, with the points given."""

    __tablename__ = "recognition_decisions"
    __table_args__ = (
        UniqueConstraint("mobility_id"),
        CheckConstraint(_one_of("recognised_by", Recogniser.ALL), name="ck_recognition_decisions_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    transcript_id: Mapped[int] = mapped_column(ForeignKey("personal_transcripts.id"))
    transcript_hash: Mapped[str] = mapped_column(String(64))
    recognised_by: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    merged_with_validation: Mapped[bool] = mapped_column(Boolean, default=False)
    units: Mapped[list[Any]]  # [{"unit", "recognised", "ecvet_points", "comment"}]
    comment: Mapped[str | None] = mapped_column(Text)
    national_model: Mapped[str | None] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    signer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # NULL before migration 0008
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CreditAward(Base):
    """A unit and its ECVET points awarded to a learner: one line of the learner's achievements."""

    __tablename__ = "credit_awards"
    __table_args__ = (
        UniqueConstraint("mobility_id", "unit_code"),
        CheckConstraint("ecvet_points >= 0", name="ck_credit_awards_points"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    recognition_id: Mapped[int] = mapped_column(ForeignKey("recognition_decisions.id"))
    unit_code: Mapped[str] = mapped_column(String(50))
    unit_title: Mapped[str | None] = mapped_column(String(300))
    qualification_title: Mapped[str] = mapped_column(String(300))
    eqf_level: Mapped[int | None] = mapped_column(Integer)
    ecvet_points: Mapped[float] = mapped_column(Float)
    awarded_by_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PracticalImplication(Base):
    """What recognition changes in the learner's programme at home: an exempted activity, no retake,
    extra credits (with their points), or another effect agreed beforehand."""

    __tablename__ = "practical_implications"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ImplicationKind.ALL), name="ck_practical_implications_kind"),
        CheckConstraint("ecvet_points IS NULL OR ecvet_points >= 0", name="ck_practical_implications_points"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(50))
    ecvet_points: Mapped[float | None] = mapped_column(Float)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
