"""Text vectors of public posts for For You's content-similarity source.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None



def upgrade() -> None:
    # The backfill (the newest public posts' vectors) is 0017's, with the multilingual encoder.
    op.create_table(
        "status_vectors",
        sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_status_vectors")),
    )


def downgrade() -> None:
    op.drop_table("status_vectors")
