"""Blocks across regions: the blocked person's home region holds a copy of the block, to enforce it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("blocks", sa.Column("held_for_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_blocks_held_for_id", "blocks", ["held_for_id"])


def downgrade() -> None:
    op.drop_index("ix_blocks_held_for_id", table_name="blocks")
    with op.batch_alter_table("blocks") as batch:
        batch.drop_column("held_for_id")
