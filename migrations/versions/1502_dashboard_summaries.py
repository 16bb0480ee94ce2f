"""The dashboard's aggregates kept in one row, and overdue tasks by index

Administrators' dashboard counts (instances per process and status, open instances per phase, starts
and completions per day) are computed by the worker every few seconds into ``dashboard_summaries``
(engine/summaries.py), so a page view reads one row instead of grouping every instance and task.
Overdue tasks are ready tasks by due date: ``ix_tasks_state_due`` makes that a range scan.

Revision ID: 1502
Revises: 1501
Create Date: 2026-12-07 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1502'
down_revision = '1501'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_summaries",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_tasks_state_due", "tasks", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_state_due", table_name="tasks")
    op.drop_table("dashboard_summaries")
