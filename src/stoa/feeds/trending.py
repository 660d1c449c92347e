"""Trending: the public posts of the last two days with the most engagement, per language.

For You's trending source reads the top of the viewer's languages from ``trending_posts``, a table
this module's consumer keeps current from the event spine: every like, boost, reply, deletion and
count replicated from another region refreshes the one post it touched, so a like moves a post in
trending before the next page is served, and reading the top of a language is an index range scan
(``language, engagement``) instead of ranking every recent post. Posts leave the table when they
are deleted, stop being public, or fall out of the window (``prune``, run by the maintenance loop).

Engagement is the same published count as the feed's feature: favourites + 2 * boosts + replies.
Posts nobody engaged with are not in the table: the exploration source brings fresh posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text, union_all

from stoa.store.database import Connection, Database
from stoa.store.events import Consumer, Event
from stoa.store.ids import id_for_time
from stoa.store.schema import statuses, trending_posts, users

WINDOW = timedelta(hours=48)
ENGAGEMENT = statuses.c.favourites_count + 2 * statuses.c.reblogs_count + statuses.c.replies_count

REBUILD_SQL = """
INSERT INTO trending_posts (status_id, language, engagement)
SELECT id, language, favourites_count + 2 * reblogs_count + replies_count FROM statuses
WHERE id > :window AND visibility = 'public' AND reblog_of_id IS NULL AND deleted_at IS NULL
  AND language IS NOT NULL AND favourites_count + 2 * reblogs_count + replies_count > 0
"""


async def languages_of(conn: Connection, account_id: int) -> set[str]:
    """A person's own languages: their locale and default posting language (empty for a remote account)."""
    user = (await conn.execute(select(users.c.locale, users.c.default_language)
                               .where(users.c.account_id == account_id))).first()
    return {lang for lang in (user.locale, user.default_language) if lang} if user else set()


def window_start(now: datetime | None = None) -> int:
    """The smallest post id inside the trending window (ids are time-ordered)."""
    return id_for_time((now or datetime.now(UTC)) - WINDOW)


async def top(conn: Connection, languages: set[str], limit: int) -> list[int]:
    """Ids of the most engaged-with posts in these languages, best first (one index range per language)."""
    if not languages:
        return []
    window = window_start()
    per_language = [
        select(trending_posts.c.status_id, trending_posts.c.engagement)
        .where(trending_posts.c.language == language, trending_posts.c.status_id > window)
        .order_by(trending_posts.c.engagement.desc(), trending_posts.c.status_id.desc()).limit(limit)
        .subquery().select()
        for language in sorted(languages)
    ]
    query = per_language[0] if len(per_language) == 1 else union_all(*per_language)
    rows = list((await conn.execute(query)).all())
    rows.sort(key=lambda r: (-int(r.engagement), -int(r.status_id)))
    return [int(r.status_id) for r in rows[:limit]]


async def refresh(conn: Connection, db: Database, status_ids: set[int]) -> None:
    """Bring these posts' rows in ``trending_posts`` in line with the posts themselves."""
    if not status_ids:
        return
    window = window_start()
    rows = (await conn.execute(select(statuses.c.id, statuses.c.language, statuses.c.visibility,
                                      statuses.c.reblog_of_id, statuses.c.deleted_at,
                                      ENGAGEMENT.label("engagement"))
                               .where(statuses.c.id.in_(status_ids)))).all()
    keep = {int(r.id): r for r in rows
            if r.id > window and r.visibility == "public" and r.reblog_of_id is None and r.deleted_at is None
            and r.language and r.engagement > 0}
    gone = status_ids - set(keep)
    if gone:
        await conn.execute(delete(trending_posts).where(trending_posts.c.status_id.in_(gone)))
    for status_id, row in keep.items():
        await conn.execute(db.upsert(trending_posts, ["status_id"], {
            "status_id": status_id, "language": row.language, "engagement": int(row.engagement)}))


def touched(event: Event) -> set[int]:
    """The posts whose engagement or eligibility an event may have changed."""
    p = event.payload
    ids = {int(p["status_id"])} if "status_id" in p else set()
    for parent in ("reblog_of_id", "in_reply_to_id"):  # a boost or a reply counts for the post it answers
        if p.get(parent) is not None:
            ids.add(int(p[parent]))
    return ids


class TrendingKeeper:
    """The consumer that keeps ``trending_posts`` current."""

    name = "trending"

    def __init__(self, db: Database) -> None:
        self.db = db

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, types={
            "status.created", "status.updated", "status.deleted", "status.counted", "favourite.created",
            "favourite.deleted"})

    async def handle(self, conn: Connection, batch: Sequence[Event]) -> None:
        ids: set[int] = set()
        for event in batch:
            ids |= touched(event)
        await refresh(conn, self.db, ids)


async def prune(db: Database) -> int:
    """Drop rows that fell out of the window."""
    async with db.write() as conn:
        result = await conn.execute(delete(trending_posts).where(trending_posts.c.status_id <= window_start()))
        return result.rowcount or 0


async def rebuild(conn: Connection) -> None:
    """Recompute the table from the posts (after a bulk load that bypassed the event spine)."""
    await conn.execute(delete(trending_posts))
    await conn.execute(text(REBUILD_SQL), {"window": window_start()})

