"""Media processed by durable jobs (video, animated GIF): state, source, lease; files looked up for serving.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media_attachments") as batch:
        batch.alter_column("file", existing_type=sa.String(length=255), nullable=True)
        batch.alter_column("preview", existing_type=sa.String(length=255), nullable=True)
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="ready"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("source_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_media_attachments_state", "media_attachments", ["state", "id"])
    op.create_index("ix_media_attachments_file", "media_attachments", ["file"])
    op.create_index("ix_media_attachments_preview", "media_attachments", ["preview"])
    op.create_index("ix_media_attachments_source_sha256", "media_attachments", ["source_sha256"])


def downgrade() -> None:
    for name in ("source_sha256", "preview", "file", "state"):
        op.drop_index(f"ix_media_attachments_{name}", table_name="media_attachments")
    with op.batch_alter_table("media_attachments") as batch:
        for column in ("lease_until", "attempts", "source_sha256", "source", "error", "state"):
            batch.drop_column(column)
        batch.alter_column("preview", existing_type=sa.String(length=255), nullable=False)
        batch.alter_column("file", existing_type=sa.String(length=255), nullable=False)
