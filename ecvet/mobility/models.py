"""Tables of mobilities: learners, Learning Agreements, assessment sheets, transcripts, decisions, credits.

Evidence is kept, never rewritten: a Learning Agreement changes by getting a new :class:`LaVersion`,
signatures quote the hash they were given for, and migrations 0004 and 0006 make the signatures,
sheets, transcripts, decisions and credits append-only (a transcript may be marked ready once).
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

from ecvet.constraints import one_of
from ecvet.mobility.vocabulary import (
    ADULT_AGE,
    AssessmentMethod,
    AssessmentResult,
    ImplicationKind,
    LaParty,
    LaStatus,
    MobilityStatus,
    Recogniser,
    ValidationOutcome,
)
from ecvet.partnership.models import ApprovalMode
from engine.models import Base, utcnow


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
        return self.age_on(on_date) < ADULT_AGE

class MobilityGroup(Base):
    """Learners who go together under one MoU (migration 1704): one programme, one Learning Agreement
    text, and the accompanying persons; each learner still has their own mobility and signs their own copy."""

    __tablename__ = "mobility_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id"), index=True)
    sending_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(Text)
    accompanying_persons: Mapped[list[Any]]  # [{"name", "role", "organisation"}]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class Mobility(Base):
    """One learner's stay abroad under a MoU: nomination, then live, then recognized (or cancelled)."""

    __tablename__ = "mobilities"
    __table_args__ = (
        CheckConstraint(one_of("status", MobilityStatus.ALL), name="ck_mobilities_status"),
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
    # Snapshot of ecvet.national_models.service.NationalModel.as_dict() taken from the table deployed with
    # the process version the mobility runs on, so records and process gates always agree.
    national_model: Mapped[dict[str, Any] | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None]
    group_id: Mapped[int | None] = mapped_column(ForeignKey("mobility_groups.id"), index=True)  # migration 1704

    learner: Mapped[Learner] = relationship(lazy="joined")
    # Several hosts one after the other (migration 1704); none: one host for the whole mobility.
    periods: Mapped[list[MobilityPeriod]] = relationship(lazy="selectin", order_by="MobilityPeriod.position")

class MobilityPeriod(Base):
    """One host's part of a mobility with several hosts: its dates and the units it assesses. Period 1's
    host is the mobility's hosting organisation (it signs the LA and issues the transcript)."""

    __tablename__ = "mobility_periods"
    __table_args__ = (UniqueConstraint("mobility_id", "position"), CheckConstraint("end_date >= start_date",
                                                                                   name="ck_mobility_periods_dates"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    hosting_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    unit_codes: Mapped[list[Any]]

class MobilityStatusChange(Base):
    """One step of a mobility's life (nomination → live → recognized, or cancelled), with its reason."""

    __tablename__ = "mobility_status_changes"
    __table_args__ = (
        CheckConstraint(one_of("new_status", MobilityStatus.ALL), name="ck_mobility_status_changes_new"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

class LearningAgreement(Base):
    """A learner's Learning Agreement for one mobility: identity and status; its text lives in versions."""

    __tablename__ = "learning_agreements"
    __table_args__ = (CheckConstraint(one_of("status", LaStatus.ALL), name="ck_learning_agreements_status"),)

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
        CheckConstraint(one_of("party", LaParty.ALL), name="ck_la_signatures_party"),
        CheckConstraint(one_of("mode", ApprovalMode.ALL), name="ck_la_signatures_mode"),
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

class AssessmentRecord(Base):
    """The assessment sheet of one unit (or one learning outcome of it), filled in by the host.

    It refers to the Learning Agreement version in force when the learner was assessed. A correction
    is a new row that names the one it replaces (``supersedes_id``); the replaced row stays."""

    __tablename__ = "assessment_records"
    __table_args__ = (
        Index("ix_assessment_records_mobility_unit", "mobility_id", "unit_code"),
        CheckConstraint(one_of("method", AssessmentMethod.ALL), name="ck_assessment_records_method"),
        CheckConstraint(one_of("result", AssessmentResult.ALL), name="ck_assessment_records_result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"))
    la_id: Mapped[int] = mapped_column(ForeignKey("learning_agreements.id"))
    la_version_id: Mapped[int] = mapped_column(ForeignKey("la_versions.id"))
    unit_code: Mapped[str] = mapped_column(String(50))
    unit_title: Mapped[str | None] = mapped_column(String(300))
    learning_outcome: Mapped[str | None] = mapped_column(Text)
    # Per learning outcome of the unit (migration 1201): [{kind, text, result, comment}]; NULL before.
    outcome_results: Mapped[list[Any] | None]
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

class EvidenceFile(Base):
    """A file of evidence (photo, work sample, test) for one learning outcome of a unit; the bytes are an
    attachment (``attachments``, stored once per SHA-256). Readable by the mobility's parties only."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"))
    unit_code: Mapped[str] = mapped_column(String(50))
    learning_outcome: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

class AssessmentSignature(Base):
    """An assessor's own signature on an assessment sheet (besides the member who recorded it)."""

    __tablename__ = "assessment_signatures"
    __table_args__ = (UniqueConstraint("assessment_id", "signer_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment_records.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    signer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signer_place: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

class AssessmentAcknowledgement(Base):
    """The learner's acknowledgement of one assessment record (and whether they agree with it)."""

    __tablename__ = "assessment_acknowledgements"
    __table_args__ = (UniqueConstraint("assessment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_id: Mapped[int] = mapped_column(ForeignKey("mobilities.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment_records.id"))
    agrees: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)  # on this unit only (since 1705)
    overall_comment: Mapped[str | None] = mapped_column(Text)  # on the whole assessment (1705)
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
        CheckConstraint(one_of("outcome", ValidationOutcome.ALL), name="ck_validation_decisions_outcome"),
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
        CheckConstraint(one_of("recognised_by", Recogniser.ALL), name="ck_recognition_decisions_by"),
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
        CheckConstraint(one_of("kind", ImplicationKind.ALL), name="ck_practical_implications_kind"),
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


class OrganisationKey(Base):
    """An organisation's credential signing key (ecvet/mobility/seal.py): public key in the clear, private key
    encrypted; never deleted, so what it signed keeps verifying."""

    __tablename__ = "organisation_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)  # the public key's SHA-256, first 32 hex
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url without padding
    private_key_encrypted: Mapped[str] = mapped_column(Text)  # Fernet token of the raw 32-byte seed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
