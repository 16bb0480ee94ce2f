"""Retention: organisations' retention periods and the ledger of purged evidence

``retention_policies`` holds an organisation's own period (months) per record kind, replacing the
national default (ecvet/retention/data/national_defaults.json). ``evidence_purges`` is the append-only
ledger of evidence rows the retention purge deleted, with their hashes, so signed copies still verify.

The append-only tables keep refusing every UPDATE; their DELETE triggers (same names as
migrations/append_only.py and 0006 gave them) get a guard that lets a DELETE through only when the
ledger already holds a row for (table_name, row_id): evidence leaves only through the ledger. The guard
is added to the trigger as it stands (SQLite: its WHEN; PostgreSQL: its function), so 1802's erasure
guard survives in either order; the downgrade takes it out again.

Revision ID: 1805
Revises: 1804
Create Date: 2026-12-07 15:30:00
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime
from migrations.append_only import protect, unprotect

revision = '1805'
down_revision = '1804'
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
_LEDGER_TABLES = (*APPEND_ONLY, "personal_transcripts")


def _sqlite_guard(table: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM evidence_purges p WHERE p.table_name = '{table}' "
            f"AND p.row_id = OLD.id)")


def _pg_guard(table: str) -> str:
    return (f"IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM evidence_purges p WHERE p.table_name = '{table}' "
            f"AND p.row_id = OLD.id) THEN RETURN OLD; END IF; ")


def _sqlite_patched(sql: str, guard: str, add: bool) -> str | None:
    """The trigger's SQL with the guard added (or taken out); None when there is nothing to change."""
    if add and guard not in sql:
        if " WHEN " in sql:
            head, rest = sql.split(" WHEN ", 1)
            condition, body = rest.split(" BEGIN ", 1)
            return f"{head} WHEN {guard} AND ({condition}) BEGIN {body}"
        head, body = sql.split(" BEGIN ", 1)
        return f"{head} WHEN {guard} BEGIN {body}"
    if not add and guard in sql:
        if f" WHEN {guard} AND (" in sql:
            head, rest = sql.split(f" WHEN {guard} AND (", 1)
            condition, body = rest.split(") BEGIN ", 1)
            return f"{head} WHEN {condition} BEGIN {body}"
        return sql.replace(f" WHEN {guard}", "", 1)
    return None


def _pg_patched(src: str, guard: str, add: bool) -> str | None:
    if add and guard not in src:
        return src.replace("BEGIN ", "BEGIN " + guard, 1)
    if not add and guard in src:
        return src.replace(guard, "", 1)
    return None


def _through_ledger(add: bool) -> None:
    """Add (or take out) the ledger's guard in each table's DELETE trigger, as the trigger stands: other
    guards (migration 1802's erasure unlock) are kept, whichever migration ran first."""
    bind = op.get_bind()
    for table in _LEDGER_TABLES:
        if bind.dialect.name == "sqlite":
            name = f"{table}_no_delete"
            sql = str(bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                                   {"n": name}).scalar_one())
            patched = _sqlite_patched(sql, _sqlite_guard(table), add)
            if patched is not None:
                op.execute(f"DROP TRIGGER {name}")
                op.execute(patched)
        elif bind.dialect.name == "postgresql":
            functions = list(bind.execute(sa.text(
                "SELECT DISTINCT p.proname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = :t AND NOT t.tgisinternal"), {"t": table}))
            for name, src in functions:
                patched = _pg_patched(str(src), _pg_guard(table), add)
                if patched is not None:
                    op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                               f"AS $${patched}$$")


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
    _through_ledger(add=True)


def downgrade() -> None:
    _through_ledger(add=False)
    unprotect("evidence_purges")
    op.drop_table("evidence_purges")
    op.drop_index("ix_retention_policies_organisation_id", table_name="retention_policies")
    op.drop_table("retention_policies")
