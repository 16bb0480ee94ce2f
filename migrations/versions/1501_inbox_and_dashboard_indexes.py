"""Indexes the inbox and the dashboard need at 100,000 instances

The task list of an organisation (or a bound user) is read one party at a time, ready tasks oldest
first with the task id as tie-break (engine/tasks.py): the party indexes gain ``id`` so a page is one
index range scan, never a sort of every ready task of a large organisation. Instances completed per
day (the dashboard's series) range over ``completed_at``, which gets its own index like ``created_at``.

Revision ID: 1501
Revises: 1401
Create Date: 2026-12-07 09:00:00
"""
from alembic import op


revision = '1501'
down_revision = '1401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_org_state", table_name="tasks")
    op.drop_index("ix_tasks_user_state", table_name="tasks")
    op.create_index("ix_tasks_org_state", "tasks", ["organisation_id", "state", "created_at", "id"])
    op.create_index("ix_tasks_user_state", "tasks", ["user_id", "state", "created_at", "id"])
    op.create_index("ix_instances_completed", "process_instances", ["completed_at"])


def downgrade() -> None:
    op.drop_index("ix_instances_completed", table_name="process_instances")
    op.drop_index("ix_tasks_user_state", table_name="tasks")
    op.drop_index("ix_tasks_org_state", table_name="tasks")
    op.create_index("ix_tasks_org_state", "tasks", ["organisation_id", "state", "created_at"])
    op.create_index("ix_tasks_user_state", "tasks", ["user_id", "state", "created_at"])
