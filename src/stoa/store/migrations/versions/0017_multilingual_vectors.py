"""Post vectors from the multilingual sentence encoder (meaning, across languages) instead of hashed
character n-grams: every stored vector is recomputed for the newest public posts.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import structlog
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BACKFILL = 100_000  # the newest public posts get a vector now; newer ones get theirs from the consumer
BATCH = 500
log = structlog.get_logger(__name__)


def upgrade() -> None:
    from stoa.feeds.similar import embed_many, pack

    table = sa.table("status_vectors", sa.column("status_id", sa.BigInteger()), sa.column("vector", sa.LargeBinary()))
    bind = op.get_bind()
    op.execute(table.delete())
    rows = bind.execute(sa.text(
        "SELECT id, text, spoiler_text FROM statuses WHERE visibility = 'public' AND reblog_of_id IS NULL "
        "AND deleted_at IS NULL ORDER BY id DESC LIMIT :n"), {"n": BACKFILL}).all()
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        vectors = embed_many([f"{row.spoiler_text}\n{row.text}" for row in batch])
        found = [{"status_id": row.id, "vector": pack(v)} for row, v in zip(batch, vectors, strict=True)
                 if v is not None]
        if found:
            op.bulk_insert(table, found)
        if start and start % 10_000 == 0:
            log.info("status_vectors_backfill", done=start, of=len(rows))


def downgrade() -> None:
    # The older code's hashed vectors are not recomputed; vectors of this encoder would mislead it.
    op.execute(sa.text("DELETE FROM status_vectors"))
