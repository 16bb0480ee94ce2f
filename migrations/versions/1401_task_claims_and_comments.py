"""Working in an organisation: who claimed a task (or was assigned it), and comments on tasks

``tasks.claimed_by``/``claimed_at`` say which member of the bound organisation works on a task;
``task_comments`` holds the notes colleagues leave on it, append-only like the audit trail.

Revision ID: 1401
Revises: 1201
Create Date: 2026-12-07 09:30:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect


revision = '1401'
down_revision = '1201'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # An inline REFERENCES on a new nullable column, as in 0006 and 0008 (no table copy).
        op.execute("ALTER TABLE tasks ADD COLUMN claimed_by INTEGER REFERENCES users (id)")
    else:
        op.add_column("tasks", sa.Column("claimed_by", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_tasks_claimed_by", "tasks", "users", ["claimed_by"], ["id"])
    op.add_column("tasks", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "task_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_comments_task", "task_comments", ["task_id", "id"])
    protect("task_comments")


def downgrade() -> None:
    unprotect("task_comments")
    op.drop_index("ix_task_comments_task", table_name="task_comments")
    op.drop_table("task_comments")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tasks", recreate="always") as batch_op:
            batch_op.drop_column("claimed_at")
            batch_op.drop_column("claimed_by")
    else:
        op.drop_constraint("fk_tasks_claimed_by", "tasks", type_="foreignkey")
        op.drop_column("tasks", "claimed_at")
        op.drop_column("tasks", "claimed_by")
