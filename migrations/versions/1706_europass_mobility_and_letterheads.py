"""Europass Mobility records and organisations' letterheads

``europass_mobilities`` holds the Europass Mobility of a completed mobility (its content and SHA-256,
never rewritten) and ``europass_signatures`` the sign-off of the host and the sending organisation,
each quoting that hash: both append-only. ``letterheads`` holds the address and the (re-encoded PNG)
logo an organisation prints on the documents it issues; a new row per save.

Revision ID: 1706
Revises: 1705
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect

from engine.models import UTCDateTime


revision = '1706'
down_revision = '1705'
branch_labels = None
depends_on = None

_APPEND_ONLY = ("europass_mobilities", "europass_signatures")


def upgrade() -> None:
    op.create_table(
        "europass_mobilities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mobility_id", sa.Integer(), sa.ForeignKey("mobilities.id"), nullable=False),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("sending_organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("hosting_organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("mobility_id"),
    )
    op.create_index("ix_europass_mobilities_learner_id", "europass_mobilities", ["learner_id"])
    op.create_table(
        "europass_signatures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("europass_id", sa.Integer(), sa.ForeignKey("europass_mobilities.id"), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("signer_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signer_position", sa.String(200), nullable=False),
        sa.Column("signer_email", sa.String(254), nullable=False),
        sa.Column("signer_place", sa.String(200), nullable=True),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("europass_id", "party"),
        sa.CheckConstraint("party IN ('hosting', 'sending')", name="ck_europass_signatures_party"),
    )
    op.create_index("ix_europass_signatures_europass_id", "europass_signatures", ["europass_id"])
    op.create_table(
        "letterheads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column("logo_sha256", sa.String(64), nullable=True),
        sa.Column("logo_width", sa.Integer(), nullable=True),
        sa.Column("logo_height", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_letterheads_organisation_id", "letterheads", ["organisation_id"])
    for table in _APPEND_ONLY:
        protect(table)


def downgrade() -> None:
    for table in _APPEND_ONLY:
        unprotect(table)
    op.drop_index("ix_letterheads_organisation_id", table_name="letterheads")
    op.drop_table("letterheads")
    op.drop_index("ix_europass_signatures_europass_id", table_name="europass_signatures")
    op.drop_table("europass_signatures")
    op.drop_index("ix_europass_mobilities_learner_id", table_name="europass_mobilities")
    op.drop_table("europass_mobilities")
