"""Intermediaries sign Learning Agreements; group mobilities with their accompanying persons; several
hosting periods per mobility

``la_signatures.party`` may be ``intermediary`` (the intermediary organisation of a mobility signs its
Learning Agreement) or ``hosting_period_2``/``_3`` (the hosts of later periods sign it too). ``mobility_groups`` holds a group's programme (the one Learning Agreement text its
learners each sign) and accompanying persons; ``mobilities.group_id`` names a mobility's group;
``mobility_periods`` the hosts of a mobility with several, each with its dates and units. On
SQLite the check constraint changes by copying la_signatures, which drops its append-only triggers: they
are added again.

Revision ID: 1704
Revises: 1703
Create Date: 2026-12-07 12:10:00
"""
import sqlalchemy as sa
from alembic import op

from migrations.append_only import protect

revision = '1704'
down_revision = '1703'
branch_labels = None
depends_on = None

_OLD_PARTIES = ('learner', 'guardian', 'sending', 'hosting', 'competent_institution')
_PARTIES = _OLD_PARTIES + ('intermediary', 'hosting_period_2', 'hosting_period_3')


def _party_check(parties: tuple[str, ...]) -> str:
    return "party IN ({})".format(", ".join(f"'{p}'" for p in parties))


def _set_parties(parties: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('la_signatures', recreate="always") as batch_op:
            batch_op.drop_constraint('ck_la_signatures_party', type_='check')
            batch_op.create_check_constraint('ck_la_signatures_party', _party_check(parties))
        protect('la_signatures')
    else:
        op.drop_constraint('ck_la_signatures_party', 'la_signatures', type_='check')
        op.create_check_constraint('ck_la_signatures_party', 'la_signatures', _party_check(parties))


def upgrade() -> None:
    _set_parties(_PARTIES)
    op.create_table(
        'mobility_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mou_id', sa.Integer(), nullable=False),
        sa.Column('sending_organisation_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('programme', sa.Text(), nullable=False),
        sa.Column('accompanying_persons', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mou_id'], ['mous.id']),
        sa.ForeignKeyConstraint(['sending_organisation_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mobility_groups_mou_id', 'mobility_groups', ['mou_id'])
    op.create_index('ix_mobility_groups_sending_organisation_id', 'mobility_groups', ['sending_organisation_id'])
    # SQLite accepts an inline REFERENCES on a new nullable column (as in 0008), with no table copy.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE mobilities ADD COLUMN group_id INTEGER REFERENCES mobility_groups (id)")
    else:
        op.add_column('mobilities', sa.Column('group_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_mobilities_group_id', 'mobilities', 'mobility_groups', ['group_id'], ['id'])
    op.create_index('ix_mobilities_group_id', 'mobilities', ['group_id'])
    op.create_table(
        'mobility_periods',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mobility_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('hosting_organisation_id', sa.Integer(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('unit_codes', sa.JSON(), nullable=False),
        sa.CheckConstraint('end_date >= start_date', name='ck_mobility_periods_dates'),
        sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id']),
        sa.ForeignKeyConstraint(['hosting_organisation_id'], ['organisations.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('mobility_id', 'position'),
    )
    op.create_index('ix_mobility_periods_mobility_id', 'mobility_periods', ['mobility_id'])
    op.create_index('ix_mobility_periods_hosting_organisation_id', 'mobility_periods', ['hosting_organisation_id'])


def downgrade() -> None:
    op.drop_index('ix_mobility_periods_hosting_organisation_id', table_name='mobility_periods')
    op.drop_index('ix_mobility_periods_mobility_id', table_name='mobility_periods')
    op.drop_table('mobility_periods')
    op.drop_index('ix_mobilities_group_id', table_name='mobilities')
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('mobilities', recreate="always") as batch_op:
            batch_op.drop_column('group_id')
    else:
        op.drop_constraint('fk_mobilities_group_id', 'mobilities', type_='foreignkey')
        op.drop_column('mobilities', 'group_id')
    op.drop_index('ix_mobility_groups_sending_organisation_id', table_name='mobility_groups')
    op.drop_index('ix_mobility_groups_mou_id', table_name='mobility_groups')
    op.drop_table('mobility_groups')
    # Intermediaries' signatures have no place in the old table; they are evidence, so a downgrade
    # with such signatures fails on the constraint rather than deleting them.
    _set_parties(_OLD_PARTIES)
