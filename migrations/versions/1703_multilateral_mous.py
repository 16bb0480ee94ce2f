"""Multilateral MoUs: roles whose tasks each name their own party; role map confirmations

``process_definitions.per_task_roles``: lane roles all of whose user tasks carry the ``partyVariable``
property (one task per party, e.g. each further signing partner and competent institution of a
multilateral MoU); a start need not bind them, domain code binds their parties later
(engine.instances.bind_party).

``role_map_confirmations``: each partner and competent institution of a partnership confirms the role
map (what lies within its jurisdiction, what beyond), signed; append-only evidence.

Revision ID: 1703
Revises: 1601
Create Date: 2026-12-07 12:25:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect


revision = '1703'
down_revision = '1601'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('per_task_roles', sa.JSON(), nullable=False, server_default='[]'))
    op.create_table(
        'role_map_confirmations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('role_map_id', sa.Integer(), sa.ForeignKey('role_maps.id'), nullable=False),
        sa.Column('organisation_id', sa.Integer(), sa.ForeignKey('organisations.id'), nullable=False),
        sa.Column('jurisdiction', sa.Text(), nullable=False),
        sa.Column('beyond', sa.Text(), nullable=True),
        sa.Column('signer_name', sa.String(200), nullable=True),
        sa.Column('signer_position', sa.String(200), nullable=True),
        sa.Column('signer_email', sa.String(254), nullable=True),
        sa.Column('signer_place', sa.String(200), nullable=True),
        sa.Column('signer_user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('signed_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('role_map_id', 'organisation_id'),
    )
    op.create_index('ix_role_map_confirmations_role_map_id', 'role_map_confirmations', ['role_map_id'])
    protect('role_map_confirmations')


def downgrade() -> None:
    unprotect('role_map_confirmations')
    op.drop_index('ix_role_map_confirmations_role_map_id', table_name='role_map_confirmations')
    op.drop_table('role_map_confirmations')
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('per_task_roles')
