"""Evidence files, assessors' signatures, qualification awards, ESCO skills, partnership reviews

* ``evidence_files``: files attached to a learning outcome of a unit during a mobility (the bytes are
  attachments); ``assessment_signatures``: each assessor's own signature on an assessment sheet.
* ``qualification_awards``: a whole qualification awarded once all its units are recognised.
* ``learning_outcomes.esco_skill``: the ESCO skill URI of an outcome, where known.
* ``assessment_acknowledgements.overall_comment``: the learner's comment on the whole assessment, kept
  apart from the comment on each unit (which is no longer a copy of it).
* ``partnership_reviews``: the review across the mobilities of one MoU, feeding a MoU revision.

The four new tables are evidence: append-only, like the sheets and signatures before them.

Revision ID: 1705
Revises: 1704
Create Date: 2026-12-07 12:20:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect

#: Evidence: signatures, files, awards and conclusions are added, never changed or removed.
APPEND_ONLY = ("evidence_files", "assessment_signatures", "qualification_awards", "partnership_reviews")


revision = '1705'
down_revision = '1704'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mobility_id", sa.Integer(), sa.ForeignKey("mobilities.id"), nullable=False),
        sa.Column("attachment_id", sa.Integer(), sa.ForeignKey("attachments.id"), nullable=False),
        sa.Column("unit_code", sa.String(50), nullable=False),
        sa.Column("learning_outcome", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_evidence_files_mobility_id", "evidence_files", ["mobility_id"])
    op.create_table(
        "assessment_signatures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("assessment_records.id"), nullable=False),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("signer_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signer_position", sa.String(200), nullable=True),
        sa.Column("signer_email", sa.String(254), nullable=False),
        sa.Column("signer_place", sa.String(200), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("assessment_id", "signer_user_id"),
    )
    op.create_index("ix_assessment_signatures_assessment_id", "assessment_signatures", ["assessment_id"])
    op.add_column("learning_outcomes", sa.Column("esco_skill", sa.String(200), nullable=True))
    op.add_column("assessment_acknowledgements", sa.Column("overall_comment", sa.Text(), nullable=True))
    op.create_table(
        "qualification_awards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("qualification_id", sa.Integer(), sa.ForeignKey("qualifications.id"), nullable=False),
        sa.Column("qualification_title", sa.String(300), nullable=False),
        sa.Column("eqf_level", sa.Integer(), nullable=True),
        sa.Column("nqf_level", sa.String(20), nullable=True),
        sa.Column("ecvet_points", sa.Float(), nullable=False),
        sa.Column("credit_award_ids", sa.JSON(), nullable=False),
        sa.Column("mobility_ids", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("signer_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signer_position", sa.String(200), nullable=True),
        sa.Column("signer_email", sa.String(254), nullable=False),
        sa.Column("signer_place", sa.String(200), nullable=True),
        sa.Column("awarded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("learner_id", "qualification_id"),
    )
    op.create_index("ix_qualification_awards_learner_id", "qualification_awards", ["learner_id"])
    op.create_table(
        "partnership_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mou_id", sa.Integer(), sa.ForeignKey("mous.id"), nullable=False),
        sa.Column("mou_version_reviewed", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("conclusions", sa.Text(), nullable=False),
        sa.Column("revision_requested", sa.Boolean(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_partnership_reviews_mou_id", "partnership_reviews", ["mou_id"])
    for table in APPEND_ONLY:
        protect(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        unprotect(table)
    op.drop_index("ix_partnership_reviews_mou_id", table_name="partnership_reviews")
    op.drop_table("partnership_reviews")
    op.drop_index("ix_qualification_awards_learner_id", table_name="qualification_awards")
    op.drop_table("qualification_awards")
    op.drop_column("learning_outcomes", "esco_skill")
    op.drop_column("assessment_acknowledgements", "overall_comment")
    op.drop_index("ix_assessment_signatures_assessment_id", table_name="assessment_signatures")
    op.drop_table("assessment_signatures")
    op.drop_index("ix_evidence_files_mobility_id", table_name="evidence_files")
    op.drop_table("evidence_files")
