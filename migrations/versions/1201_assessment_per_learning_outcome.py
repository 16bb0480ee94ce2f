"""Assessment sheets record a result per learning outcome of the unit

``assessment_records.outcome_results`` (JSON, NULL on sheets recorded before): per learning outcome of
the unit as the Learning Agreement states it, its kind, text, result and an optional comment. A plain
nullable column: the append-only triggers of the table stay as they are (SQLite adds the column in
place, without copying the table).

Revision ID: 1201
Revises: 1301
Create Date: 2026-12-07 09:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1201'
down_revision = '1301'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("assessment_records", sa.Column("outcome_results", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("assessment_records", "outcome_results")
