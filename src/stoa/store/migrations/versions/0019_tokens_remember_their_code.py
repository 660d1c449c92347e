"""Access tokens remember the authorization code they were issued for, so a replayed code revokes them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens issued before this revision came from no recorded code: NULL.
    op.add_column("oauth_tokens", sa.Column("code_hash", sa.String(64), nullable=True))
    op.create_index("ix_oauth_tokens_code_hash", "oauth_tokens", ["code_hash"])


def downgrade() -> None:
    op.drop_index("ix_oauth_tokens_code_hash", table_name="oauth_tokens")
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.drop_column("code_hash")
