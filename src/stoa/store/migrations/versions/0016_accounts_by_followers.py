"""Accounts by follower count, for follow suggestions (``most_followed``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounts_followers_count", "accounts", ["followers_count"])


def downgrade() -> None:
    op.drop_index("ix_accounts_followers_count", table_name="accounts")
