"""Partnerships (profiles, attachments, role maps), reviews (evaluations, action plans), MoU table pin

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Evidence: a saved profile and a submitted evaluation sheet are never changed, only superseded.
_APPEND_ONLY = ("partner_profiles", "evaluations")


def upgrade() -> None:
    with op.batch_alter_table('mous', schema=None) as batch_op:
        batch_op.add_column(sa.Column('national_models_sha256', sa.String(length=64), nullable=True))

    op.create_table('partnerships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('sending_organisation_id', sa.Integer(), nullable=False),
    sa.Column('hosting_organisation_id', sa.Integer(), nullable=False),
    sa.Column('mou_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['sending_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['hosting_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['mou_id'], ['mous.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id'),
    sa.UniqueConstraint('mou_id'),
    )
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnerships_sending_organisation_id'), ['sending_organisation_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_partnerships_hosting_organisation_id'), ['hosting_organisation_id'],
                              unique=False)

    op.create_table('attachment_blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sha256'),
    )
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('size >= 0', name='ck_attachments_size'),
    sa.ForeignKeyConstraint(['sha256'], ['attachment_blobs.sha256'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('attachment_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('attachment_id', 'record_type', 'record_id'),
    )
    with op.batch_alter_table('attachment_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_references_attachment_id'), ['attachment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_references_partnership_id'), ['partnership_id'],
                              unique=False)

    op.create_table('partner_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("side IN ('sending', 'hosting')", name='ck_partner_profiles_side'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('partner_profiles', schema=None) as batch_op:
        batch_op.create_index('ix_partner_profiles_partnership_org', ['partnership_id', 'organisation_id', 'id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_partner_profiles_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('role_maps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('role_maps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_maps_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('role_map_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role_map_id', sa.Integer(), nullable=False),
    sa.Column('function', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('organisation_name', sa.String(length=300), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.CheckConstraint("function IN ('assessment', 'validation', 'recognition', 'award_of_credit', 'mou_approval', "
                       "'la_approval')", name='ck_role_map_entries_function'),
    sa.CheckConstraint("side IN ('home', 'host')", name='ck_role_map_entries_side'),
    sa.ForeignKeyConstraint(['role_map_id'], ['role_maps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('role_map_id', 'function', 'side'),
    )
    with op.batch_alter_table('role_map_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_map_entries_role_map_id'), ['role_map_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('mou_id', sa.Integer(), nullable=True),
    sa.Column('sending_organisation_id', sa.Integer(), nullable=False),
    sa.Column('hosting_organisation_id', sa.Integer(), nullable=False),
    sa.Column('learner_user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('mou_version_reviewed', sa.Integer(), nullable=True),
    sa.Column('mou_version_revised', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('evaluating', 'planned', 'revision_requested', 'completed')",
                       name='ck_reviews_status'),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['mou_id'], ['mous.id'], ),
    sa.ForeignKeyConstraint(['sending_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['hosting_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['learner_user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id'),
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        for column in ('mobility_id', 'mou_id', 'sending_organisation_id', 'hosting_organisation_id',
                       'learner_user_id'):
            batch_op.create_index(batch_op.f(f'ix_reviews_{column}'), [column], unique=False)

    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('outcomes_appropriate', sa.String(length=8), nullable=False),
    sa.Column('outcomes_comment', sa.Text(), nullable=True),
    sa.Column('evidence_sufficient', sa.String(length=8), nullable=False),
    sa.Column('evidence_comment', sa.Text(), nullable=True),
    sa.Column('strengths', sa.Text(), nullable=True),
    sa.Column('changes_proposed', sa.Text(), nullable=True),
    sa.Column('unit_remarks', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("party IN ('sending', 'hosting', 'learner')", name='ck_evaluations_party'),
    sa.CheckConstraint("outcomes_appropriate IN ('yes', 'partly', 'no')", name='ck_evaluations_outcomes'),
    sa.CheckConstraint("evidence_sufficient IN ('yes', 'partly', 'no')", name='ck_evaluations_evidence'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('review_id', 'party'),
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_review_id'), ['review_id'], unique=False)

    op.create_table('action_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('revise_mou', sa.Boolean(), nullable=False),
    sa.Column('mou_changes', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('review_id'),
    )
    op.create_table('action_plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('owner_organisation_id', sa.Integer(), nullable=True),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_note', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done', 'dropped')", name='ck_action_plan_items_status'),
    sa.CheckConstraint('(owner_organisation_id IS NULL) <> (owner_user_id IS NULL)',
                       name='ck_action_plan_items_owner'),
    sa.ForeignKeyConstraint(['action_plan_id'], ['action_plans.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('action_plan_id', 'position'),
    )
    with op.batch_alter_table('action_plan_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_plan_items_action_plan_id'), ['action_plan_id'], unique=False)

    for table in _APPEND_ONLY:
        protect(table)


def downgrade() -> None:
    for table in _APPEND_ONLY:
        unprotect(table)
    for table in ('action_plan_items', 'action_plans', 'evaluations', 'reviews', 'role_map_entries', 'role_maps',
                  'partner_profiles', 'attachment_references', 'attachments', 'attachment_blobs', 'partnerships'):
        op.drop_table(table)
    with op.batch_alter_table('mous', schema=None) as batch_op:
        batch_op.drop_column('national_models_sha256')
