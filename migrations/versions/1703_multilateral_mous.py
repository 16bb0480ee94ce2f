"""Multilateral MoUs: roles whose tasks each name their own party; role map confirmations

``process_definitions.per_task_roles``: lane roles all of whose user tasks carry the ``partyVariable``
property (one task per party, e.g. each further signing partner and competent institution of a
multilateral MoU); a start need not bind them, domain code binds their parties later
(engine.instances.bind_party).

``role_map_confirmations``: each partner and competent institution of a partnership confirms the role
map (what lies within its jurisdiction, what beyond), signed; append-only evidence.

``role_map_entries.function`` may also be ``learning_outcomes`` and ``unit_design`` (who defines the
learning outcomes, who designs the units).

Revision ID: 1703
Revises: 1702
Create Date: 2026-12-07 12:25:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect


revision = '1703'
down_revision = '1702'
branch_labels = None
depends_on = None

_OLD_FUNCTIONS = ('assessment', 'validation', 'recognition', 'award_of_credit', 'mou_approval', 'la_approval')
_FUNCTIONS = _OLD_FUNCTIONS + ('learning_outcomes', 'unit_design')
_ENTRY_COLUMNS = "id, role_map_id, function, side, country, organisation_id, organisation_name, notes"


def _function_check(functions: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{f}'" for f in functions)
    return sa.CheckConstraint(f"function IN ({listed})", name='ck_role_map_entries_function')


def _entry_functions(functions: tuple[str, ...]) -> None:
    """Let role map entries hold these functions (rows of functions no longer allowed are dropped)."""
    allowed = ", ".join(f"'{f}'" for f in functions)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DELETE FROM role_map_entries WHERE function NOT IN ({allowed})")
        op.drop_constraint('ck_role_map_entries_function', 'role_map_entries', type_='check')
        op.create_check_constraint('ck_role_map_entries_function', 'role_map_entries',
                                   str(_function_check(functions).sqltext))
        return
    # SQLite cannot change a CHECK constraint: copy the rows into a new table.
    op.drop_index('ix_role_map_entries_role_map_id', table_name='role_map_entries')
    op.rename_table('role_map_entries', 'role_map_entries_old')
    op.create_table(
        'role_map_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role_map_id', sa.Integer(), nullable=False),
        sa.Column('function', sa.String(length=32), nullable=False),
        sa.Column('side', sa.String(length=8), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('organisation_name', sa.String(length=300), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        _function_check(functions),
        sa.CheckConstraint("side IN ('home', 'host')", name='ck_role_map_entries_side'),
        sa.ForeignKeyConstraint(['role_map_id'], ['role_maps.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('role_map_id', 'function', 'side'),
    )
    op.execute(f"INSERT INTO role_map_entries ({_ENTRY_COLUMNS}) SELECT {_ENTRY_COLUMNS} "
               f"FROM role_map_entries_old WHERE function IN ({allowed})")
    op.drop_table('role_map_entries_old')
    op.create_index('ix_role_map_entries_role_map_id', 'role_map_entries', ['role_map_id'])


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
    _entry_functions(_FUNCTIONS)


def downgrade() -> None:
    _entry_functions(_OLD_FUNCTIONS)
    unprotect('role_map_confirmations')
    op.drop_index('ix_role_map_confirmations_role_map_id', table_name='role_map_confirmations')
    op.drop_table('role_map_confirmations')
    with op.batch_alter_table('process_definitions', schema=None) as batch_op:
        batch_op.drop_column('per_task_roles')
