"""Transparency entries carry their action as a column (find the configuration last logged).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transparency_entries") as batch:
        batch.add_column(sa.Column("action", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE transparency_entries SET action = json_extract(CAST(leaf_input AS TEXT), '$.action')")
    else:
        op.execute("UPDATE transparency_entries SET action = convert_from(leaf_input, 'UTF8')::json->>'action'")
    op.create_index("ix_transparency_entries_action", "transparency_entries", ["action", "position"])


def downgrade() -> None:
    op.drop_index("ix_transparency_entries_action", table_name="transparency_entries")
    with op.batch_alter_table("transparency_entries") as batch:
        batch.drop_column("action")
