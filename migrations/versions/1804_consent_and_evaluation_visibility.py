"""Privacy notice acknowledgements, guardians' access ending at 18, evaluation-sheet visibility (issue 16)

``privacy_acknowledgements``: who read which version of the privacy notice (a hash of its English text),
in which language, when. ``guardian_hand_overs``: one row per learner whose guardian's access ended at
the 18th birthday (the daily sweep writes it once). ``evaluation_visibility_policies``: per MoU, whether
the partners read each other's evaluation sheets (no row: each party its own and the action plan).

Revision ID: 1804
Revises: 1803
Create Date: 2026-12-07 15:30:00
"""
from alembic import op
import sqlalchemy as sa

from engine.models import UTCDateTime


revision = '1804'
down_revision = '1803'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_acknowledgements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "notice_version"),
    )
    op.create_index("ix_privacy_acknowledgements_user_id", "privacy_acknowledgements", ["user_id"])
    op.create_table(
        "guardian_hand_overs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("guardian_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("came_of_age_on", sa.Date(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("learner_id"),
    )
    op.create_table(
        "evaluation_visibility_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mou_id", sa.Integer(), sa.ForeignKey("mous.id"), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("set_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("mou_id"),
        sa.CheckConstraint("visibility IN ('own', 'partners')", name="ck_evaluation_visibility_policies_visibility"),
    )


def downgrade() -> None:
    op.drop_table("evaluation_visibility_policies")
    op.drop_table("guardian_hand_overs")
    op.drop_index("ix_privacy_acknowledgements_user_id", table_name="privacy_acknowledgements")
    op.drop_table("privacy_acknowledgements")
