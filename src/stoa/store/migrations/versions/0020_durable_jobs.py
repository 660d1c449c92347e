"""Durable jobs for every kind of background work: the jobs table and periodic schedules.

Media processing was leased on the attachment row itself; each attachment still processing becomes a
queued transcode job (its attempts carried over) and the attachment keeps only its state. The time of
the last scheduled retraining moves from its cursor row to the retraining's schedule.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

LIVE = sa.text("state IN ('queued', 'running')")
TRANSCODE = "media.transcode"  # stoa.media.jobs.TRANSCODE when this revision was written
RETRAIN = "recsys.retrain"  # stoa.feeds.ranking_training.RETRAIN_SCHEDULE likewise


def upgrade() -> None:
    jobs = op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"])
    op.create_index("ix_jobs_key_state", "jobs", ["key", "state"])
    op.create_index("ix_jobs_dedupe_key_live", "jobs", ["dedupe_key"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    schedules = op.create_table(
        "job_schedules",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_job_schedules"),
    )

    bind = op.get_bind()
    now = datetime.now(UTC)
    processing = bind.execute(sa.text(
        "SELECT id, attempts FROM media_attachments WHERE state = 'processing' ORDER BY id")).all()
    if processing:
        op.bulk_insert(jobs, [
            {"kind": TRANSCODE, "payload": {"media_id": int(row.id)}, "state": "queued", "key": None,
             "dedupe_key": f"media:{int(row.id)}", "attempts": int(row.attempts), "run_after": now,
             "created_at": now} for row in processing])
    retrained = bind.execute(sa.text("SELECT position FROM consumer_cursors WHERE name = 'recsys_retrain'")).first()
    if retrained is not None:
        op.bulk_insert(schedules, [{"name": RETRAIN, "last_run_at": datetime.fromtimestamp(int(retrained[0]), UTC)}])
        bind.execute(sa.text("DELETE FROM consumer_cursors WHERE name = 'recsys_retrain'"))
    with op.batch_alter_table("media_attachments") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("attempts")


def downgrade() -> None:
    with op.batch_alter_table("media_attachments") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    for job in bind.execute(sa.text("SELECT payload, attempts FROM jobs WHERE kind = :kind"),
                            {"kind": TRANSCODE}).all():
        payload = json.loads(job.payload) if isinstance(job.payload, str) else job.payload
        bind.execute(sa.text("UPDATE media_attachments SET attempts = :attempts WHERE id = :id"),
                     {"attempts": int(job.attempts), "id": int(payload["media_id"])})
    last = bind.execute(sa.text("SELECT last_run_at FROM job_schedules WHERE name = :name"), {"name": RETRAIN}).first()
    if last is not None:
        moment = last[0] if isinstance(last[0], datetime) else datetime.fromisoformat(str(last[0]))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        bind.execute(sa.text("INSERT INTO consumer_cursors (name, position, updated_at) VALUES "
                             "('recsys_retrain', :position, :now)"),
                     {"position": int(moment.timestamp()), "now": datetime.now(UTC)})
    op.drop_table("job_schedules")
    op.drop_index("ix_jobs_dedupe_key_live", table_name="jobs")
    op.drop_index("ix_jobs_key_state", table_name="jobs")
    op.drop_index("ix_jobs_state_run_after", table_name="jobs")
    op.drop_table("jobs")
