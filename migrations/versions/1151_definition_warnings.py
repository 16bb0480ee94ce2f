"""Process definitions keep the warnings of their deployment

What deployed but the process owner should read: schema slips SpiffWorkflow tolerates (spiff-arena
models), Camunda expressions translated into Python, Camunda attributes that are not honoured. Existing
versions have none.

Revision ID: 1151
Revises: 1102
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1151'
down_revision = '1102'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('warnings')
