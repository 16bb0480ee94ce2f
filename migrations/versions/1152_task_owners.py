"""Task owners: the people a script gave a lane to (spiff-arena ``lane_owners``)

A user task whose lane a script assigned to named users is theirs instead of the bound party's.

Revision ID: 1152
Revises: 1151
Create Date: 2026-12-07 09:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1152'
down_revision = '1151'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_owners',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('task_id', 'user_id'),
    )
    with op.batch_alter_table('task_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_owners_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_owners_user_id'))
    op.drop_table('task_owners')
