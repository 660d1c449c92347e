"""Trending maintained incrementally: the engaged-with public posts of the last two days, by language.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


REBUILD_SQL = """
INSERT INTO trending_posts (status_id, language, engagement)
SELECT id, language, favourites_count + 2 * reblogs_count + replies_count FROM statuses
WHERE id > :window AND visibility = 'public' AND reblog_of_id IS NULL AND deleted_at IS NULL
  AND language IS NOT NULL AND favourites_count + 2 * reblogs_count + replies_count > 0
"""


def upgrade() -> None:
    from stoa.feeds.trending import window_start

    op.create_table(
        "trending_posts",
        sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("engagement", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_trending_posts")),
    )
    op.create_index("ix_trending_posts_language_engagement", "trending_posts",
                    ["language", "engagement", "status_id"])
    op.execute(sa.text(REBUILD_SQL).bindparams(window=window_start()))


def downgrade() -> None:
    op.drop_index("ix_trending_posts_language_engagement", table_name="trending_posts")
    op.drop_table("trending_posts")
