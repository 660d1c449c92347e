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

BACKFILL = 100_000  # the newest public posts get a vector now; newer ones get theirs from the consumer


def upgrade() -> None:
    from stoa.feeds.similar import embed, pack

    table = op.create_table(
        "status_vectors",
        sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_status_vectors")),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, text, spoiler_text FROM statuses WHERE visibility = 'public' AND reblog_of_id IS NULL "
        "AND deleted_at IS NULL ORDER BY id DESC LIMIT :n"), {"n": BACKFILL}).all()
    batch: list[dict[str, object]] = []
    for row in rows:
        vector = embed(f"{row.spoiler_text}\n{row.text}")
        if vector is not None:
            batch.append({"status_id": row.id, "vector": pack(vector)})
        if len(batch) >= 1000:
            op.bulk_insert(table, batch)
            batch = []
    if batch:
        op.bulk_insert(table, batch)


def downgrade() -> None:
    op.drop_table("status_vectors")
