"""The demo community's bulk path builds exactly what the event consumers build.

A community is generated in bulk (rows, then projections computed in SQL); its raw rows are then
played again, in the same order, through the real actions (create the account, follow, post, reply,
boost, like) into the emptied store, and the consumers are drained. Every projection — home
timelines, notifications, counts, the search index, trending, text vectors — must come out the same,
row for row, compared by what the rows mean (usernames, the posts' order) since ids differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from stoa.core.context import Context
from stoa.demo.community import CommunitySize, generate
from stoa.social import accounts, interactions, relationships, statuses
from stoa.social.streaming import Broker, LocalHub
from stoa.store.database import Database
from stoa.store.schema import accounts as account_rows
from stoa.store.schema import (
    favourites,
    follows,
    metadata,
)
from stoa.store.schema import statuses as status_rows
from stoa.worker import consumers
from tests.helpers import assert_same_projections, projections

SMALL = CommunitySize(accounts=14, posts=90, follows_per_account=4, likes_per_post=1.5)
KEPT = {"store_identity"}  # what the store is, not what happened in it


@dataclass(frozen=True)
class History:
    """The raw rows of a community, in the order they happened."""

    people: list[Any]
    follows: list[Any]
    posts: list[Any]
    likes: list[Any]


async def history(db: Database) -> History:
    async with db.read() as conn:
        return History(
            people=(await conn.execute(select(account_rows.c.id, account_rows.c.username)
                                       .order_by(account_rows.c.id))).all(),
            follows=(await conn.execute(select(follows).order_by(follows.c.id))).all(),
            posts=(await conn.execute(select(status_rows).order_by(status_rows.c.id))).all(),
            likes=(await conn.execute(select(favourites).order_by(favourites.c.id))).all())


async def wipe(db: Database) -> None:
    async with db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in KEPT:
                await conn.execute(delete(table))


async def play_through_actions(ctx: Context, past: History, password_hash: str) -> None:
    """The same people, follows, posts and likes, each made by its domain action."""
    person: dict[int, int] = {}
    for old in past.people:
        async with ctx.db.write() as conn:
            person[int(old.id)] = await accounts.create_account(
                conn, accounts.NewAccount(old.username, f"{old.username}@demo.stoa.invalid", "stoa-demo-password"),
                default_region=ctx.home, password_hash=password_hash)
    for f in past.follows:
        await relationships.follow(ctx, person[f.account_id], person[f.target_account_id])
    post: dict[int, int] = {}
    for s in past.posts:
        author = person[s.account_id]
        if s.reblog_of_id is not None:
            post[int(s.id)] = await interactions.reblog(ctx, author, post[s.reblog_of_id])
            continue
        reply_to = None if s.in_reply_to_id is None else post[s.in_reply_to_id]
        post[int(s.id)] = await statuses.post_status(ctx, author, statuses.Draft(
            text=s.text, visibility=s.visibility, language=s.language, in_reply_to_id=reply_to))
    for like in past.likes:
        await interactions.favourite(ctx, person[like.account_id], post[like.status_id])


async def drain(ctx: Context) -> None:
    hub = LocalHub(Broker(), lambda _status, _accounts: _nobody())
    for consumer in consumers(ctx.db, hub, ctx.home):
        await consumer.drain(ctx.db)


async def _nobody() -> set[int]:
    return set()


async def test_the_bulk_path_builds_what_the_consumers_build(ctx: Context) -> None:
    password_hash = await accounts.hash_password("stoa-demo-password")
    await generate(ctx.db, SMALL, region=ctx.home, base_url=ctx.base_url, password_hash=password_hash,
                   seed=11, days=1)  # inside trending's window, as the replayed posts (made now) are
    bulk, past = await projections(ctx.db), await history(ctx.db)
    assert len(past.posts) > 60 and past.likes and any(p.reblog_of_id for p in past.posts)
    assert any(p.in_reply_to_id for p in past.posts) and bulk["notifications"] and bulk["trending"]

    await wipe(ctx.db)
    await play_through_actions(ctx, past, password_hash)
    await drain(ctx)
    replayed = await projections(ctx.db)

    assert_same_projections(replayed, bulk)
