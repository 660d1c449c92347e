"""Timelines: home (precomputed by fan-out), public, hashtag, an account's posts, favourites, bookmarks."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, null, or_, select, union_all

from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.social.paging import Page
from stoa.social.relationships import blocked_between, is_following
from stoa.social.views import StatusView, mute_in_force, ordered
from stoa.store.database import Connection, Database
from stoa.store.schema import (
    accounts,
    blocks,
    bookmarks,
    favourites,
    home_feed,
    mentions,
    mutes,
    pins,
    status_tags,
    statuses,
    tags,
)

_viewer: Any = bindparam("viewer")
HIDDEN_ACCOUNTS = union_all(
    select(mutes.c.target_account_id.label("other"), mutes.c.expires_at.label("expires"))
    .where(mutes.c.account_id == _viewer),
    select(blocks.c.target_account_id, null()).where(blocks.c.account_id == _viewer),
    select(blocks.c.account_id, null()).where(blocks.c.target_account_id == _viewer),
)


@lru_cache(maxsize=8)
def _home_query(has_max: bool, has_since: bool, has_min: bool) -> Select[Any]:
    """The home timeline's id query for one combination of page bounds, built once."""
    column = home_feed.c.status_id
    query = select(column).where(home_feed.c.account_id == _viewer)
    if has_max:
        query = query.where(column < bindparam("max_id"))
    if has_since:
        query = query.where(column > bindparam("since_id"))
    if has_min:  # the oldest posts after min_id, as in Page.apply
        query = query.where(column > bindparam("min_id"))
    return query.order_by(column.asc() if has_min else column.desc()).limit(bindparam("limit"))


async def hidden_accounts(conn: Connection, viewer_id: int | None) -> set[int]:
    """Accounts whose posts the viewer must not see in timelines: muted, blocked, blocking (one query)."""
    if viewer_id is None:
        return set()
    now = datetime.now(UTC)
    return {int(row.other) for row in await conn.execute(HIDDEN_ACCOUNTS, {"viewer": viewer_id})
            if mute_in_force(row.expires, now)}


async def home_holders(db: Database, status_id: int, account_ids: set[int]) -> set[int]:
    """Which of ``account_ids`` have ``status_id`` in their home timeline (for live streams)."""
    async with db.read() as conn:
        return {int(x) for x in (await conn.execute(select(home_feed.c.account_id).where(
            home_feed.c.status_id == status_id, home_feed.c.account_id.in_(account_ids)))).scalars()}


async def home(ctx: Context, viewer_id: int, page: Page) -> list[StatusView]:
    async with ctx.db.read() as conn:
        query = _home_query(page.max_id is not None, page.since_id is not None, page.min_id is not None)
        params = {"viewer": viewer_id, "limit": page.limit}
        params.update({k: v for k, v in (("max_id", page.max_id), ("since_id", page.since_id),
                                         ("min_id", page.min_id)) if v is not None})
        ids = page.newest_first([int(x) for x in (await conn.execute(query, params)).scalars()])
        # Blocks either way are the visibility rule's; mutes hide posts and boosts from home too.
        return await ordered(conn, viewer_id, ids, hide_muted=True)


async def public(ctx: Context, viewer_id: int | None, page: Page, local: bool = False,
                 remote: bool = False) -> list[StatusView]:
    async with ctx.db.read() as conn:
        query = (select(statuses.c.id)
                 .join(accounts, accounts.c.id == statuses.c.account_id)
                 .where(statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None),
                        statuses.c.deleted_at.is_(None), accounts.c.suspended_at.is_(None)))
        if local:
            query = query.where(accounts.c.domain.is_(None))
        if remote:
            query = query.where(accounts.c.domain.is_not(None))
        hidden = await hidden_accounts(conn, viewer_id)
        if hidden:
            query = query.where(statuses.c.account_id.not_in(hidden))
        ids = page.newest_first([int(x) for x in (await conn.execute(page.apply(query, statuses.c.id))).scalars()])
        return await ordered(conn, viewer_id, ids)


async def hashtag(ctx: Context, viewer_id: int | None, name: str, page: Page, local: bool = False,
                  any_tags: list[str] | None = None) -> list[StatusView]:
    names = [name.lower(), *[t.lower() for t in any_tags or []]]
    async with ctx.db.read() as conn:
        query = (select(statuses.c.id)
                 .join(status_tags, status_tags.c.status_id == statuses.c.id)
                 .join(tags, tags.c.id == status_tags.c.tag_id)
                 .join(accounts, accounts.c.id == statuses.c.account_id)
                 .where(tags.c.name_lower.in_(names), statuses.c.visibility == "public",
                        statuses.c.deleted_at.is_(None), accounts.c.suspended_at.is_(None))
                 .distinct())
        if local:
            query = query.where(accounts.c.domain.is_(None))
        hidden = await hidden_accounts(conn, viewer_id)
        if hidden:
            query = query.where(statuses.c.account_id.not_in(hidden))
        ids = page.newest_first([int(x) for x in (await conn.execute(page.apply(query, statuses.c.id))).scalars()])
        return await ordered(conn, viewer_id, ids)


async def account_statuses(
    ctx: Context, viewer_id: int | None, account_id: int, page: Page, *, pinned: bool = False,
    exclude_replies: bool = False, exclude_reblogs: bool = False, tagged: str | None = None,
) -> list[StatusView]:
    async with ctx.db.read() as conn:
        target = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
        if target is None or target.suspended_at is not None:
            raise NotFound()
        if viewer_id is not None and viewer_id != account_id and await blocked_between(conn, viewer_id,
                                                                                         account_id):
            return []
        if pinned:
            query = (select(statuses.c.id).join(pins, pins.c.status_id == statuses.c.id)
                     .where(pins.c.account_id == account_id))
        else:
            query = select(statuses.c.id).where(statuses.c.account_id == account_id)
        query = query.where(statuses.c.deleted_at.is_(None))
        # A first cut in SQL, as Mastodon's: everything for its author; public, unlisted, followers-only
        # for a follower, and the posts that mention the viewer. The page then passes the visibility rule.
        if viewer_id != account_id:
            visible = ["public", "unlisted"]
            if viewer_id is not None and await is_following(conn, viewer_id, account_id):
                visible.append("private")
            audience: ColumnElement[bool] = statuses.c.visibility.in_(visible)
            if viewer_id is not None:
                audience = audience | statuses.c.id.in_(
                    select(mentions.c.status_id).where(mentions.c.account_id == viewer_id))
            query = query.where(audience)
        if exclude_replies:
            query = query.where(or_(statuses.c.in_reply_to_id.is_(None),
                                    statuses.c.in_reply_to_account_id == account_id))
        if exclude_reblogs:
            query = query.where(statuses.c.reblog_of_id.is_(None))
        if tagged:
            query = query.where(statuses.c.id.in_(
                select(status_tags.c.status_id).join(tags, tags.c.id == status_tags.c.tag_id)
                .where(tags.c.name_lower == tagged.lower())))
        ids = page.newest_first([int(x) for x in (await conn.execute(page.apply(query, statuses.c.id))).scalars()])
        return await ordered(conn, viewer_id, ids)


async def favourites_of(ctx: Context, viewer_id: int, page: Page) -> list[tuple[int, StatusView]]:
    """The viewer's favourites, paginated by when they were favourited (the row id)."""
    return await _marked(ctx, viewer_id, page, favourites)


async def bookmarks_of(ctx: Context, viewer_id: int, page: Page) -> list[tuple[int, StatusView]]:
    return await _marked(ctx, viewer_id, page, bookmarks)


async def _marked(ctx: Context, viewer_id: int, page: Page, table: object) -> list[tuple[int, StatusView]]:
    from sqlalchemy import Table

    assert isinstance(table, Table)
    async with ctx.db.read() as conn:
        query = page.apply(select(table.c.id, table.c.status_id).where(table.c.account_id == viewer_id),
                           table.c.id)
        rows = (await conn.execute(query)).all()
        if page.min_id is not None:
            rows = list(reversed(rows))
        loaded = {v.row.id: v for v in await ordered(conn, viewer_id, [int(r.status_id) for r in rows])}
    return [(int(r.id), loaded[r.status_id]) for r in rows if r.status_id in loaded]
