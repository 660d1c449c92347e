"""Copies held for a recipient in another region: direct posts and follow requests across regions.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("statuses", "follow_requests"):
        op.add_column(table, sa.Column("held_for_id", sa.BigInteger(), nullable=True))
        op.create_index(f"ix_{table}_held_for_id", table, ["held_for_id"])


def downgrade() -> None:
    for table in ("statuses", "follow_requests"):
        op.drop_index(f"ix_{table}_held_for_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("held_for_id")
