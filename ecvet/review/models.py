"""Tables of reviews: evaluation sheets and action plans (append-only evidence, triggers in migration 0007)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecvet.constraints import one_of
from engine.models import Base, utcnow


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
    __table_args__ = (CheckConstraint(one_of("status", ReviewStatus.ALL), name="ck_reviews_status"),)

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
        CheckConstraint(one_of("party", ReviewParty.ALL), name="ck_evaluations_party"),
        CheckConstraint(one_of("outcomes_appropriate", Answer.ALL), name="ck_evaluations_outcomes"),
        CheckConstraint(one_of("evidence_sufficient", Answer.ALL), name="ck_evaluations_evidence"),
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
        CheckConstraint(one_of("status", ActionItemStatus.ALL), name="ck_action_plan_items_status"),
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

class PartnershipReview(Base):
    """The partners' look across every mobility under one MoU (issue 13 item 8): the summary of the
    evaluations and action plans as it stood, the conclusions, and the MoU revision it asked for."""

    __tablename__ = "partnership_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id"), index=True)
    mou_version_reviewed: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]]  # the summary as the partners read it when they concluded
    conclusions: Mapped[str] = mapped_column(Text)
    revision_requested: Mapped[bool] = mapped_column(default=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class EvaluationVisibility:
    """Who reads which evaluation sheets of the reviews under one MoU (issue 16)."""

    #: Each party reads its own sheet and the action plan (the default).
    OWN = "own"
    #: The partner organisations read each other's sheets too; learners still only their own.
    PARTNERS = "partners"
    ALL = (OWN, PARTNERS)

class EvaluationVisibilityPolicy(Base):
    """The partners' choice of :class:`EvaluationVisibility` for the reviews under one MoU (no row: OWN),
    set by a coordinator of a signing partner (audited; the latest choice is the row)."""

    __tablename__ = "evaluation_visibility_policies"
    __table_args__ = (CheckConstraint(one_of("visibility", EvaluationVisibility.ALL),
                                      name="ck_evaluation_visibility_policies_visibility"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mou_id: Mapped[int] = mapped_column(ForeignKey("mous.id"), unique=True)
    visibility: Mapped[str] = mapped_column(String(16), default=EvaluationVisibility.OWN)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
