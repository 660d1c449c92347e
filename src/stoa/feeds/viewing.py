"""What a person watched: each post on their screen, for how long, or skipped at once. Private data,
read by the very next For You request (``signals``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite

from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.feeds.events import ViewRecorded
from stoa.social.visibility import get_visible
from stoa.store.events import emit
from stoa.store.schema import views

MAX_WATCH_MS = 3_600_000

async def record_view(ctx: Context, viewer_id: int, status_id: int, watched_ms: int = 0,
                      skipped: bool = False) -> None:
    """A post was on the viewer's screen (for ``watched_ms``; ``skipped``: scrolled past at once).

    Read by the very next For You request: seen posts leave the feed, long watches count as
    interest in the author and hashtags, skips rank the author lower.
    """
    if not 0 <= watched_ms <= MAX_WATCH_MS:
        raise ValidationFailed(f"watched_ms must be between 0 and {MAX_WATCH_MS}")
    now = datetime.now(UTC)
    async with ctx.db.write() as conn:
        row = await get_visible(conn, viewer_id, status_id)  # unknown, deleted or hidden: 404
        target = int(row.reblog_of_id or row.id)
        insert = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(views).values(
            account_id=viewer_id, status_id=target, views=1, watched_ms=watched_ms, skipped=skipped,
            first_seen_at=now, last_seen_at=now)
        await conn.execute(insert.on_conflict_do_update(index_elements=["account_id", "status_id"], set_={
            "views": views.c.views + 1, "watched_ms": views.c.watched_ms + insert.excluded.watched_ms,
            "skipped": insert.excluded.skipped, "last_seen_at": insert.excluded.last_seen_at}))
        # One small event per recorded view, in the same transaction; consumers skip it by its type
        # without decoding it, and it never leaves the region.
        await emit(conn, ViewRecorded(account_id=viewer_id, status_id=target, watched_ms=watched_ms, skipped=skipped))
