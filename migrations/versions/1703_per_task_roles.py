"""Roles whose tasks each name their own party

``process_definitions.per_task_roles``: lane roles all of whose user tasks carry the ``partyVariable``
property (one task per party, e.g. each signing partner and competent institution of a multilateral
MoU); a start need not bind them, domain code binds their parties later (engine.instances.bind_party).

Revision ID: 1703
Revises: 1601
Create Date: 2026-12-07 12:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1703'
down_revision = '1601'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('per_task_roles', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('per_task_roles')
