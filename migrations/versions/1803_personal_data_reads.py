"""The reads log of learners' personal data (issue 16: "who looked at my data")

Every reading of a document about a learner or of a learner record is in the audit trail, but the trail
is keyed by instance: a learner's list of who read their data would scan it whole. One row per read,
indexed by learner, makes the list one range scan (ecvet/subject_access/reads.py).

Revision ID: 1803
Revises: 1802
Create Date: 2026-12-07 15:30:00
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '1803'
down_revision = '1802'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_data_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=True),
        sa.Column("what", sa.String(40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_personal_data_reads_learner", "personal_data_reads", ["learner_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_personal_data_reads_learner", "personal_data_reads")
    op.drop_table("personal_data_reads")
