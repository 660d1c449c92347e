"""Trending by region as well as language: each post's engagement by people homed in this store's region.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("trending_posts", sa.Column("regional_engagement", sa.Integer(), nullable=False,
                                              server_default="0"))
    op.create_index("ix_trending_posts_language_regional", "trending_posts",
                    ["language", "regional_engagement", "status_id"])
    bind = op.get_bind()
    region = bind.execute(sa.text("SELECT region FROM store_identity")).scalar()
    if region is not None:  # a new store has no posts yet; otherwise count what this region's people did
        from stoa.feeds.trending import regional_engagement
        from stoa.store.schema import trending_posts

        op.execute(trending_posts.update().values(
            regional_engagement=regional_engagement(region, trending_posts.c.status_id)))


def downgrade() -> None:
    op.drop_index("ix_trending_posts_language_regional", table_name="trending_posts")
    op.drop_column("trending_posts", "regional_engagement")
