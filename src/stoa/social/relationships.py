"""Follows, blocks and mutes between accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update

from stoa.core.context import Context
from stoa.core.errors import Forbidden, NotFound, ValidationFailed
from stoa.social.events import (
    BlockCreated,
    BlockDeleted,
    FollowCreated,
    FollowDeleted,
    FollowRequestAuthorized,
    FollowRequestCreated,
    FollowRequestRejected,
    FollowRequestWithdrawn,
    FollowUpdated,
    MuteCreated,
    MuteDeleted,
)
from stoa.social.paging import Page
from stoa.store import counters
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.schema import accounts, blocks, follow_requests, follows, mutes


@dataclass
class Relationship:
    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    requested: bool = False
    requested_by: bool = False
    domain_blocking: bool = False
    endorsed: bool = False
    note: str = ""


async def _target(conn: Connection, actor_id: int, target_id: int) -> Any:
    row = (await conn.execute(select(accounts).where(accounts.c.id == target_id))).first()
    if row is None or row.suspended_at is not None:
        raise NotFound()
    if row.id == actor_id:
        raise ValidationFailed("You cannot do this to yourself")
    return row


async def remove_follow(conn: Connection, follower: int, target: int) -> bool:
    removed = await conn.execute(
        delete(follows).where(follows.c.account_id == follower, follows.c.target_account_id == target)
    )
    if not removed.rowcount:
        return False
    await counters.shift(conn, accounts, follower, "following_count", -1)
    await counters.shift(conn, accounts, target, "followers_count", -1)
    await emit(conn, FollowDeleted(account_id=follower, target_account_id=target))
    return True


async def _accept_follow(conn: Connection, follower: int, target: int, show_reblogs: bool, notify: bool) -> None:
    await conn.execute(follows.insert().values(
        id=new_id(), account_id=follower, target_account_id=target, show_reblogs=show_reblogs, notify=notify,
        created_at=datetime.now(UTC),
    ))
    await conn.execute(update(accounts).where(accounts.c.id == follower)
                       .values(following_count=accounts.c.following_count + 1))
    await conn.execute(update(accounts).where(accounts.c.id == target)
                       .values(followers_count=accounts.c.followers_count + 1))
    await emit(conn, FollowCreated(account_id=follower, target_account_id=target))


async def follow(
    ctx: Context, actor_id: int, target_id: int, reblogs: bool | None = None, notify: bool | None = None
) -> None:
    """Follow someone; a locked account gets a follow request to approve instead."""
    db = ctx.db
    async with db.write() as conn:
        target = await _target(conn, actor_id, target_id)
        blocked = (await conn.execute(select(func.count()).select_from(blocks).where(
            ((blocks.c.account_id == actor_id) & (blocks.c.target_account_id == target_id))
            | ((blocks.c.account_id == target_id) & (blocks.c.target_account_id == actor_id))
        ))).scalar_one()
        if blocked:
            raise Forbidden("This action is not allowed")
        existing = (await conn.execute(select(follows).where(
            follows.c.account_id == actor_id, follows.c.target_account_id == target_id))).first()
        show_reblogs = True if reblogs is None else reblogs
        if existing is not None:
            await _change_follow(conn, existing, reblogs, notify)
        elif target.locked:  # answered in the target's home region (replication carries it there and back)
            inserted = await conn.execute(db.insert_ignore(follow_requests).values(
                id=new_id(), account_id=actor_id, target_account_id=target_id, show_reblogs=show_reblogs,
                notify=bool(notify), created_at=datetime.now(UTC)))
            if inserted.rowcount:
                await emit(conn, FollowRequestCreated(account_id=actor_id, target_account_id=target_id))
        else:
            await _accept_follow(conn, actor_id, target_id, show_reblogs, bool(notify))
    db.wake()


async def _change_follow(conn: Connection, existing: Any, reblogs: bool | None, notify: bool | None) -> None:
    """Following again with options: the options given change, the others stay."""
    show_reblogs = existing.show_reblogs if reblogs is None else reblogs
    notifies = existing.notify if notify is None else notify
    if (show_reblogs, notifies) != (existing.show_reblogs, existing.notify):
        await conn.execute(update(follows).where(follows.c.id == existing.id).values(
            show_reblogs=show_reblogs, notify=notifies))
        await emit(conn, FollowUpdated(account_id=existing.account_id, target_account_id=existing.target_account_id,
                                       show_reblogs=show_reblogs, notify=notifies))


async def answer_follow_request(ctx: Context, target_id: int, requester_id: int, accept: bool) -> None:
    """The locked account accepts or rejects a pending request (404 if there is none)."""
    db = ctx.db
    async with db.write() as conn:
        request = (await conn.execute(select(follow_requests).where(
            follow_requests.c.account_id == requester_id,
            follow_requests.c.target_account_id == target_id))).first()
        if request is None:
            raise NotFound()
        await conn.execute(delete(follow_requests).where(follow_requests.c.id == request.id))
        if accept:
            await _accept_follow(conn, requester_id, target_id, request.show_reblogs, request.notify)
        await emit(conn, FollowRequestAuthorized(account_id=requester_id, target_account_id=target_id) if accept
                   else FollowRequestRejected(account_id=requester_id, target_account_id=target_id))
    db.wake()


async def list_follow_requests(ctx: Context, target_id: int, page: Page) -> list[tuple[int, int]]:
    """(request id, requester id) pairs awaiting an answer, newest first."""
    query = select(follow_requests.c.id, follow_requests.c.account_id).where(
        follow_requests.c.target_account_id == target_id)
    async with ctx.db.read() as conn:
        return await page.pairs(conn, query, follow_requests.c.id)


async def unfollow(ctx: Context, actor_id: int, target_id: int) -> None:
    """Stop following, or withdraw a pending follow request."""
    db = ctx.db
    async with db.write() as conn:
        await _target(conn, actor_id, target_id)
        await remove_follow(conn, actor_id, target_id)
        await _withdraw_request(conn, actor_id, target_id)
    db.wake()


async def _withdraw_request(conn: Connection, requester: int, target: int) -> None:
    withdrawn = await conn.execute(delete(follow_requests).where(
        follow_requests.c.account_id == requester, follow_requests.c.target_account_id == target))
    if withdrawn.rowcount:
        await emit(conn, FollowRequestWithdrawn(account_id=requester, target_account_id=target))


async def remove_follower(ctx: Context, actor_id: int, follower_id: int) -> None:
    db = ctx.db
    async with db.write() as conn:
        await _target(conn, actor_id, follower_id)
        await remove_follow(conn, follower_id, actor_id)
    db.wake()


async def block(ctx: Context, actor_id: int, target_id: int) -> None:
    """Blocking also removes follows both ways, as in Mastodon."""
    db = ctx.db
    async with db.write() as conn:
        await _target(conn, actor_id, target_id)
        await remove_follow(conn, actor_id, target_id)
        await remove_follow(conn, target_id, actor_id)
        await _withdraw_request(conn, actor_id, target_id)
        refused = await conn.execute(delete(follow_requests).where(  # blocking someone who asked: a refusal
            follow_requests.c.account_id == target_id, follow_requests.c.target_account_id == actor_id))
        if refused.rowcount:
            await emit(conn, FollowRequestRejected(account_id=target_id, target_account_id=actor_id))
        inserted = await conn.execute(db.insert_ignore(blocks).values(
            id=new_id(), account_id=actor_id, target_account_id=target_id, created_at=datetime.now(UTC)))
        if inserted.rowcount:
            await emit(conn, BlockCreated(account_id=actor_id, target_account_id=target_id))
    db.wake()


async def unblock(ctx: Context, actor_id: int, target_id: int) -> None:
    async with ctx.db.write() as conn:
        await _target(conn, actor_id, target_id)
        removed = await conn.execute(delete(blocks).where(blocks.c.account_id == actor_id,
                                                          blocks.c.target_account_id == target_id))
        if removed.rowcount:
            await emit(conn, BlockDeleted(account_id=actor_id, target_account_id=target_id))
    ctx.db.wake()


async def mute(ctx: Context, actor_id: int, target_id: int, notifications: bool = True,
               duration_seconds: int = 0) -> None:
    db = ctx.db
    async with db.write() as conn:
        await _target(conn, actor_id, target_id)
        expires = None
        if duration_seconds and duration_seconds > 0:
            from datetime import timedelta
            expires = datetime.now(UTC) + timedelta(seconds=duration_seconds)
        await conn.execute(db.upsert(mutes, ["account_id", "target_account_id"], {
            "id": new_id(), "account_id": actor_id, "target_account_id": target_id,
            "hide_notifications": notifications, "expires_at": expires, "created_at": datetime.now(UTC),
        }))
        await emit(conn, MuteCreated(account_id=actor_id, target_account_id=target_id))
    db.wake()


async def unmute(ctx: Context, actor_id: int, target_id: int) -> None:
    async with ctx.db.write() as conn:
        await _target(conn, actor_id, target_id)
        removed = await conn.execute(delete(mutes).where(mutes.c.account_id == actor_id,
                                                         mutes.c.target_account_id == target_id))
        if removed.rowcount:
            await emit(conn, MuteDeleted(account_id=actor_id, target_account_id=target_id))
    ctx.db.wake()


async def relationships(conn: Connection, viewer_id: int, ids: list[int]) -> list[Relationship]:
    if not ids:
        return []
    out = {i: Relationship(id=i) for i in ids}
    for row in await conn.execute(select(follows).where(
            follows.c.account_id == viewer_id, follows.c.target_account_id.in_(ids))):
        rel = out[row.target_account_id]
        rel.following, rel.showing_reblogs, rel.notifying = True, row.show_reblogs, row.notify
    for row in await conn.execute(select(follows.c.account_id).where(
            follows.c.target_account_id == viewer_id, follows.c.account_id.in_(ids))):
        out[row.account_id].followed_by = True
    for row in await conn.execute(select(follow_requests.c.target_account_id).where(
            follow_requests.c.account_id == viewer_id, follow_requests.c.target_account_id.in_(ids))):
        out[row.target_account_id].requested = True
    for row in await conn.execute(select(follow_requests.c.account_id).where(
            follow_requests.c.target_account_id == viewer_id, follow_requests.c.account_id.in_(ids))):
        out[row.account_id].requested_by = True
    for row in await conn.execute(select(blocks.c.target_account_id).where(
            blocks.c.account_id == viewer_id, blocks.c.target_account_id.in_(ids))):
        out[row.target_account_id].blocking = True
    for row in await conn.execute(select(blocks.c.account_id).where(
            blocks.c.target_account_id == viewer_id, blocks.c.account_id.in_(ids))):
        out[row.account_id].blocked_by = True
    now = datetime.now(UTC)
    for row in await conn.execute(select(mutes).where(
            mutes.c.account_id == viewer_id, mutes.c.target_account_id.in_(ids))):
        expires = row.expires_at
        if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) < now:
            continue
        rel = out[row.target_account_id]
        rel.muting, rel.muting_notifications = True, row.hide_notifications
    return [out[i] for i in ids]


async def list_follows(ctx: Context, account_id: int, direction: str, page: Page) -> list[tuple[int, int]]:
    """(follow row id, account id) pairs: followers or following of an account, newest first."""
    async with ctx.db.read() as conn:
        target = (await conn.execute(select(accounts.c.id, accounts.c.suspended_at)
                                     .where(accounts.c.id == account_id))).first()
        if target is None or target.suspended_at is not None:
            raise NotFound()
        if direction == "followers":
            other = follows.c.account_id
            query = select(follows.c.id, other.label("other")).where(follows.c.target_account_id == account_id)
        else:
            other = follows.c.target_account_id
            query = select(follows.c.id, other.label("other")).where(follows.c.account_id == account_id)
        return await page.pairs(conn, query, follows.c.id)


async def list_blocks_or_mutes(ctx: Context, account_id: int, kind: str, page: Page) -> list[tuple[int, int]]:
    table = blocks if kind == "blocks" else mutes
    query = select(table.c.id, table.c.target_account_id).where(table.c.account_id == account_id)
    async with ctx.db.read() as conn:
        return await page.pairs(conn, query, table.c.id)


async def count_follow_requests(conn: Connection, target_id: int) -> int:
    return int((await conn.execute(select(func.count()).select_from(follow_requests).where(
        follow_requests.c.target_account_id == target_id))).scalar_one())


async def relationships_of(ctx: Context, viewer_id: int, ids: list[int]) -> list[Relationship]:
    """The viewer's relationship with each account in ``ids`` (asked-for order, duplicates dropped)."""
    async with ctx.db.read() as conn:
        return await relationships(conn, viewer_id, list(dict.fromkeys(ids)))


async def relationship_with(ctx: Context, viewer_id: int, target_id: int) -> Relationship:
    return (await relationships_of(ctx, viewer_id, [target_id]))[0]


async def blocked_between(conn: Connection, a: int, b: int) -> bool:
    query = select(
        exists().where(
            ((blocks.c.account_id == a) & (blocks.c.target_account_id == b))
            | ((blocks.c.account_id == b) & (blocks.c.target_account_id == a))
        )
    )
    return bool((await conn.execute(query)).scalar())


async def is_following(conn: Connection, follower: int, target: int) -> bool:
    query = select(
        exists().where((follows.c.account_id == follower) & (follows.c.target_account_id == target))
    )
    return bool((await conn.execute(query)).scalar())
