"""Trending: the public posts of the last two days with the most engagement, per language — overall,
and among the people of this region.

For You's trending source reads the top of the viewer's languages from ``trending_posts``, a table
this module's consumer keeps current from the event spine: every like, boost, reply, deletion and
count replicated from another region refreshes the one post it touched, so a like moves a post in
trending before the next page is served, and reading the top of a language is an index range scan
(``language, engagement``) instead of ranking every recent post. Posts leave the table when they
are deleted, stop being public, or fall out of the window (``prune``, run by the maintenance loop).

Engagement is the same published count as the feed's feature: favourites + 2 * boosts + replies.
*Regional* engagement counts the same, made only by people homed in this store's region: their
likes are in this store and nowhere else (private data stays home), their boosts and replies are
posts by accounts of this region. So each region has its own "popular here", computed from what
it already holds, and no region learns another's likes. Posts nobody engaged with are not in the
table: the exploration source brings fresh posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import ColumnElement, delete, func, literal, select, union_all

from stoa.core.context import Context
from stoa.social.events import (
    FavouriteCreated,
    FavouriteDeleted,
    StatusCounted,
    StatusCreated,
    StatusDeleted,
    StatusUpdated,
)
from stoa.social.timelines import hidden_accounts
from stoa.social.views import StatusView, ordered
from stoa.store.database import Connection, Database
from stoa.store.events import Consumer, Entry, Event
from stoa.store.ids import id_for_time
from stoa.store.schema import accounts, favourites, statuses, store_identity, trending_posts, users

WINDOW = timedelta(hours=48)
ENGAGEMENT = statuses.c.favourites_count + 2 * statuses.c.reblogs_count + statuses.c.replies_count

ORDERS = {"engagement": trending_posts.c.engagement, "regional": trending_posts.c.regional_engagement}


def regional_engagement(region: str, post: ColumnElement[int]) -> ColumnElement[int]:
    """Favourites + 2 * boosts + replies of ``post`` by people homed in ``region`` (a scalar subquery)."""
    answer = statuses.alias("answer")

    def made_here(*where: ColumnElement[bool]) -> ColumnElement[int]:  # a direct reply is private: not counted
        return select(func.count()).select_from(answer.join(accounts, accounts.c.id == answer.c.account_id)).where(
            accounts.c.region == region, answer.c.deleted_at.is_(None), answer.c.visibility != "direct",
            *where).scalar_subquery()

    likes = select(func.count()).select_from(favourites.join(accounts, accounts.c.id == favourites.c.account_id)) \
        .where(favourites.c.status_id == post, accounts.c.region == region).scalar_subquery()
    boosts = made_here(answer.c.reblog_of_id == post)
    replies = made_here(answer.c.in_reply_to_id == post)
    return likes + 2 * boosts + replies


async def languages_of(conn: Connection, account_id: int) -> set[str]:
    """A person's own languages: their locale and default posting language (empty for a remote account)."""
    user = (await conn.execute(select(users.c.locale, users.c.default_language)
                               .where(users.c.account_id == account_id))).first()
    return {lang for lang in (user.locale, user.default_language) if lang} if user else set()


def window_start(now: datetime | None = None) -> int:
    """The smallest post id inside the trending window (ids are time-ordered)."""
    return id_for_time((now or datetime.now(UTC)) - WINDOW)


async def top(conn: Connection, languages: set[str], limit: int) -> list[int]:
    """Ids of the most engaged-with posts in these languages, best first."""
    return (await tops(conn, languages, limit, ("engagement",)))["engagement"]


async def tops(conn: Connection, languages: set[str], limit: int,
               orders: Sequence[str] = ("engagement", "regional")) -> dict[str, list[int]]:
    """For each of ``orders`` (``ORDERS``), the ids of the best posts in these languages, best first.
    One statement: an index range per language and order."""
    if not languages:
        return {order: [] for order in orders}
    window = window_start()
    parts = [
        select(literal(order).label("by"), trending_posts.c.status_id, ORDERS[order].label("score"))
        .where(trending_posts.c.language == language, trending_posts.c.status_id > window, ORDERS[order] > 0)
        .order_by(ORDERS[order].desc(), trending_posts.c.status_id.desc()).limit(limit)
        .subquery().select()
        for order in orders for language in sorted(languages)
    ]
    ranked: dict[str, list[tuple[int, int]]] = {order: [] for order in orders}
    for by, status_id, score in await conn.execute(parts[0] if len(parts) == 1 else union_all(*parts)):
        ranked[by].append((-int(score), -int(status_id)))
    return {order: [-negative_id for _, negative_id in sorted(best)[:limit]] for order, best in ranked.items()}


async def refresh(conn: Connection, db: Database, region: str, status_ids: set[int]) -> None:
    """Bring these posts' rows in ``trending_posts`` in line with the posts themselves."""
    if not status_ids:
        return
    window = window_start()
    rows = (await conn.execute(select(statuses.c.id, statuses.c.language, statuses.c.visibility,
                                      statuses.c.reblog_of_id, statuses.c.deleted_at,
                                      ENGAGEMENT.label("engagement"),
                                      regional_engagement(region, statuses.c.id).label("regional"))
                               .where(statuses.c.id.in_(status_ids)))).all()
    keep = {int(r.id): r for r in rows
            if r.id > window and r.visibility == "public" and r.reblog_of_id is None and r.deleted_at is None
            and r.language and (r.engagement > 0 or r.regional > 0)}
    gone = status_ids - set(keep)
    if gone:
        await conn.execute(delete(trending_posts).where(trending_posts.c.status_id.in_(gone)))
    for status_id, row in keep.items():
        await conn.execute(db.upsert(trending_posts, ["status_id"], {
            "status_id": status_id, "language": row.language, "engagement": int(row.engagement),
            "regional_engagement": int(row.regional)}))


def touched(event: Event | None) -> set[int]:
    """The posts whose engagement or eligibility an event may have changed."""
    match event:
        case StatusCreated() | StatusDeleted():  # a boost or a reply counts for the post it answers
            return {event.status_id} | {parent for parent in (event.reblog_of_id, event.in_reply_to_id)
                                        if parent is not None}
        case StatusUpdated() | StatusCounted() | FavouriteCreated() | FavouriteDeleted():
            return {event.status_id}
    return set()


class TrendingKeeper:
    """The consumer that keeps ``trending_posts`` current."""

    name = "trending"
    events: ClassVar[tuple[type[Event], ...]] = (StatusCreated, StatusUpdated, StatusDeleted, StatusCounted,
                                                 FavouriteCreated, FavouriteDeleted)

    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, events=self.events)

    async def handle(self, conn: Connection, batch: Sequence[Entry]) -> None:
        ids: set[int] = set()
        for entry in batch:
            ids |= touched(entry.event)
        await refresh(conn, self.db, self.region, ids)


async def prune(db: Database) -> int:
    """Drop rows that fell out of the window."""
    async with db.write() as conn:
        result = await conn.execute(delete(trending_posts).where(trending_posts.c.status_id <= window_start()))
        return result.rowcount or 0


async def rebuild(conn: Connection) -> None:
    """Recompute the table from the posts (after a bulk load that bypassed the event spine)."""
    region = (await conn.execute(select(store_identity.c.region))).scalar_one()
    await conn.execute(delete(trending_posts))
    engagement = ENGAGEMENT.label("engagement")
    recent = select(statuses.c.id, statuses.c.language, engagement).where(
        statuses.c.id > window_start(), statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None),
        statuses.c.deleted_at.is_(None), statuses.c.language.is_not(None)).subquery()
    scored = select(recent.c.id, recent.c.language, recent.c.engagement,
                    regional_engagement(region, recent.c.id).label("regional")).subquery()
    await conn.execute(trending_posts.insert().from_select(
        ["status_id", "language", "engagement", "regional_engagement"],
        select(scored.c.id, scored.c.language, scored.c.engagement, scored.c.regional)
        .where((scored.c.engagement > 0) | (scored.c.regional > 0))))


async def trending_statuses(ctx: Context, viewer_id: int | None, fallback_languages: set[str], *,
                            offset: int, limit: int, depth: int) -> tuple[list[StatusView], bool]:
    """A page of trending posts as the viewer sees them, in their languages (an anonymous reader's, or a
    person's without any, come from ``fallback_languages``); and whether the top ``depth`` goes on."""
    async with ctx.db.read() as conn:
        languages = (await languages_of(conn, viewer_id) if viewer_id is not None else set()) or fallback_languages
        ids = (await top(conn, languages, depth))[offset:offset + limit]
        hidden = await hidden_accounts(conn, viewer_id)
        views = [v for v in await ordered(conn, viewer_id, ids) if int(v.row.account_id) not in hidden]
    return views, len(ids) == limit and offset + limit < depth
