"""The transparency log: entries, complete-subtree hashes, signed tree heads (RFC 9162).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transparency_entries",
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("leaf_input", sa.LargeBinary(), nullable=False),
        sa.Column("subject_account_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_transparency_entries")),
    )
    op.create_index("ix_transparency_entries_subject_account_id", "transparency_entries", ["subject_account_id"])
    op.create_table(
        "transparency_nodes",
        sa.Column("node", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_transparency_nodes")),
    )
    op.create_table(
        "transparency_heads",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_transparency_heads")),
    )


def downgrade() -> None:
    op.drop_table("transparency_heads")
    op.drop_table("transparency_nodes")
    op.drop_index("ix_transparency_entries_subject_account_id", table_name="transparency_entries")
    op.drop_table("transparency_entries")
