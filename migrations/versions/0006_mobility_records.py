"""Mobility records: assessment sheets, personal transcripts, validation, recognition, credit awards

Adds to ``mobilities`` what the Mobility process needs (its process instance, the competent
institutions and intermediary taking part, the national model snapshot, cancel reason, who created it)
and the evidence tables of the mobility's life. Every evidence table is append-only (triggers refuse
UPDATE and DELETE, as in 0003/0004); ``personal_transcripts`` allows exactly one update: marking the
issued transcript ready for recognition, once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect, unprotect

from engine.models import UTCDateTime


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_APPEND_ONLY = (
    "mobility_status_changes",
    "assessment_records",
    "assessment_acknowledgements",
    "validation_decisions",
    "recognition_decisions",
    "credit_awards",
    "practical_implications",
)
_TRANSCRIPT_RELEASE = ("ready_for_recognition_at", "ready_marked_by")
_TRANSCRIPT_COLUMNS = (
    "id", "mobility_id", "learner_id", "sending_organisation_id", "hosting_organisation_id", "la_id",
    "la_version_id", "la_version_number", "la_hash", "content", "content_hash", "signer_name",
    "signer_position", "signer_email", "issued_by", "issued_at",
)
# (column, type, referenced table) added to mobilities
_MOBILITY_COLUMNS = (
    ("process_instance_id", sa.String(length=36), "process_instances"),
    ("competent_institution_home_id", sa.Integer(), "organisations"),
    ("competent_institution_host_id", sa.Integer(), "organisations"),
    ("intermediary_organisation_id", sa.Integer(), "organisations"),
    ("national_model", sa.JSON(), None),
    ("cancel_reason", sa.Text(), None),
    ("created_by", sa.Integer(), "users"),
    ("updated_at", UTCDateTime(), None),
)


def _fk_name(column: str) -> str:
    return f"fk_mobilities_{column}"


def _add_mobility_columns() -> None:
    """SQLite cannot add a constraint to an existing table, but accepts an inline REFERENCES on a new
    nullable column; a batch copy of ``mobilities`` would fail once Learning Agreements point at it."""
    bind = op.get_bind()
    for column, type_, target in _MOBILITY_COLUMNS:
        if bind.dialect.name == "sqlite":
            ddl = type_.compile(dialect=bind.dialect)
            references = f" REFERENCES {target} (id)" if target else ""
            op.execute(f"ALTER TABLE mobilities ADD COLUMN {column} {ddl}{references}")
        else:
            op.add_column("mobilities", sa.Column(column, type_, nullable=True))
            if target:
                op.create_foreign_key(_fk_name(column), "mobilities", target, [column], ["id"])
    op.create_index("ix_mobilities_process_instance_id", "mobilities", ["process_instance_id"], unique=False)


def _drop_mobility_columns() -> None:
    op.drop_index("ix_mobilities_process_instance_id", table_name="mobilities")
    bind = op.get_bind()
    for column, _type, target in reversed(_MOBILITY_COLUMNS):
        if bind.dialect.name == "sqlite":
            # ALTER TABLE DROP COLUMN refuses columns with a REFERENCES clause on SQLite.
            with op.batch_alter_table("mobilities") as batch_op:
                batch_op.drop_column(column)
        else:
            if target:
                op.drop_constraint(_fk_name(column), "mobilities", type_="foreignkey")
            op.drop_column("mobilities", column)


def _transcript_triggers() -> None:
    """Issued transcripts never change; ready_for_recognition_at (and who set it) may go from NULL to a
    value once. Everything else, a second release, or a DELETE is refused."""
    bind = op.get_bind()
    message = "personal_transcripts is immutable once issued (only the release for recognition may be set, once)"
    if bind.dialect.name == "sqlite":
        # SQLite compares JSON as text: the stored text of an unchanged row is identical.
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _TRANSCRIPT_COLUMNS)
        op.execute(
            "CREATE TRIGGER personal_transcripts_no_update BEFORE UPDATE ON personal_transcripts "
            f"WHEN OLD.ready_for_recognition_at IS NOT NULL OR {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        op.execute(
            "CREATE TRIGGER personal_transcripts_no_delete BEFORE DELETE ON personal_transcripts "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    elif bind.dialect.name == "postgresql":
        released = " - ".join(f"'{c}'" for c in _TRANSCRIPT_RELEASE)
        op.execute(
            "CREATE FUNCTION personal_transcripts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' OR OLD.ready_for_recognition_at IS NOT NULL "
            f"OR (to_jsonb(NEW) - {released}) IS DISTINCT FROM (to_jsonb(OLD) - {released}) THEN "
            f"RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER personal_transcripts_immutable BEFORE UPDATE OR DELETE ON personal_transcripts "
            "FOR EACH ROW EXECUTE FUNCTION personal_transcripts_immutable()"
        )


def _drop_triggers() -> None:
    bind = op.get_bind()
    for table in _APPEND_ONLY:
        unprotect(table)
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS personal_transcripts_immutable ON personal_transcripts")
        op.execute("DROP FUNCTION IF EXISTS personal_transcripts_immutable()")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS personal_transcripts_no_update")
        op.execute("DROP TRIGGER IF EXISTS personal_transcripts_no_delete")


def upgrade() -> None:
    _add_mobility_columns()

    op.create_table('mobility_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=True),
    sa.Column('new_status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_at', UTCDateTime(), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("new_status IN ('nomination', 'live', 'recognized', 'cancelled')", name='ck_mobility_status_changes_new'),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_mobility_status_changes_mobility_id', 'mobility_status_changes', ['mobility_id'], unique=False)

    op.create_table('assessment_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('la_id', sa.Integer(), nullable=False),
    sa.Column('la_version_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=50), nullable=False),
    sa.Column('unit_title', sa.String(length=300), nullable=True),
    sa.Column('learning_outcome', sa.Text(), nullable=True),
    sa.Column('criteria', sa.Text(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('assessor_name', sa.String(length=200), nullable=False),
    sa.Column('assessor_organisation', sa.String(length=300), nullable=False),
    sa.Column('assessor_role', sa.String(length=200), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('grade', sa.String(length=50), nullable=True),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("method IN ('observation', 'practical_task', 'portfolio', 'interview', 'test')", name='ck_assessment_records_method'),
    sa.CheckConstraint("result IN ('achieved', 'not_achieved')", name='ck_assessment_records_result'),
    sa.ForeignKeyConstraint(['la_id'], ['learning_agreements.id'], ),
    sa.ForeignKeyConstraint(['la_version_id'], ['la_versions.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['assessment_records.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_assessment_records_mobility_unit', 'assessment_records', ['mobility_id', 'unit_code'], unique=False)

    op.create_table('assessment_acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('agrees', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('acknowledged_at', UTCDateTime(), nullable=False),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment_records.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id')
    )
    op.create_index('ix_assessment_acknowledgements_mobility_id', 'assessment_acknowledgements', ['mobility_id'], unique=False)

    op.create_table('personal_transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('sending_organisation_id', sa.Integer(), nullable=False),
    sa.Column('hosting_organisation_id', sa.Integer(), nullable=False),
    sa.Column('la_id', sa.Integer(), nullable=False),
    sa.Column('la_version_id', sa.Integer(), nullable=False),
    sa.Column('la_version_number', sa.Integer(), nullable=False),
    sa.Column('la_hash', sa.String(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_position', sa.String(length=200), nullable=False),
    sa.Column('signer_email', sa.String(length=254), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('issued_at', UTCDateTime(), nullable=False),
    sa.Column('ready_for_recognition_at', UTCDateTime(), nullable=True),
    sa.Column('ready_marked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['hosting_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['la_id'], ['learning_agreements.id'], ),
    sa.ForeignKeyConstraint(['la_version_id'], ['la_versions.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['ready_marked_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['sending_organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobility_id')
    )
    op.create_index('ix_personal_transcripts_learner_id', 'personal_transcripts', ['learner_id'], unique=False)

    op.create_table('validation_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('transcript_hash', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=50), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('merged_with_recognition', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_position', sa.String(length=200), nullable=False),
    sa.Column('signer_email', sa.String(length=254), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IN ('validated', 'partly_validated', 'not_validated')", name='ck_validation_decisions_outcome'),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['transcript_id'], ['personal_transcripts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobility_id', 'unit_code')
    )

    op.create_table('recognition_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('transcript_hash', sa.String(length=64), nullable=False),
    sa.Column('recognised_by', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('merged_with_validation', sa.Boolean(), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('national_model', sa.String(length=100), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signer_position', sa.String(length=200), nullable=False),
    sa.Column('signer_email', sa.String(length=254), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("recognised_by IN ('sending', 'competent_institution')", name='ck_recognition_decisions_by'),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['transcript_id'], ['personal_transcripts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobility_id')
    )

    op.create_table('credit_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('recognition_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=50), nullable=False),
    sa.Column('unit_title', sa.String(length=300), nullable=True),
    sa.Column('qualification_title', sa.String(length=300), nullable=False),
    sa.Column('eqf_level', sa.Integer(), nullable=True),
    sa.Column('ecvet_points', sa.Float(), nullable=False),
    sa.Column('awarded_by_organisation_id', sa.Integer(), nullable=False),
    sa.Column('awarded_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('ecvet_points >= 0', name='ck_credit_awards_points'),
    sa.ForeignKeyConstraint(['awarded_by_organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['recognition_id'], ['recognition_decisions.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobility_id', 'unit_code')
    )
    op.create_index('ix_credit_awards_learner_id', 'credit_awards', ['learner_id'], unique=False)

    op.create_table('practical_implications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('unit_code', sa.String(length=50), nullable=True),
    sa.Column('ecvet_points', sa.Float(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('exempted_activity', 'no_retake', 'extra_credits', 'other')", name='ck_practical_implications_kind'),
    sa.CheckConstraint('ecvet_points IS NULL OR ecvet_points >= 0', name='ck_practical_implications_points'),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], ),
    sa.ForeignKeyConstraint(['mobility_id'], ['mobilities.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_practical_implications_learner_id', 'practical_implications', ['learner_id'], unique=False)
    op.create_index('ix_practical_implications_mobility_id', 'practical_implications', ['mobility_id'], unique=False)

    for table in _APPEND_ONLY:
        protect(table)
    _transcript_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index('ix_practical_implications_mobility_id', table_name='practical_implications')
    op.drop_index('ix_practical_implications_learner_id', table_name='practical_implications')
    op.drop_table('practical_implications')
    op.drop_index('ix_credit_awards_learner_id', table_name='credit_awards')
    op.drop_table('credit_awards')
    op.drop_table('recognition_decisions')
    op.drop_table('validation_decisions')
    op.drop_index('ix_personal_transcripts_learner_id', table_name='personal_transcripts')
    op.drop_table('personal_transcripts')
    op.drop_index('ix_assessment_acknowledgements_mobility_id', table_name='assessment_acknowledgements')
    op.drop_table('assessment_acknowledgements')
    op.drop_index('ix_assessment_records_mobility_unit', table_name='assessment_records')
    op.drop_table('assessment_records')
    op.drop_index('ix_mobility_status_changes_mobility_id', table_name='mobility_status_changes')
    op.drop_table('mobility_status_changes')
    _drop_mobility_columns()
