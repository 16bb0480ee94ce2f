"""Users' page language

The language the pages speak to a person, chosen on the profile (en, de, es, nl, fr, it); none means the
browser's Accept-Language decides, then English.

Revision ID: 1702
Revises: 1601
Create Date: 2026-12-07 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1702'
down_revision = '1601'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
