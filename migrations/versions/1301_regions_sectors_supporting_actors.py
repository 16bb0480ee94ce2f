"""National models by region and sector: organisations get a region, the registry of competent
institutions a region and a sector, and supporting actors (National Agency, National Europass Centre)

``organisations.region`` is an ISO 3166-2 subdivision (ES-VC) or a NUTS code (ES52), NULL when unknown.
``organisation_competences`` gains ``region`` and ``sector`` (NULL: the whole country / every sector);
one organisation may hold one function in several scopes, and several organisations one function in
one scope. On SQLite the table is rebuilt (it cannot drop the old unnamed unique constraint); rows keep
their ids and get NULL region and sector, i.e. the scope they had.

Revision ID: 1301
Revises: 1152
Create Date: 2026-12-07 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '1301'
down_revision = '1152'
branch_labels = None
depends_on = None

_OLD_FUNCTIONS = ('assessment', 'validation', 'recognition', 'award_of_credit', 'mou_approval', 'la_approval')
_FUNCTIONS = _OLD_FUNCTIONS + ('national_agency', 'national_europass_centre')
_COPIED = "id, organisation_id, country, function, notes, created_at"


def _check(functions: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{f}'" for f in functions)
    return sa.CheckConstraint(f"function IN ({listed})", name='ck_organisation_competences_function')


def _competences(name: str, functions: tuple[str, ...], *, scoped: bool) -> None:
    columns = [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('function', sa.String(length=32), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    ]
    if scoped:
        columns += [sa.Column('region', sa.String(length=8), nullable=True),
                    sa.Column('sector', sa.String(length=32), nullable=True)]
        unique = sa.UniqueConstraint('organisation_id', 'country', 'function', 'region', 'sector',
                                     name='uq_organisation_competences_scope')
    else:
        unique = sa.UniqueConstraint('organisation_id', 'country', 'function')
    op.create_table(name, *columns, _check(functions),
                    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id'), unique)


_PG_OLD_UNIQUE = "organisation_competences_organisation_id_country_function_key"


def _rebuild_sqlite(functions: tuple[str, ...], *, scoped: bool) -> None:
    """SQLite cannot drop an unnamed constraint: copy the rows into a new table."""
    op.drop_index('ix_competences_country_function', table_name='organisation_competences')
    op.rename_table('organisation_competences', 'organisation_competences_old')
    _competences('organisation_competences', functions, scoped=scoped)
    allowed = ", ".join(f"'{f}'" for f in functions)
    where = f" WHERE function IN ({allowed})" + ("" if scoped else " AND region IS NULL AND sector IS NULL")
    op.execute(f"INSERT INTO organisation_competences ({_COPIED}) SELECT {_COPIED} "
               f"FROM organisation_competences_old{where}")
    op.drop_table('organisation_competences_old')
    op.create_index('ix_competences_country_function', 'organisation_competences', ['country', 'function'])


def _upgrade_postgresql() -> None:
    op.add_column('organisation_competences', sa.Column('region', sa.String(length=8), nullable=True))
    op.add_column('organisation_competences', sa.Column('sector', sa.String(length=32), nullable=True))
    op.drop_constraint(_PG_OLD_UNIQUE, 'organisation_competences', type_='unique')
    op.create_unique_constraint('uq_organisation_competences_scope', 'organisation_competences',
                                ['organisation_id', 'country', 'function', 'region', 'sector'])
    op.drop_constraint('ck_organisation_competences_function', 'organisation_competences', type_='check')
    op.create_check_constraint('ck_organisation_competences_function', 'organisation_competences',
                               str(_check(_FUNCTIONS).sqltext))


def _downgrade_postgresql() -> None:
    allowed = ", ".join(f"'{f}'" for f in _OLD_FUNCTIONS)
    op.execute("DELETE FROM organisation_competences WHERE region IS NOT NULL OR sector IS NOT NULL "
               f"OR function NOT IN ({allowed})")
    op.drop_constraint('ck_organisation_competences_function', 'organisation_competences', type_='check')
    op.create_check_constraint('ck_organisation_competences_function', 'organisation_competences',
                               str(_check(_OLD_FUNCTIONS).sqltext))
    op.drop_constraint('uq_organisation_competences_scope', 'organisation_competences', type_='unique')
    op.create_unique_constraint(_PG_OLD_UNIQUE, 'organisation_competences', ['organisation_id', 'country', 'function'])
    op.drop_column('organisation_competences', 'sector')
    op.drop_column('organisation_competences', 'region')


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=8), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _rebuild_sqlite(_FUNCTIONS, scoped=True)


def downgrade() -> None:
    # Scoped and supporting rows have no place in the old table: only whole-country competences remain.
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _rebuild_sqlite(_OLD_FUNCTIONS, scoped=False)
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('region')
