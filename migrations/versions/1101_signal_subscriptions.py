"""Signal subscriptions: what signal catches each running instance waits for (issue 11, signals)

Mirrors ``message_subscriptions``: one row per signal name an active instance waits for, rewritten on
every save, so ``POST /api/signals`` and signals thrown by instances find their receivers with one
indexed query.

Revision ID: 1101
Revises: 0008
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1101'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signal_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signal_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_subscriptions_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_signal_subscriptions_name', ['name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signal_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_signal_subscriptions_name')
        batch_op.drop_index(batch_op.f('ix_signal_subscriptions_instance_id'))
    op.drop_table('signal_subscriptions')
