"""Index status_tags by status, for loading a page of posts with their tags.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_status_tags_status_id", "status_tags", ["status_id"])


def downgrade() -> None:
    op.drop_index("ix_status_tags_status_id", table_name="status_tags")
