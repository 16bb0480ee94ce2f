"""Signatures are the signed-in person's: the account behind each signature, the place, a signing profile

Every signature and approval now records the account that gave it (``signer_user_id``) and where it
was given (``signer_place``); assessment sheets get the same signer columns as the other signed
records. Users get a profile (``position``, ``place``) that signing forms are pre-filled from. Rows
signed before this revision keep what they recorded (append-only evidence): their new columns stay NULL.

The SQLite trigger that keeps an issued transcript immutable lists the columns it compares; it is
recreated with the new ones, so they are as immutable as the rest (the PostgreSQL trigger compares
whole rows and needs no change).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from migrations.append_only import protect


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Signed records that had a signer already: they gain the account and the place.
_SIGNED = ("mou_approvals", "la_signatures", "personal_transcripts", "validation_decisions", "recognition_decisions")
# (column, type) of the signer of an assessment sheet, besides signer_user_id.
_SHEET_SIGNER = (
    ("signer_name", sa.String(length=200)),
    ("signer_position", sa.String(length=200)),
    ("signer_email", sa.String(length=254)),
    ("signer_place", sa.String(length=200)),
)
_TRANSCRIPT_COLUMNS = (
    "id", "mobility_id", "learner_id", "sending_organisation_id", "hosting_organisation_id", "la_id",
    "la_version_id", "la_version_number", "la_hash", "content", "content_hash", "signer_name",
    "signer_position", "signer_email", "issued_by", "issued_at",
)
_TRANSCRIPT_SIGNER = ("signer_place", "signer_user_id")
_TRANSCRIPT_MESSAGE = (
    "personal_transcripts is immutable once issued (only the release for recognition may be set, once)"
)


def _fk_name(table: str) -> str:
    return f"fk_{table}_signer_user_id"


def _add_signer_user(table: str) -> None:
    """SQLite cannot add a constraint to an existing table but accepts an inline REFERENCES on a new
    nullable column (as in 0006); a batch copy would drop the append-only triggers."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN signer_user_id INTEGER REFERENCES users (id)")
    else:
        op.add_column(table, sa.Column("signer_user_id", sa.Integer(), nullable=True))
        op.create_foreign_key(_fk_name(table), table, "users", ["signer_user_id"], ["id"])


def _drop_signer_user(table: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # ALTER TABLE DROP COLUMN refuses columns with a REFERENCES clause on SQLite: copy the table,
        # which drops its triggers, then protect it again.
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.drop_column("signer_user_id")
        if table != "personal_transcripts":
            protect(table)
    else:
        op.drop_constraint(_fk_name(table), table, type_="foreignkey")
        op.drop_column(table, "signer_user_id")


def _sqlite_transcript_trigger(columns: tuple[str, ...]) -> None:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    op.execute("DROP TRIGGER IF EXISTS personal_transcripts_no_update")
    op.execute("DROP TRIGGER IF EXISTS personal_transcripts_no_delete")
    op.execute(
        "CREATE TRIGGER personal_transcripts_no_update BEFORE UPDATE ON personal_transcripts "
        f"WHEN OLD.ready_for_recognition_at IS NOT NULL OR {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{_TRANSCRIPT_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER personal_transcripts_no_delete BEFORE DELETE ON personal_transcripts "
        f"BEGIN SELECT RAISE(ABORT, '{_TRANSCRIPT_MESSAGE}'); END"
    )


def upgrade() -> None:
    op.add_column("users", sa.Column("position", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("place", sa.String(length=200), nullable=True))
    for table in _SIGNED:
        op.add_column(table, sa.Column("signer_place", sa.String(length=200), nullable=True))
        _add_signer_user(table)
    _add_signer_user("assessment_records")
    for column, type_ in _SHEET_SIGNER:
        op.add_column("assessment_records", sa.Column(column, type_, nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_transcript_trigger(_TRANSCRIPT_COLUMNS + _TRANSCRIPT_SIGNER)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The copies below must not meet the transcript's update trigger; it is recreated at the end.
        op.execute("DROP TRIGGER IF EXISTS personal_transcripts_no_update")
        op.execute("DROP TRIGGER IF EXISTS personal_transcripts_no_delete")
    for column, _type in reversed(_SHEET_SIGNER):
        op.drop_column("assessment_records", column)
    _drop_signer_user("assessment_records")
    for table in reversed(_SIGNED):
        _drop_signer_user(table)
        op.drop_column(table, "signer_place")
    op.drop_column("users", "place")
    op.drop_column("users", "position")
    if sqlite:
        _sqlite_transcript_trigger(_TRANSCRIPT_COLUMNS)
