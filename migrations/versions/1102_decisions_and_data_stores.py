"""Decision definitions (DMN decisions deployed alone or with processes, evaluated through the API) and
BPMN data stores backed by the database

Every DMN file of a deployment registers its decision as a version of its own key (the decision id),
a new version per distinct content, so ``POST /api/decisions/{key}/evaluate`` answers from the latest
(or a named) version and DMN-only bundles deploy. ``data_store_items`` holds the entries of the
``JSONDataStore`` and ``KKVDataStore`` data stores processes declare, per process key (engine.datastores).

Revision ID: 1102
Revises: 1101
Create Date: 2026-12-07 09:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1102'
down_revision = '1101'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decision_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('deployment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['content_sha256'], ['file_blobs.sha256'], ),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'version'),
    sa.UniqueConstraint('key', 'content_sha256')
    )
    with op.batch_alter_table('decision_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_definitions_key'), ['key'], unique=False)

    op.create_table('data_store_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=255), nullable=False),
    sa.Column('store', sa.String(length=255), nullable=False),
    sa.Column('top_key', sa.String(length=255), nullable=False),
    sa.Column('second_key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('process_key', 'store', 'top_key', 'second_key')
    )


def downgrade() -> None:
    op.drop_table('data_store_items')
    with op.batch_alter_table('decision_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_definitions_key'))
    op.drop_table('decision_definitions')
