"""Home timelines indexed by post (deleting a post no longer scans every timeline).

The (account, author) index goes: unfollow cleanup reads one timeline through the primary key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_home_feed_status_id", "home_feed", ["status_id"])
    op.drop_index("ix_home_feed_author", table_name="home_feed")


def downgrade() -> None:
    op.create_index("ix_home_feed_author", "home_feed", ["account_id", "author_id"])
    op.drop_index("ix_home_feed_status_id", table_name="home_feed")
