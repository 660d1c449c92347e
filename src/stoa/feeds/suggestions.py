"""Whom to follow: the accounts Mastodon apps offer a newcomer at sign-up (``GET /api/v2/suggestions``).

A new account's For You starts from trending in its languages and from whatever it follows, so the
first follows matter. Three sources, in this order, each named in the answer as Mastodon does:

* ``friends_of_friends`` — accounts followed by the most of the people the viewer follows;
* ``most_interactions`` — the authors of the posts trending in the viewer's languages (the same
  ``trending_posts`` For You reads), so a newcomer is offered people who write in their language;
* ``most_followed`` — the accounts with the most followers.

Never suggested: the viewer, accounts they follow or asked to follow, accounts hidden from them
(muted, blocked, blocking), suspended or non-discoverable accounts, and accounts they dismissed
(``DELETE /api/v1/suggestions/:id``, stored as a private feed preference in their home region).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.feeds import trending
from stoa.feeds.events import SuggestionDismissed
from stoa.social.timelines import hidden_accounts
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.schema import accounts, feed_preferences, follow_requests, follows, statuses

MAX_LIMIT = 80
FRIENDS_SAMPLE = 200  # the viewer's newest follows read for friends of friends
DISMISSED = "no_suggest"  # feed_preferences kind


@dataclass
class Suggestion:
    account_id: int
    sources: list[str] = field(default_factory=list)


async def suggestions(ctx: Context, viewer_id: int, limit: int) -> list[Suggestion]:
    limit = max(1, min(limit, MAX_LIMIT))
    async with ctx.db.read() as conn:
        excluded = await _excluded(conn, viewer_id)
        found: dict[int, Suggestion] = {}

        def offer(ids: list[int], source: str) -> None:
            for account_id in ids:
                if account_id not in excluded:
                    found.setdefault(account_id, Suggestion(account_id)).sources.append(source)

        offer(await _friends_of_friends(conn, viewer_id, limit * 2), "friends_of_friends")
        if len(found) < limit:
            offer(await _trending_authors(conn, viewer_id, limit * 2), "most_interactions")
        if len(found) < limit:
            offer(await _most_followed(conn, limit + len(excluded)), "most_followed")
        if not found:
            return []
        eligible = set((await conn.execute(select(accounts.c.id).where(
            accounts.c.id.in_(list(found)), accounts.c.suspended_at.is_(None),
            accounts.c.discoverable.is_(True)))).scalars())
    return [s for s in found.values() if s.account_id in eligible][:limit]


async def dismiss(ctx: Context, viewer_id: int, account_id: int) -> None:
    """Never suggest this account to the viewer again."""
    async with ctx.db.write() as conn:
        if not (await conn.execute(select(func.count()).select_from(accounts).where(
                accounts.c.id == account_id))).scalar_one():
            raise NotFound()
        dismissed = await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
            id=new_id(), account_id=viewer_id, kind=DISMISSED, value=str(account_id), created_at=datetime.now(UTC)))
        if dismissed.rowcount:
            await emit(conn, SuggestionDismissed(account_id=viewer_id, target_account_id=account_id))


async def _excluded(conn: Connection, viewer_id: int) -> set[int]:
    followed = select(follows.c.target_account_id).where(follows.c.account_id == viewer_id)
    requested = select(follow_requests.c.target_account_id).where(follow_requests.c.account_id == viewer_id)
    dismissed = {int(v) for v in (await conn.execute(select(feed_preferences.c.value).where(
        feed_preferences.c.account_id == viewer_id, feed_preferences.c.kind == DISMISSED))).scalars()}
    return ({viewer_id} | {int(x) for x in (await conn.execute(followed.union(requested))).scalars()}
            | dismissed | await hidden_accounts(conn, viewer_id))


async def _friends_of_friends(conn: Connection, viewer_id: int, limit: int) -> list[int]:
    friends = [int(x) for x in (await conn.execute(
        select(follows.c.target_account_id).where(follows.c.account_id == viewer_id)
        .order_by(follows.c.id.desc()).limit(FRIENDS_SAMPLE))).scalars()]
    if not friends:
        return []
    by = func.count()
    rows = await conn.execute(select(follows.c.target_account_id).where(follows.c.account_id.in_(friends))
                              .group_by(follows.c.target_account_id)
                              .order_by(by.desc(), follows.c.target_account_id).limit(limit + len(friends) + 1))
    return [int(x) for x in rows.scalars()]


async def _trending_authors(conn: Connection, viewer_id: int, limit: int) -> list[int]:
    posts = await trending.top(conn, await trending.languages_of(conn, viewer_id) or {"en"}, limit * 3)
    if not posts:
        return []
    author_of = {int(r.id): int(r.account_id) for r in await conn.execute(
        select(statuses.c.id, statuses.c.account_id).where(statuses.c.id.in_(posts)))}
    ordered: list[int] = []
    for post in posts:  # best first, each author once
        author = author_of.get(post)
        if author is not None and author not in ordered:
            ordered.append(author)
    return ordered


async def _most_followed(conn: Connection, limit: int) -> list[int]:
    return [int(x) for x in (await conn.execute(
        select(accounts.c.id).where(accounts.c.suspended_at.is_(None), accounts.c.discoverable.is_(True),
                                    accounts.c.followers_count > 0)
        .order_by(accounts.c.followers_count.desc(), accounts.c.id).limit(limit))).scalars()]
