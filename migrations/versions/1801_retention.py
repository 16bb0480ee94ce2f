"""Retention: organisations' retention periods and the ledger of purged evidence

``retention_policies`` holds an organisation's own period (months) per record kind, replacing the
national default (ecvet/retention/data/national_defaults.json). ``evidence_purges`` is the append-only
ledger of evidence rows the retention purge deleted, with their hashes, so signed copies still verify.

The append-only tables keep refusing every UPDATE; their DELETE triggers (same names as
migrations/append_only.py and 0006 gave them) are replaced by ones that let a DELETE through only when
the ledger already holds a row for (table_name, row_id): evidence leaves only through the ledger.
The downgrade restores the former triggers.

Revision ID: 1801
Revises: 1708
Create Date: 2026-12-07 15:30:00
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime
from migrations.append_only import protect, unprotect

revision = '1801'
down_revision = '1708'
branch_labels = None
depends_on = None

#: Every append-only table (migrations 0001-1706) except personal_transcripts, whose triggers are its own.
APPEND_ONLY = (
    "audit_events", "task_comments", "mou_versions", "mou_approvals", "la_versions", "la_signatures",
    "mobility_status_changes", "assessment_records", "assessment_acknowledgements", "validation_decisions",
    "recognition_decisions", "credit_awards", "practical_implications", "partner_profiles", "evaluations",
    "role_map_confirmations", "evidence_files", "assessment_signatures", "qualification_awards",
    "partnership_reviews", "europass_mobilities", "europass_signatures",
)
_TRANSCRIPT_MESSAGE = (
    "personal_transcripts is immutable once issued (only the release for recognition may be set, once)"
)
_TRANSCRIPT_RELEASED = "'ready_for_recognition_at' - 'ready_marked_by'"


def _in_ledger(table: str, row: str) -> str:
    return (f"EXISTS (SELECT 1 FROM evidence_purges p WHERE p.table_name = '{table}' "
            f"AND p.row_id = {row}.id)")


def _transcript_function(allow_ledger: bool) -> str:
    ledger = (f"IF TG_OP = 'DELETE' AND {_in_ledger('personal_transcripts', 'OLD')} THEN RETURN OLD; END IF; "
              if allow_ledger else "")
    return (
        "CREATE OR REPLACE FUNCTION personal_transcripts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{ledger}IF TG_OP = 'DELETE' OR OLD.ready_for_recognition_at IS NOT NULL "
        f"OR (to_jsonb(NEW) - {_TRANSCRIPT_RELEASED}) IS DISTINCT FROM (to_jsonb(OLD) - {_TRANSCRIPT_RELEASED}) THEN "
        f"RAISE EXCEPTION '{_TRANSCRIPT_MESSAGE}'; END IF; RETURN NEW; END $$"
    )


def _sqlite_delete_trigger(table: str, message: str, *, allow_ledger: bool) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    when = f"WHEN NOT {_in_ledger(table, 'OLD')} " if allow_ledger else ""
    op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {when}"
               f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def _through_ledger(allow_ledger: bool) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            _sqlite_delete_trigger(table, f"{table} is append-only", allow_ledger=allow_ledger)
        _sqlite_delete_trigger("personal_transcripts", _TRANSCRIPT_MESSAGE, allow_ledger=allow_ledger)
    elif dialect == "postgresql":
        for table in APPEND_ONLY:
            ledger = (f"IF TG_OP = 'DELETE' AND {_in_ledger(table, 'OLD')} THEN RETURN OLD; END IF; "
                      if allow_ledger else "")
            op.execute(f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {ledger}RAISE EXCEPTION '{table} is append-only'; END $$")
        op.execute(_transcript_function(allow_ledger))


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("record_kind", sa.String(40), nullable=False),
        sa.Column("keep_months", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organisation_id", "record_kind"),
    )
    op.create_index("ix_retention_policies_organisation_id", "retention_policies", ["organisation_id"])
    op.create_table(
        "evidence_purges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sa.String(40), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("purged_at", UTCDateTime(), nullable=False),
        sa.Column("purge_run", sa.String(36), nullable=False),
    )
    op.create_index("ix_evidence_purges_row", "evidence_purges", ["table_name", "row_id"])
    op.create_index("ix_evidence_purges_content_hash", "evidence_purges", ["content_hash"])
    protect("evidence_purges")
    _through_ledger(True)


def downgrade() -> None:
    _through_ledger(False)
    unprotect("evidence_purges")
    op.drop_table("evidence_purges")
    op.drop_index("ix_retention_policies_organisation_id", table_name="retention_policies")
    op.drop_table("retention_policies")
