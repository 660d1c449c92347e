"""Housekeeping that keeps derived state bounded: home timelines keep their newest entries only.

Fan-out adds one row per post per follower, forever, unless something trims. Like Mastodon (which
keeps 800 entries per home feed in Redis), Stoa keeps the newest ``depth`` entries per home
timeline. The trimmer sweeps accounts in small batches — a few hundred short indexed deletes per
tick, so the single SQLite writer is never held long — and starts over when it reaches the end.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import delete, select

from stoa.store.database import Database
from stoa.store.schema import accounts, home_feed

log = structlog.get_logger(__name__)
HOME_DEPTH = 800


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


async def run_maintenance(db: Database, interval_seconds: float = 5.0, depth: int = HOME_DEPTH) -> None:
    """Sweep home timelines forever, one batch per tick."""
    cursor = 0
    while True:
        try:
            cursor, deleted = await trim_home_feeds(db, cursor, depth=depth)
            if deleted:
                log.info("home_feeds_trimmed", rows=deleted)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("home_feed_trim_failed")
        await asyncio.sleep(interval_seconds)
