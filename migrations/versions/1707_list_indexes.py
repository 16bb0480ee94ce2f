"""Indexes the instance list and the inbox's filter need at 100,000 instances and a million tasks

A filtered instance list (by process and status, or by status alone) ordered by start time is one
index range scan with ``created_at, id`` after the filter columns, instead of every instance of that
status gathered and sorted (engine/instances.py list_for). The inbox's filter choices ask, per
deployed process, whether a party ever had a task of it: an index probe on ``(organisation_id,
process_key)`` or ``(user_id, process_key)`` instead of a DISTINCT over all its tasks (engine/inbox.py).

Revision ID: 1707
Revises: 1706
Create Date: 2026-12-07 12:10:00
"""
from alembic import op


revision = '1707'
down_revision = '1706'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_instances_key_status", table_name="process_instances")
    op.create_index("ix_instances_key_status", "process_instances", ["process_key", "status", "created_at", "id"])
    op.create_index("ix_instances_status_created", "process_instances", ["status", "created_at", "id"])
    op.create_index("ix_tasks_org_process", "tasks", ["organisation_id", "process_key"])
    op.create_index("ix_tasks_user_process", "tasks", ["user_id", "process_key"])


def downgrade() -> None:
    op.drop_index("ix_tasks_user_process", table_name="tasks")
    op.drop_index("ix_tasks_org_process", table_name="tasks")
    op.drop_index("ix_instances_status_created", table_name="process_instances")
    op.drop_index("ix_instances_key_status", table_name="process_instances")
    op.create_index("ix_instances_key_status", "process_instances", ["process_key", "status"])
