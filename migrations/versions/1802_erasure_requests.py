"""Erasure requests, and erasure through the append-only triggers of the tables about learners

``erasure_requests`` records a learner's request to erase their personal data and its answer (what was
erased, what was kept, why and until when). ``append_only_unlocks`` is a marker: while the erasing
transaction holds a row in it, the append-only triggers of the tables about learners let its UPDATE
and DELETE through; the row is deleted before the commit, so no other transaction ever sees it. The
triggers keep their names and messages (migrations/append_only.py); only a guard is added, and the
downgrade takes it out again. The audit trail's triggers are not touched.

Revision ID: 1802
Revises: 1708
Create Date: 2026-12-07 15:30:00
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = '1802'
down_revision = '1708'
branch_labels = None
depends_on = None

#: The append-only tables an erasure (or a retention purge calling it) pseudonymises or deletes from.
UNLOCKABLE = (
    "task_comments", "mobility_status_changes", "la_versions", "la_signatures", "assessment_records",
    "evidence_files", "assessment_signatures", "assessment_acknowledgements", "personal_transcripts",
    "validation_decisions", "recognition_decisions", "credit_awards", "practical_implications", "evaluations",
    "qualification_awards", "europass_mobilities", "europass_signatures",
)
_SQLITE_GUARD = "NOT EXISTS (SELECT 1 FROM append_only_unlocks)"
_PG_GUARD = ("IF EXISTS (SELECT 1 FROM append_only_unlocks) THEN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
             "RETURN NEW; END IF; ")


def _sqlite_triggers(bind: sa.engine.Connection) -> list[tuple[str, str]]:
    names = ", ".join(f"'{t}'" for t in UNLOCKABLE)
    return [(str(name), str(sql)) for name, sql in bind.execute(sa.text(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})"))]


def _pg_functions(bind: sa.engine.Connection) -> list[tuple[str, str]]:
    names = ", ".join(f"'{t}'" for t in UNLOCKABLE)
    return [(str(name), str(src)) for name, src in bind.execute(sa.text(
        "SELECT DISTINCT p.proname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        f"JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname IN ({names}) AND NOT t.tgisinternal"))]


def _guard(add: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name, sql in _sqlite_triggers(bind):
            if add and _SQLITE_GUARD not in sql:
                if " WHEN " in sql:
                    head, rest = sql.split(" WHEN ", 1)
                    condition, body = rest.split(" BEGIN ", 1)
                    new = f"{head} WHEN {_SQLITE_GUARD} AND ({condition}) BEGIN {body}"
                else:
                    head, body = sql.split(" BEGIN ", 1)
                    new = f"{head} WHEN {_SQLITE_GUARD} BEGIN {body}"
            elif not add and _SQLITE_GUARD in sql:
                new = sql.replace(f" WHEN {_SQLITE_GUARD} AND (", " WHEN ", 1).replace(") BEGIN ", " BEGIN ", 1) \
                    if f"{_SQLITE_GUARD} AND (" in sql else sql.replace(f" WHEN {_SQLITE_GUARD}", "", 1)
            else:
                continue
            op.execute(f"DROP TRIGGER {name}")
            op.execute(new)
    elif bind.dialect.name == "postgresql":
        for name, src in _pg_functions(bind):
            if add and _PG_GUARD not in src:
                new = src.replace("BEGIN ", "BEGIN " + _PG_GUARD, 1)
            elif not add and _PG_GUARD in src:
                new = src.replace(_PG_GUARD, "", 1)
            else:
                continue
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${new}$$")


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("learner_id", sa.Integer(), sa.ForeignKey("learners.id"), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handled_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("refusal_reason", sa.String(64), nullable=True),
        sa.Column("refusal_note", sa.Text(), nullable=True),
        sa.Column("kept", sa.JSON(), nullable=False),
        sa.Column("erased", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.CheckConstraint("status IN ('received', 'carried_out', 'refused')", name="ck_erasure_requests_status"),
    )
    op.create_index("ix_erasure_requests_learner_id", "erasure_requests", ["learner_id"])
    op.create_table(
        "append_only_unlocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    _guard(True)


def downgrade() -> None:
    _guard(False)
    op.drop_table("append_only_unlocks")
    op.drop_index("ix_erasure_requests_learner_id", table_name="erasure_requests")
    op.drop_table("erasure_requests")
