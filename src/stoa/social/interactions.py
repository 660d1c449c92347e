"""What people do with a post: boost it, like it, bookmark it, pin it — and undo each.

Each action runs in one write transaction and ends with its event; a post the actor may not see is
not found, as one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, func, select, update

from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.social.events import (
    BookmarkCreated,
    BookmarkDeleted,
    FavouriteCreated,
    FavouriteDeleted,
    PinCreated,
    PinDeleted,
    StatusCreated,
    StatusDeleted,
)
from stoa.social.statuses import MAX_PINS, _now, adjust_count, tombstone
from stoa.social.visibility import get_visible
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.schema import (
    accounts,
    bookmarks,
    favourites,
    home_feed,
    pins,
    statuses,
)


async def reblog(ctx: Context, actor_id: int, status_id: int, visibility: str | None = None) -> int:
    """Boost a post (boosting twice is a no-op); returns the boost's own id."""
    db = ctx.db
    async with db.write() as conn:
        original = await get_visible(conn, actor_id, status_id)
        if original.reblog_of_id is not None:
            original = await get_visible(conn, actor_id, original.reblog_of_id)
        if original.visibility == "direct" or (
            original.visibility == "private" and original.account_id != actor_id
        ):
            raise ValidationFailed("This post cannot be boosted")
        existing = (
            await conn.execute(
                select(statuses.c.id).where(
                    statuses.c.reblog_of_id == original.id,
                    statuses.c.account_id == actor_id,
                    statuses.c.deleted_at.is_(None),
                )
            )
        ).scalar()
        if existing is not None:
            return int(existing)
        # A followers-only post stays followers-only when its author boosts it (as in Mastodon).
        if original.visibility == "private":
            vis = "private"
        else:
            vis = visibility if visibility in ("public", "unlisted", "private") else "public"
        reblog_id = new_id()
        now = _now()
        await conn.execute(statuses.insert().values(
            id=reblog_id, account_id=actor_id, text="", content="", spoiler_text="", sensitive=False,
            visibility=vis, reblog_of_id=original.id, conversation_id=original.conversation_id, created_at=now,
        ))
        await adjust_count(conn, original.id, "reblogs_count", 1)
        await conn.execute(update(accounts).where(accounts.c.id == actor_id)
                           .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=now))
        await conn.execute(
            db.insert_ignore(home_feed).values(account_id=actor_id, status_id=reblog_id, author_id=actor_id)
        )
        await emit(conn, StatusCreated(status_id=reblog_id, account_id=actor_id, visibility=vis,
                                       reblog_of_id=int(original.id), reblog_of_account_id=int(original.account_id),
                                       language=original.language))
    db.wake()
    return reblog_id


async def unreblog(ctx: Context, actor_id: int, status_id: int) -> int:
    db = ctx.db
    async with db.write() as conn:
        original = await get_visible(conn, actor_id, status_id)
        if original.reblog_of_id is not None:
            original = await get_visible(conn, actor_id, original.reblog_of_id)
        row = (
            await conn.execute(select(statuses).where(
                statuses.c.reblog_of_id == original.id, statuses.c.account_id == actor_id,
                statuses.c.deleted_at.is_(None)))
        ).first()
        if row is not None:
            await tombstone(conn, row)
            await emit(conn, StatusDeleted(status_id=int(row.id), account_id=actor_id, visibility=row.visibility,
                                           reblog_of_id=int(original.id)))
    db.wake()
    return int(original.id)


async def favourite(ctx: Context, actor_id: int, status_id: int) -> int:
    db = ctx.db
    async with db.write() as conn:
        row = await get_visible(conn, actor_id, status_id)
        target = await get_visible(conn, actor_id, row.reblog_of_id) if row.reblog_of_id else row
        inserted = await conn.execute(
            db.insert_ignore(favourites).values(
                id=new_id(), account_id=actor_id, status_id=target.id, created_at=_now())
        )
        if inserted.rowcount:
            await adjust_count(conn, target.id, "favourites_count", 1)
            await emit(conn, FavouriteCreated(account_id=actor_id, status_id=int(target.id),
                                              status_account_id=int(target.account_id)))
    db.wake()
    return int(target.id)


async def unfavourite(ctx: Context, actor_id: int, status_id: int) -> int:
    db = ctx.db
    async with db.write() as conn:
        row = await get_visible(conn, actor_id, status_id)
        target_id = row.reblog_of_id or row.id
        author_id = row.account_id if row.reblog_of_id is None else (await conn.execute(
            select(statuses.c.account_id).where(statuses.c.id == target_id))).scalar_one()
        removed = await conn.execute(
            delete(favourites).where(favourites.c.account_id == actor_id, favourites.c.status_id == target_id)
        )
        if removed.rowcount:
            await adjust_count(conn, target_id, "favourites_count", -1)
            await emit(conn, FavouriteDeleted(account_id=actor_id, status_id=int(target_id),
                                              status_account_id=int(author_id)))
    db.wake()
    return int(target_id)


async def set_bookmark(ctx: Context, actor_id: int, status_id: int, on: bool) -> int:
    db = ctx.db
    async with db.write() as conn:
        row = await get_visible(conn, actor_id, status_id)
        target_id = int(row.reblog_of_id or row.id)
        if on:
            added = await conn.execute(db.insert_ignore(bookmarks).values(
                id=new_id(), account_id=actor_id, status_id=target_id, created_at=_now()))
            if added.rowcount:
                await emit(conn, BookmarkCreated(account_id=actor_id, status_id=target_id))
        else:
            removed = await conn.execute(delete(bookmarks).where(
                bookmarks.c.account_id == actor_id, bookmarks.c.status_id == target_id))
            if removed.rowcount:
                await emit(conn, BookmarkDeleted(account_id=actor_id, status_id=target_id))
    return target_id


async def set_pin(ctx: Context, actor_id: int, status_id: int, on: bool) -> int:
    db = ctx.db
    async with db.write() as conn:
        row = await get_visible(conn, actor_id, status_id)
        if row.account_id != actor_id or row.reblog_of_id is not None:
            raise ValidationFailed("You can only pin your own posts")
        if on:
            if row.visibility in ("private", "direct"):
                raise ValidationFailed("Private and direct posts cannot be pinned")
            count = (await conn.execute(
                select(func.count()).select_from(pins).where(pins.c.account_id == actor_id))).scalar_one()
            already = (await conn.execute(select(exists().where(
                and_(pins.c.account_id == actor_id, pins.c.status_id == row.id))))).scalar()
            if not already and count >= MAX_PINS:
                raise ValidationFailed(f"You can pin at most {MAX_PINS} posts")
            pinned = await conn.execute(db.insert_ignore(pins).values(
                account_id=actor_id, status_id=row.id, created_at=_now()))
            if pinned.rowcount:
                await emit(conn, PinCreated(account_id=actor_id, status_id=int(row.id)))
        else:
            unpinned = await conn.execute(delete(pins).where(pins.c.account_id == actor_id,
                                                             pins.c.status_id == row.id))
            if unpinned.rowcount:
                await emit(conn, PinDeleted(account_id=actor_id, status_id=int(row.id)))
    db.wake()
    return int(row.id)
