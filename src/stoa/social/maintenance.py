"""Housekeeping that keeps stored state bounded: home timelines keep their newest entries only, and
uploads never attached to a post are removed after a while (``STOA_UNATTACHED_MEDIA_HOURS``). (For
You's tables are pruned by the feeds themselves: stoa.feeds.pruning.)

Fan-out adds one row per post per follower, forever, unless something trims. Like Mastodon (which
keeps 800 entries per home feed in Redis), Stoa keeps the newest ``depth`` entries per home
timeline. The trimmer sweeps accounts in small batches — a few hundred short indexed deletes per
tick, so the single SQLite writer is never held long — and starts over when it reaches the end.

Each tick is a periodic job (stoa.store.jobs), so with several workers one of them sweeps per
period; where the trimmer got to is stored, so whichever worker runs the next tick goes on from there.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select

from stoa.media.storage import Storage
from stoa.store.database import Database
from stoa.store.jobs import Job, JobKind, Periodic, Registry
from stoa.store.schema import accounts, consumer_cursors, home_feed, media_attachments

log = structlog.get_logger(__name__)
HOME_DEPTH = 800
SWEEP = "maintenance.sweep"  # the job kind, run once per SWEEP_SECONDS in each region
SWEEP_SECONDS = 5.0
TRIM_CURSOR = "maintenance:home_feed_trim"  # consumer_cursors row: the last account the trimmer reached


async def trim_home_feeds(db: Database, after_account_id: int, batch: int = 200,
                          depth: int = HOME_DEPTH) -> tuple[int, int]:
    """Trim the home timelines of the next ``batch`` accounts after ``after_account_id``.

    Returns (the last account id handled, or 0 when the sweep reached the end; rows deleted).
    """
    async with db.read() as conn:
        ids = [int(x) for x in (await conn.execute(
            select(accounts.c.id).where(accounts.c.id > after_account_id)
            .order_by(accounts.c.id).limit(batch))).scalars()]
    if not ids:
        return 0, 0
    deleted = 0
    async with db.write() as conn:
        for account_id in ids:
            oldest_kept = (select(home_feed.c.status_id).where(home_feed.c.account_id == account_id)
                           .order_by(home_feed.c.status_id.desc()).offset(depth - 1).limit(1).scalar_subquery())
            result = await conn.execute(delete(home_feed).where(home_feed.c.account_id == account_id,
                                                                home_feed.c.status_id < oldest_kept))
            deleted += result.rowcount or 0
    return ids[-1], deleted


async def remove_unattached_media(db: Database, storage: Storage, older_than: timedelta) -> int:
    """Delete uploads never attached to a post within ``older_than``, and their files unless shared."""
    cutoff = datetime.now(UTC) - older_than
    async with db.write() as conn:
        stale = (await conn.execute(select(media_attachments.c.id, media_attachments.c.file,
                                           media_attachments.c.preview, media_attachments.c.source)
                                    .where(media_attachments.c.status_id.is_(None),
                                           media_attachments.c.created_at < cutoff).limit(500))).all()
        if not stale:
            return 0
        await conn.execute(delete(media_attachments).where(media_attachments.c.id.in_([r.id for r in stale])))
        keys = {k for r in stale for k in (r.file, r.preview, r.source) if k}
        still_used = set()
        for column in (media_attachments.c.file, media_attachments.c.preview, media_attachments.c.source):
            still_used |= set((await conn.execute(select(column).where(column.in_(keys)))).scalars())
    for key in keys - still_used:  # content-addressed: an identical upload may share the file
        await asyncio.to_thread(storage.delete, key)
    return len(stale)


def register(registry: Registry, db: Database, storage: Storage, depth: int = HOME_DEPTH,
             unattached_media_hours: float = 24.0) -> None:
    """The sweep as a job kind of one region. A failed sweep is not kept: the next period sweeps again."""

    async def sweep(_job: Job) -> None:
        await sweep_once(db, storage, depth, timedelta(hours=unattached_media_hours))

    registry.register(JobKind(SWEEP, sweep, max_attempts=1, keep_dead=False, lease_seconds=120.0))


def schedule(interval_seconds: float = SWEEP_SECONDS) -> Periodic:
    return Periodic(SWEEP, SWEEP, timedelta(seconds=interval_seconds))


async def sweep_once(db: Database, storage: Storage, depth: int, unattached_after: timedelta,
                     batch: int = 200) -> None:
    """One tick of housekeeping: the next ``batch`` accounts' home timelines, then stale uploads."""
    async with db.read() as conn:
        cursor = (await conn.execute(select(consumer_cursors.c.position).where(
            consumer_cursors.c.name == TRIM_CURSOR))).scalar() or 0
    cursor, deleted = await trim_home_feeds(db, int(cursor), batch=batch, depth=depth)
    async with db.write() as conn:
        await conn.execute(db.upsert(consumer_cursors, ["name"], {
            "name": TRIM_CURSOR, "position": cursor, "updated_at": datetime.now(UTC)}))
    if deleted:
        log.info("home_feeds_trimmed", rows=deleted)
    removed = await remove_unattached_media(db, storage, unattached_after)
    if removed:
        log.info("unattached_media_removed", count=removed)
