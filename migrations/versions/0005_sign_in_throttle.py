"""Sign-in throttle: failed sign-ins per e-mail address and the lock-out that follows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 08:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_throttle',
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('email'),
    )


def downgrade() -> None:
    op.drop_table('sign_in_throttle')
