"""Housekeeping that keeps stored state bounded: home timelines keep their newest entries only,
uploads never attached to a post are removed after a while (``STOA_UNATTACHED_MEDIA_HOURS``), and
posts that aged out of the trending window leave ``trending_posts`` (and out of the affinity window,
``status_vectors``).

Fan-out adds one row per post per follower, forever, unless something trims. Like Mastodon (which
keeps 800 entries per home feed in Redis), Stoa keeps the newest ``depth`` entries per home
timeline. The trimmer sweeps accounts in small batches — a few hundred short indexed deletes per
tick, so the single SQLite writer is never held long — and starts over when it reaches the end.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, select

from stoa.feeds import similar, trending
from stoa.media.storage import Storage
from stoa.store.database import Database
from stoa.store.schema import accounts, home_feed, media_attachments

log = structlog.get_logger(__name__)
HOME_DEPTH = 800
VECTORS_KEPT = timedelta(days=60)  # For You's affinity window: a like older than that seeds nothing


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


async def run_maintenance(db: Database, storage: Storage, interval_seconds: float = 5.0, depth: int = HOME_DEPTH,
                          unattached_media_hours: float = 24.0) -> None:
    """Sweep home timelines and stale uploads forever, one batch per tick."""
    cursor = 0
    while True:
        try:
            cursor, deleted = await trim_home_feeds(db, cursor, depth=depth)
            if deleted:
                log.info("home_feeds_trimmed", rows=deleted)
            removed = await remove_unattached_media(db, storage, timedelta(hours=unattached_media_hours))
            if removed:
                log.info("unattached_media_removed", count=removed)
            aged = await trending.prune(db)
            if aged:
                log.debug("trending_pruned", rows=aged)
            aged = await similar.prune(db, VECTORS_KEPT)
            if aged:
                log.debug("status_vectors_pruned", rows=aged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("maintenance_failed")
        await asyncio.sleep(interval_seconds)
