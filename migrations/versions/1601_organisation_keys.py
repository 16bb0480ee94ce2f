"""Organisations' credential signing keys

One Ed25519 key pair per organisation that issues European Learning Model credentials
(ecvet/mobility/seal.py): the public key in the clear (published), the private key encrypted with a key
derived from ECVET_SECRET_KEY. A key is never deleted: what it signed must keep verifying.

Revision ID: 1601
Revises: 1502
Create Date: 2026-12-07 10:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1601'
down_revision = '1502'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_organisation_keys_organisation_id", "organisation_keys", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_organisation_keys_organisation_id", table_name="organisation_keys")
    op.drop_table("organisation_keys")
